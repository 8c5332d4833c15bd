"""The skin two days after a treatment: when its email is planned and when it is no longer wanted,
the answer page behind its signed links (a GET records nothing), the service's rules, and the
dermatologists' queue (the worst first, then the sessions with no answer)."""

import email
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from auditlog.models import LogEntry
from django.core import signing
from django.test import Client
from django.utils import timezone

from aftercare.links import answer_token
from aftercare.models import SkinCheck
from aftercare.selectors import answers_to_see, unanswered
from aftercare.services import skin_check_answer, skin_check_handle
from clinic.errors import SchedulingError
from outbox import sending as outbox
from outbox.emails import build_message
from outbox.models import Notification
from outbox.planning import plan_for_completion
from records.privacy import patient_erase, patient_export
from scheduling.models import Appointment
from scheduling.services import appointment_check_in, appointment_complete
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, PatientFactory, SessionRecordFactory

pytestmark = pytest.mark.django_db
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.5", spot_size_mm="4.0", pulses=900, skin_reaction="mild_erythema")
K = Notification.Kind
A = SkinCheck.Answer


def complete(clinic, start, time_machine):
    """A treatment booked, checked in and completed through the services at `start`, 40 minutes in."""
    time_machine.move_to(start - timedelta(hours=2), tick=False)
    session = book_treatment(clinic, start)
    time_machine.move_to(start + timedelta(minutes=40), tick=False)
    appointment_check_in(appointment=session)
    return appointment_complete(appointment=session, record=dict(RECORD))


def skin_row(appointment):
    return Notification.objects.get(appointment=appointment, kind=K.SKIN_CHECK)


def completed_visit(clinic, start, patient=None):
    """A completed treatment made directly (for the queue's tests, many at once)."""
    visit = AppointmentFactory(
        kind="treatment", patient=patient or PatientFactory(), course=clinic.course, device=clinic.device,
        practitioner=clinic.practitioner, room=clinic.room, start=start, status=Appointment.Status.COMPLETED,
    )  # fmt: skip
    SessionRecordFactory(appointment=visit)
    return visit


def answer_path(appointment, answer):
    return f"/p/skin/{answer_token(appointment, answer)}/"


# --- Planning -------------------------------------------------------------------------------------


def test_completing_a_treatment_plans_the_skin_check_two_days_later_at_ten_clinic_time(clinic, time_machine):
    session = complete(clinic, local(3, 15), time_machine)  # Wednesday 3 March, 15:00
    row = skin_row(session)
    assert row.status == Notification.Status.PENDING
    assert row.due_at == local(5, 10)  # Friday 10:00, not 15:00 and not two times 24 hours
    assert row.appointment_version == session.version


def test_the_due_time_keeps_ten_on_the_clinic_clock_across_both_clock_changes(clinic, time_machine):
    spring = complete(clinic, local(26, 16), time_machine)  # Friday 26 March; clocks go forward on the 28th
    due = skin_row(spring).due_at
    assert due == local(28, 10)
    assert timezone.localtime(due).hour == 10 and due.utcoffset() is not None
    assert due.astimezone(timezone.get_default_timezone()).utcoffset() == timedelta(hours=1)  # BST by then
    autumn = complete(clinic, local(29, 16, month=10), time_machine)  # clocks go back on 31 October
    due = timezone.localtime(skin_row(autumn).due_at)
    assert (due.date().day, due.hour, due.utcoffset()) == (31, 10, timedelta(0))


def test_the_days_and_the_hour_are_settings(clinic, time_machine, settings):
    settings.SKIN_CHECK_DAYS, settings.SKIN_CHECK_HOUR = 3, 18
    session = complete(clinic, local(3, 9), time_machine)
    assert skin_row(session).due_at == local(6, 18)


def test_a_session_recorded_after_its_check_was_due_plans_it_at_once(clinic, time_machine):
    time_machine.move_to(local(1, 8), tick=False)
    visit = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 10, 30), tick=False)
    appointment_check_in(appointment=visit)
    time_machine.move_to(local(4, 9), tick=False)  # the dermatologist completes it three days late
    appointment_complete(appointment=visit, record=dict(RECORD))
    assert skin_row(visit).due_at == local(4, 9)


