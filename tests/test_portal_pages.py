"""The signed-in patient's pages: only their own records, the course's next session booked inside
its window and 14 days ahead, moves and cancellations within the clinic's policy, the audit trail
with the patient as actor, and a fixed number of queries."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.errors import BookingConflict, Conflict
from clinical.models import SunExposure
from clinical.services.sun_exposure import sun_exposure_record
from outbox.emails import build_message
from outbox.links import link_path, make_token
from outbox.models import Notification
from portal.forms import patient_message, slot_value
from scheduling.models import Appointment
from scheduling.services import appointment_book
from tests.conftest import book_treatment, local
from tests.factories import PatientFactory, PractitionerFactory, TreatmentCourseFactory, WorkingHoursFactory, area
from tests.portal import completed_session, sign_in
from tests.test_permissions import PORTAL
from waitlist.services.entries import waitlist_join

pytestmark = pytest.mark.django_db
HOME = reverse("portal:home")


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def ada(clinic, frozen):
    """Ada, signed in, with one done session on 1 February: her next is due 15 to 29 March."""
    completed_session(clinic)
    return clinic.patient


@pytest.fixture
def signed_in(client, ada):
    sign_in(client, ada)
    return client


def offered(response):
    return [slot for _, slot in response.context["slots"]]


def test_the_home_page_shows_visits_with_their_prep_the_course_progress_and_the_emails(signed_in, clinic):
    upcoming = book_treatment(clinic, local(22, 10))  # the next session, inside its window
    Notification.objects.create(patient=clinic.patient, appointment=upcoming, kind="confirmation", key="k1",
                                appointment_version=upcoming.version, due_at=timezone.now(), status="sent",
                                sent_at=timezone.now())  # fmt: skip
    page = signed_in.get(HOME)
    text = page.content.decode()
    assert "Monday 22 March 2027, 10:00" in text and "Tattoo removal, session 2 of" in text
    assert "from <strong>Monday 8 March</strong> (14 days before)" in text  # the prep window
    assert clinic.course.condition.prep_text[:40] in text
    assert "1 of" in text and "sessions done" in text
    assert "Your next visit on" not in text and "Your laser treatment on Monday 22 March at 10:00 is booked" in text
    assert "Monday 1 February 2027" in text  # the past visit


def test_every_patient_url_answers_404_for_another_patients_records(signed_in, clinic):
    other = TreatmentCourseFactory(approved=True, patient=PatientFactory(), areas=[area()])
    completed_session(clinic, patient=other.patient, course=other, start=local(1, 12, month=2))
    theirs = book_treatment(clinic, local(23, 10), patient=other.patient, course=other)
    their_trip = sun_exposure_record(patient=other.patient, first_day=date(2027, 5, 1), last_day=date(2027, 5, 8),
                                     what="Beach")  # fmt: skip
    their_wait = waitlist_join(patient=other.patient, wants="consultation", earliest_date=date(2027, 4, 1),
                               latest_date=date(2027, 4, 30))  # fmt: skip
    with_ids = {
        "portal:sun_exposure_cancel": {"exposure_id": their_trip.pk},
        "portal:waitlist_cancel": {"entry_id": their_wait.pk},
        "portal:visit": {"appointment_id": theirs.pk},
        "portal:move": {"appointment_id": theirs.pk},
        "portal:cancel": {"appointment_id": theirs.pk},
        "portal:ask_to_cancel": {"appointment_id": theirs.pk},
        "portal:book_next": {"course_id": other.pk},
    }
    without_ids = {
        "portal:home",
        "portal:sign_in",
        "portal:sign_in_link",
        "portal:sign_out",
        "portal:sun_exposure",
        "portal:waitlist",
        "portal:consent",  # a text's id is posted, and only the patient's own unsigned texts are signed
        "portal:photo_consent_withdraw",
    }
    assert set(with_ids) | without_ids == PORTAL  # a new patient URL with an id is tried here too
    for name, kwargs in with_ids.items():
        url = reverse(name, kwargs=kwargs)
        assert signed_in.get(url).status_code in (404, 405), name
        assert signed_in.post(url, {"slot": "1-1-1-1", "avoid_sun": "on"}).status_code == 404, name
    theirs.refresh_from_db()
    assert (theirs.status, theirs.start, theirs.cancel_requested_at) == ("booked", local(23, 10), None)
    assert SunExposure.objects.filter(pk=their_trip.pk).exists()
    their_wait.refresh_from_db()
    assert their_wait.status == "waiting"


def test_the_patient_pages_need_a_patient_session(client, ada, receptionist):
    client.force_login(receptionist)  # staff are not patients either
    for name, kwargs in (("portal:home", {}), ("portal:visit", {"appointment_id": 1}),
                         ("portal:book_next", {"course_id": ada.pk})):  # fmt: skip
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302 and response["Location"] == reverse("portal:sign_in")


def test_booking_the_next_session_offers_only_its_window_from_14_days_ahead_usual_practitioner_first(signed_in, clinic):
    other = PractitionerFactory()
    for weekday in range(5):
        WorkingHoursFactory(practitioner=other, weekday=weekday, start_time="08:00", end_time="18:00")
    page = signed_in.get(reverse("portal:book_next", args=[clinic.course.pk]))
    slots = offered(page)
    assert slots and all(local(15, 0) <= slot.start < local(30, 0) for slot in slots)
    assert all(slot.start >= timezone.now() + timedelta(days=14) and not slot.short_prep for slot in slots)
    usual = [slot.practitioner == clinic.practitioner for slot in slots]
    assert usual[0] and other in [slot.practitioner for slot in slots] and usual == sorted(usual, reverse=True)
    assert "14 days without sun" in page.content.decode()


def test_booking_needs_the_sun_promise_and_books_through_the_service_with_the_patient_as_actor(signed_in, clinic):
    url = reverse("portal:book_next", args=[clinic.course.pk])
    first = offered(signed_in.get(url))[0]
    refused = signed_in.post(url, {"slot": slot_value(first)})
    assert refused.status_code == 400 and b"avoid the sun and tanning beds" in refused.content
    assert not Appointment.objects.filter(start=first.start).exists()
    booked = signed_in.post(url, {"slot": slot_value(first), "avoid_sun": "on"})
    appointment = Appointment.objects.get(start=first.start)
    assert booked["Location"] == reverse("portal:visit", args=[appointment.pk])
    assert (appointment.patient, appointment.course, appointment.booked_by) == (
        clinic.patient, clinic.course, clinic.patient.user,
    )  # fmt: skip
    assert appointment.short_prep_acknowledged_at is None and "no sun or tanning beds" in appointment.notes
    entry = LogEntry.objects.get_for_object(appointment).get(action=LogEntry.Action.CREATE)
    assert entry.actor == clinic.patient.user
    assert Notification.objects.filter(appointment=appointment, kind="confirmation").exists()
    # The next session is booked now: nothing more to book online.
    assert signed_in.get(url).context["plan"] is None


def test_a_time_outside_the_offer_or_taken_meanwhile_is_refused_with_a_clear_message(signed_in, clinic):
    url = reverse("portal:book_next", args=[clinic.course.pk])
    slot = offered(signed_in.get(url))[0]
    too_soon = slot._replace(start=local(8, 10), end=local(8, 10) + (slot.end - slot.start))  # in 7 days
    answer = signed_in.post(url, {"slot": slot_value(too_soon), "avoid_sun": "on"})
    assert answer.status_code == 400 and b"no longer offered" in answer.content
    appointment_book(patient=PatientFactory(), kind="consultation", start=slot.start,
                     practitioner=slot.practitioner, room=slot.room)  # fmt: skip
    answer = signed_in.post(url, {"slot": slot_value(slot), "avoid_sun": "on"})
    assert answer.status_code == 400 and b"no longer offered" in answer.content
    assert patient_message(BookingConflict([Conflict("room", 1)])) == (
        "Someone has just booked that time. Please choose another."
    )
    assert "another visit" in patient_message(BookingConflict([Conflict("patient", 1)]))


def test_a_window_closing_within_the_prep_time_is_not_booked_online_and_says_why(client, clinic, frozen):
    completed_session(clinic, start=local(1, 10, month=2) - timedelta(days=15))  # window: 28 Feb to 14 March
    sign_in(client, clinic.patient)
    page = client.get(reverse("portal:book_next", args=[clinic.course.pk]))
    text = page.content.decode()
    assert offered(page) == [] and "14 days of sun-free preparation" in text and "020 7946 0000" in text


def test_moving_a_session_stays_in_its_window_and_14_days_ahead_up_to_the_move_limit(signed_in, clinic, settings):
    settings.PORTAL_MAX_MOVES = 2
    visit = book_treatment(clinic, local(16, 10))
    url = reverse("portal:move", args=[visit.pk])
    for round_ in range(2):
        slots = offered(signed_in.get(url))
        assert slots and all(local(15, 0) <= s.start < local(30, 0) and not s.short_prep for s in slots)
        target = slots[-1]
        assert signed_in.post(url, {"slot": slot_value(target)})["Location"] == reverse("portal:visit", args=[visit.pk])
        visit.refresh_from_db()
        assert visit.start == target.start and visit.version == 2 + round_
    page = signed_in.get(url)
    assert "can be moved online 2 times" in page.content.decode() and offered(page) == []
    assert signed_in.post(url, {"slot": slot_value(slots[0])}).status_code == 200
    visit.refresh_from_db()
    assert visit.version == 3
    moves = LogEntry.objects.get_for_object(visit).filter(action=LogEntry.Action.UPDATE, actor=clinic.patient.user)
    assert sum("start" in entry.changes_dict for entry in moves) == 2


def test_inside_the_notice_period_the_page_offers_the_request_to_cancel_and_the_phone(signed_in, clinic):
    soon = appointment_book(patient=clinic.patient, kind="consultation", start=local(2, 10),
                            practitioner=clinic.practitioner, room=clinic.room)  # fmt: skip
    page = signed_in.get(reverse("portal:visit", args=[soon.pk])).content.decode()
    assert "up to 48 hours before" in page and "Ask to cancel" in page and "020 7946 0000" in page
    assert "Move this visit" not in page
    signed_in.post(reverse("portal:cancel", args=[soon.pk]))
    soon.refresh_from_db()
    assert soon.status == "booked"
    assert signed_in.post(reverse("portal:move", args=[soon.pk]), {"slot": "1-1-1-1"}).status_code == 200
    signed_in.post(reverse("portal:ask_to_cancel", args=[soon.pk]))
    soon.refresh_from_db()
    assert soon.status == "booked" and soon.cancel_requested_at is not None


def test_cancelling_within_the_policy_cancels_through_the_service(signed_in, clinic):
    visit = book_treatment(clinic, local(22, 10))
    signed_in.post(reverse("portal:cancel", args=[visit.pk]))
    visit.refresh_from_db()
    assert visit.status == "cancelled"
    entry = LogEntry.objects.get_for_object(visit).filter(action=LogEntry.Action.UPDATE).latest("pk")
    assert entry.actor == clinic.patient.user and "status" in entry.changes_dict


def test_the_home_page_reads_a_fixed_number_of_queries(signed_in, clinic):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert signed_in.get(HOME).status_code == 200
        return len(captured)

    def one_more(week):
        visit = book_treatment(clinic, local(15, 10) + timedelta(days=42 * week), check_spacing=False)
        Notification.objects.create(patient=clinic.patient, appointment=visit, kind="confirmation", key=f"n{week}",
                                    appointment_version=1, due_at=timezone.now(), status="sent",
                                    sent_at=timezone.now())  # fmt: skip

    one_more(0)  # one of each: an upcoming visit, a past one, a course, an email
    few = queries()
    for week in range(1, 4):
        one_more(week)
    TreatmentCourseFactory(approved=True, patient=clinic.patient, areas=[area()])
    assert queries() == few


@pytest.mark.parametrize("kind", ["confirmation", "prep_reminder", "day_before", "rescheduled", "cancelled"])
def test_every_patient_email_links_to_the_sign_in_page_naming_nobody(clinic, frozen, kind):
    visit = book_treatment(clinic, local(22, 10))
    row = Notification.objects.create(patient=clinic.patient, appointment=visit, kind=kind, key=f"x.{kind}",
                                      appointment_version=visit.version, due_at=timezone.now())  # fmt: skip
    message = build_message(row)
    portal = "http://127.0.0.1:8000/me/sign-in/"
    assert reverse("portal:sign_in") == "/me/sign-in/"  # no address or id in it
    assert f"Manage your visits online: {portal}\n" in message.body
    assert f'href="{portal}"' in message.alternatives[0][0]


def test_the_email_link_pages_lead_into_the_patient_pages(client, clinic, frozen):
    visit = book_treatment(clinic, local(22, 10))
    for purpose in ("confirm", "cancel", "prep"):
        page = client.get(link_path(purpose, make_token(purpose, appointment=visit)))
        assert page.status_code == 200 and b'href="/me/sign-in/"' in page.content, purpose