def test_completing_twice_plans_one_skin_check_and_a_consultation_none(clinic, time_machine):
    session = complete(clinic, local(3, 15), time_machine)
    plan_for_completion(session, now=timezone.now())
    assert Notification.objects.filter(kind=K.SKIN_CHECK).count() == 1
    visit = AppointmentFactory(
        kind="consultation", patient=clinic.patient, practitioner=clinic.practitioner, room=clinic.room,
        start=local(4, 11), status=Appointment.Status.COMPLETED,
    )  # fmt: skip
    plan_for_completion(visit, now=timezone.now())
    assert not Notification.objects.filter(appointment=visit).exists()


# --- Sending, and when it is no longer wanted -----------------------------------------------------


def send_due(now):
    ids = outbox.claim_due(now=now)
    return {i: outbox.send(i, now=now) for i in ids}


def test_the_email_goes_when_due_with_four_answer_links_in_html_and_text(clinic, time_machine, mailoutbox):
    session = complete(clinic, local(3, 15), time_machine)
    mailoutbox.clear()
    row = skin_row(session)
    time_machine.move_to(local(5, 9, 59), tick=False)
    assert row.pk not in send_due(timezone.now())
    time_machine.move_to(local(5, 10), tick=False)
    assert send_due(timezone.now())[row.pk] == "sent"
    [message] = [m for m in mailoutbox if m.subject == "How is your skin after your treatment?"]
    raw = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    text = raw.get_body(("plain",)).get_content()
    html = raw.get_body(("html",)).get_content()
    for label in ("Settled", "Still red or swollen", "Blistering or pain", "Something else"):
        assert f"{label}: http" in text
        assert f">{label}</a>" in html
    assert "Wednesday 3 March" in text
    links = re.findall(r"https?://\S+/p/skin/\S+/", text)
    assert len(set(links)) == 4
    assert "wavelength" not in text.lower() and "1064" not in text  # no clinical details in an email


@pytest.mark.parametrize("change", ["no consent", "cancelled", "no address"])
def test_the_email_is_skipped_without_consent_or_address_or_for_a_visit_no_longer_completed(
    clinic, time_machine, change
):
    session = complete(clinic, local(3, 15), time_machine)
    patient = session.patient
    if change == "no consent":
        patient.email_consent = False
        patient.save()
    elif change == "no address":
        patient.email = ""
        patient.save()
    else:
        Appointment.objects.filter(pk=session.pk).update(status=Appointment.Status.CANCELLED)
    time_machine.move_to(local(5, 10), tick=False)
    row = skin_row(session)
    assert send_due(timezone.now())[row.pk] == "skipped"
    row.refresh_from_db()
    assert row.status == Notification.Status.SKIPPED and row.last_error


def test_erasure_withdraws_the_pending_check_and_empties_the_patients_words(clinic, time_machine, manager):
    session = complete(clinic, local(3, 15), time_machine)
    time_machine.move_to(local(4, 12), tick=False)
    assert skin_row(session).status == Notification.Status.PENDING
    patient_erase(patient=session.patient, by=manager, reason="Request of 4 March")
    assert skin_row(session).status == Notification.Status.CANCELLED
    other = completed_visit(clinic, local(2, 10))
    skin_check_answer(appointment=other, answer=A.OTHER, text="It itches at night", now=timezone.now())
    export = patient_export(patient=other.patient, by=manager)
    assert "It itches at night" in export and '"skin_checks"' in export
    patient_erase(patient=other.patient, by=manager, reason="Request of 4 March")
    assert SkinCheck.objects.get(appointment=other).text == ""
    assert not LogEntry.objects.filter(changes_text__contains="itches").exists()
    assert list(answers_to_see()) == []  # an erased patient's answer leaves the queue


# --- The answer page ------------------------------------------------------------------------------


@pytest.fixture
def session(clinic, time_machine):
    visit = complete(clinic, local(3, 15), time_machine)
    time_machine.move_to(local(5, 10, 5), tick=False)
    return visit


def test_opening_an_answer_link_records_nothing_and_shows_that_answer_chosen(session, client):
    page = client.get(answer_path(session, A.RED))
    assert page.status_code == 200
    assert SkinCheck.objects.count() == 0
    html = page.content.decode()
    assert re.search(r'value="red"[^>]*checked', html)
    assert len(re.findall(r"checked", html)) == 1
    assert "Send my answer" in html and 'name="text"' in html
    assert page["Referrer-Policy"] == "no-referrer" and "noindex" in page["X-Robots-Tag"]
    assert client.head(answer_path(session, A.BLISTERING)).status_code == 200
    assert SkinCheck.objects.count() == 0


def test_the_button_records_the_answer_and_a_second_answer_replaces_the_first(session):
    browser = Client(enforce_csrf_checks=True)  # as in production: the page needs no CSRF cookie
    done = browser.post(answer_path(session, A.RED), {"answer": "red"})
    assert done.status_code == 200 and "We have your answer" in done.content.decode()
    check = SkinCheck.objects.get(appointment=session)
    assert (check.answer, check.answers, check.answered_at) == (A.RED, 1, timezone.now())
    # The patient opens another link later and changes their mind on the page.
    page = browser.get(answer_path(session, A.SETTLED))
    assert "Sending again replaces that answer" in page.content.decode()
    browser.post(answer_path(session, A.SETTLED), {"answer": "other", "text": "  a small   scab  "})
    check.refresh_from_db()
    assert (check.answer, check.text, check.answers) == (A.OTHER, "a small scab", 2)
    assert LogEntry.objects.get_for_object(check).count() == 2  # audited: created, then changed


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"answer": "other", "text": ""}, "text", "Please tell us in a few words"),
        ({"answer": "worse"}, "answer", "Please choose one of the answers"),
        ({}, "answer", "Please choose one of the answers"),
        ({"answer": "other", "text": "x" * 501}, "text", "500 characters"),
    ],
)
def test_a_bad_answer_is_refused_on_the_form_keeping_what_was_typed(session, client, data, field, words):
    page = client.post(answer_path(session, A.OTHER), data)
    assert page.status_code == 400
    assert words in page.content.decode()
    assert SkinCheck.objects.count() == 0
    if data.get("text"):
        assert data["text"] in page.content.decode()


def test_a_tampered_or_expired_or_foreign_link_is_refused_with_a_clear_page(session, client, time_machine, settings):
    token = answer_token(session, A.RED)
    tampered = client.get(f"/p/skin/{token[:-3]}abc/")
    assert tampered.status_code == 400 and "This link is not valid" in tampered.content.decode()
    assert client.post(f"/p/skin/{token[:-3]}abc/", {"answer": "red"}).status_code == 400
    # Another purpose's token (a waitlist offer's) does not open this page.
    other = signing.dumps({"a": session.pk, "p": session.patient_id, "k": "red"}, salt="patient-link:waitlist_offer")
    assert client.get(f"/p/skin/{other}/").status_code == 400
    # A link naming another patient than the visit's.
    foreign = signing.dumps(
        {"a": session.pk, "p": session.patient_id + 1, "k": "red"}, salt="patient-link:skin_check", compress=True
    )
    assert client.get(f"/p/skin/{foreign}/").status_code == 410
    time_machine.move_to(timezone.now() + timedelta(days=settings.SKIN_CHECK_LINK_DAYS, minutes=1), tick=False)
    expired = client.post(f"/p/skin/{token}/", {"answer": "red"})
    assert expired.status_code == 410 and "This link has expired" in expired.content.decode()
    assert SkinCheck.objects.count() == 0
    assert client.put(f"/p/skin/{token}/").status_code == 405


# --- The service ----------------------------------------------------------------------------------


def test_the_service_refuses_a_visit_that_was_not_a_completed_treatment(clinic, frozen):
    booked = book_treatment(clinic, local(22, 10))
    with pytest.raises(SchedulingError, match="not completed"):
        skin_check_answer(appointment=booked, answer=A.RED, now=frozen)


def test_only_a_dermatologist_marks_an_answer_seen(clinic, frozen, receptionist):
    visit = completed_visit(clinic, local(1, 10) - timedelta(days=3))
    skin_check_answer(appointment=visit, answer=A.RED, now=frozen)
    with pytest.raises(SchedulingError, match="Only a dermatologist"):
        skin_check_handle(appointment=visit, by=receptionist, now=frozen)
    check = skin_check_handle(appointment=visit, by=clinic.practitioner.user, now=frozen)
    assert (check.handled_at, check.handled_by) == (frozen, clinic.practitioner.user)


# --- The queue ------------------------------------------------------------------------------------


def sent_check(visit, *, days_ago, now):
    return Notification.objects.create(
        patient=visit.patient, appointment=visit, kind=K.SKIN_CHECK, key=f"a{visit.pk}.skin_check",
        due_at=now - timedelta(days=days_ago), sent_at=now - timedelta(days=days_ago), status=Notification.Status.SENT,
    )  # fmt: skip


def test_the_queue_shows_the_worst_first_then_oldest_and_the_unanswered_after_two_more_days(clinic, frozen):
    base = local(1, 10) - timedelta(days=10)
    visits = [completed_visit(clinic, base + timedelta(days=n)) for n in range(8)]
    answers = [  # (visit, answer, hours ago)
        (0, A.OTHER, 30), (1, A.RED, 10), (2, A.BLISTERING, 5), (3, A.RED, 40), (4, A.SETTLED, 50),
        (5, A.BLISTERING, 20),
    ]  # fmt: skip
    for index, answer, hours in answers:
        text = "tingling" if answer == A.OTHER else ""
        skin_check_answer(appointment=visits[index], answer=answer, text=text, now=frozen - timedelta(hours=hours))
    assert [c.appointment_id for c in answers_to_see()] == [visits[i].pk for i in (5, 2, 3, 1, 0)]
    sent_check(visits[6], days_ago=3, now=frozen)  # no answer, sent three days ago
    sent_check(visits[7], days_ago=1, now=frozen)  # sent yesterday: not yet
    for index in (0, 1, 2, 3, 4, 5):
        sent_check(visits[index], days_ago=4, now=frozen)  # answered: not "unanswered"
    assert [n.appointment_id for n in unanswered(now=frozen)] == [visits[6].pk]


def test_a_dermatologist_empties_the_queue_and_a_later_answer_brings_a_session_back(client, clinic, frozen):
    derm = clinic.practitioner.user
    red = completed_visit(clinic, local(1, 10) - timedelta(days=3))
    silent = completed_visit(clinic, local(1, 10) - timedelta(days=5))
    skin_check_answer(appointment=red, answer=A.RED, now=frozen)
    sent_check(silent, days_ago=3, now=frozen)
    client.force_login(derm)
    page = client.get("/queues/skin/")
    html = page.content.decode()
    assert page.status_code == 200
    assert red.patient.full_name in html and silent.patient.full_name in html
    assert html.index("Still red or swollen") < html.index("No answer yet")
    for visit in (red, silent):
        response = client.post(f"/queues/skin/{visit.pk}/seen/")
        assert response.status_code == 302
    assert list(answers_to_see()) == [] and list(unanswered(now=frozen)) == []
    page = client.get("/queues/skin/").content.decode()
    tables = page.split('id="answers"', 1)[1]  # below the "marked as seen" messages
    assert "No answer is waiting to be seen" in tables and red.patient.full_name not in tables
    assert "Every patient asked has answered" in tables
    assert LogEntry.objects.get_for_object(SkinCheck.objects.get(appointment=silent)).exists()  # audited
    # The silent patient answers after all: blistering, back in the queue, first.
    skin_check_answer(appointment=silent, answer=A.BLISTERING, now=frozen)
    assert [c.appointment_id for c in answers_to_see()] == [silent.pk]


def test_the_queue_is_linked_from_the_work_queues_for_dermatologists_only(client, clinic, receptionist, frozen):
    client.force_login(clinic.practitioner.user)
    assert "/queues/skin/" in client.get("/queues/").content.decode()
    client.force_login(receptionist)
    assert "/queues/skin/" not in client.get("/queues/").content.decode()
    assert client.get("/queues/skin/").status_code == 403


def test_marking_a_visit_that_is_not_a_completed_treatment_says_why(client, clinic, frozen):
    booked = book_treatment(clinic, local(22, 10))
    client.force_login(clinic.practitioner.user)
    response = client.post(f"/queues/skin/{booked.pk}/seen/", follow=True)
    assert "not a completed treatment" in response.content.decode()
    assert not SkinCheck.objects.exists()


def test_the_links_carry_ids_and_the_answer_only(session, settings):
    settings.CLINIC_BASE_URL = "https://clinic.example"
    message = build_message(skin_row(session))
    for link in re.findall(r'href="(https://clinic.example/p/skin/[^"]+)"', message.alternatives[0][0]):
        token = urlsplit(link).path.split("/")[3]
        payload = signing.loads(token, salt="patient-link:skin_check")
        assert set(payload) == {"a", "p", "k"} and session.patient.first_name not in token
