"""The test patch on the pages, in the API, the emails and reception's queue (the rule itself:
tests/test_test_patch.py)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from outbox.models import Notification
from tests.conftest import book_treatment, local
from tests.factories import AssessmentFactory, TreatmentCourseFactory, condition
from tests.patch_helpers import book_patch, record, require_patch
from tests.portal import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def patched(clinic):
    return require_patch(clinic)


# --- API -----------------------------------------------------------------------------------------


@pytest.fixture
def api(receptionist):
    client = APIClient()
    client.force_authenticate(receptionist)
    return client


def test_the_api_books_a_patch_and_refuses_an_early_first_session(api, patched, frozen):
    terms = {"patient": patched.patient.pk, "course": patched.course.pk, "practitioner": patched.practitioner.pk,
             "room": patched.room.pk, "device": patched.device.pk}  # fmt: skip
    early = api.post("/api/v1/appointments/", terms | {"kind": "treatment", "start": local(5, 10).isoformat(),
                                                       "acknowledge_short_prep": True}, format="json")  # fmt: skip
    assert early.status_code == 400
    assert "book the test patch first" in str(early.json())
    patch = api.post("/api/v1/appointments/", terms | {"kind": "test_patch", "start": local(2, 9).isoformat()},
                     format="json")  # fmt: skip
    assert patch.status_code == 201, patch.json()
    assert patch.json()["kind"] == "test_patch"
    early = api.post("/api/v1/appointments/", terms | {"kind": "treatment", "start": local(8, 10).isoformat(),
                                                       "acknowledge_short_prep": True}, format="json")  # fmt: skip
    assert early.status_code == 400 and "must wait 7 days" in str(early.json())


def test_a_dermatologist_records_the_patch_result_over_the_api_and_reception_may_not(
    api, patched, dermatologist, frozen, time_machine
):
    patch = book_patch(patched, local(2, 9))
    url = f"/api/v1/appointments/{patch.pk}/patch-result/"
    derm = APIClient()
    derm.force_authenticate(dermatologist.user)
    early = derm.post(url, {"result": "no_reaction"}, format="json")
    assert early.status_code == 400 and "once the test patch has been done" in str(early.json())
    time_machine.move_to(patch.start + timedelta(minutes=20), tick=False)
    assert api.post(url, {"result": "no_reaction"}, format="json").status_code == 403
    bad = derm.post(url, {"result": "fine"}, format="json")
    assert bad.status_code == 400 and "result" in bad.json()
    answer = derm.post(url, {"result": "mild", "notes": "  slight redness  "}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["patch_result"] == "mild"
    patch.refresh_from_db()
    assert (patch.patch_result, patch.patch_result_notes, patch.patch_result_by) == (
        "mild", "slight redness", dermatologist,
    )  # fmt: skip


def test_the_api_offers_patch_slots_on_a_course(api, patched, frozen):
    answer = api.get("/api/v1/availability/", {"kind": "test_patch", "course": patched.course.pk,
                                               "start": "2027-03-02", "days": 1, "limit": 2})  # fmt: skip
    assert answer.status_code == 200
    slots = answer.json()["slots"]
    assert [(s["start"][11:16], s["end"][11:16], s["device"]) for s in slots] == [
        ("09:00", "09:15", patched.device.pk), ("09:15", "09:30", patched.device.pk)]  # fmt: skip
    assert api.get("/api/v1/availability/", {"kind": "test_patch", "start": "2027-03-02"}).status_code == 400
    first = api.get("/api/v1/availability/", {"course": patched.course.pk, "start": "2027-03-02"})
    assert first.status_code == 400 and "book the test patch first" in str(first.json())


# --- Pages ---------------------------------------------------------------------------------------


def test_the_course_booking_page_offers_patch_slots_first_and_books_one(client, receptionist, patched, frozen):
    client.force_login(receptionist)
    url = reverse("scheduling:course_book", args=[patched.course.pk])
    page = client.get(url, {"date": "2027-03-02"})
    assert b"Test patch first (15 minutes, with a laser)" in page.content
    assert b'name="kind" value="test_patch"' in page.content
    slot = page.context["slots"][0]
    posted = {"kind": "test_patch", "start": slot.start.isoformat(), "practitioner": slot.practitioner.pk,
              "room": slot.room.pk, "device": slot.device.pk}  # fmt: skip
    answer = client.post(url, posted)
    assert answer.status_code == 302
    page = client.get(url)
    assert "Test patch booked for Tue 2 Mar 2027 09:00; first session from Tue 9 Mar 2027" in page.content.decode()
    assert all(timezone.localdate(s.start) >= date(2027, 3, 9) for s in page.context["slots"])


def test_the_patient_page_shows_the_step(client, receptionist, patched, frozen, time_machine):
    client.force_login(receptionist)
    url = reverse("patients:detail", args=[patched.patient.pk])
    assert "Test patch to book" in client.get(url).content.decode()
    patch = book_patch(patched, local(2, 9))
    assert "Test patch booked for Tue 2 Mar 2027 09:00" in client.get(url).content.decode()
    record(patch, "mild", patched.practitioner, time_machine)
    assert "Test patch result: mild reaction, first session from Tue 9 Mar 2027" in client.get(url).content.decode()


def test_the_patients_own_page_shows_the_step(client, patched, frozen):
    patched.patient.email_consent = True
    book_patch(patched, local(2, 9))
    sign_in(client, patched.patient)
    page = client.get(reverse("portal:home")).content.decode()
    assert "Test patch booked for Tue 2 Mar 2027 09:00; first session from Tue 9 Mar 2027" in page


def test_receptions_queue_lists_courses_with_a_patch_to_book(client, receptionist, patched, frozen):
    client.force_login(receptionist)
    acne = condition("acne-scars")
    skin = TreatmentCourseFactory(approved=True, condition=acne, assessment=AssessmentFactory(skin_type=5))
    TreatmentCourseFactory(approved=True, condition=acne)  # neither its condition nor its skin type asks for one
    page = client.get(reverse("queues:index"))
    assert [c.pk for c in page.context["patch_due"]["rows"]] == sorted([patched.course.pk, skin.pk])
    assert b"Test patch to book" in page.content
    book_patch(patched, local(2, 9))
    assert [c.pk for c in client.get(reverse("queues:index")).context["patch_due"]["rows"]] == [skin.pk]


def test_only_a_dermatologist_records_the_result(client, receptionist, manager, patched, frozen, time_machine):
    patch = book_patch(patched, local(2, 9))
    url = reverse("clinical:patch_result", args=[patch.pk])
    for user in (receptionist, manager):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"result": "mild"}).status_code == 403
    patch.refresh_from_db()
    assert patch.patch_result == ""
    client.force_login(patched.practitioner.user)
    time_machine.move_to(local(2, 9, 20), tick=False)
    assert client.get(url).status_code == 200
    assert client.post(url, {"result": "bad"}).status_code == 200  # the form says why
    answer = client.post(url, {"result": "mild", "notes": "Faint redness at 20 minutes."})
    assert answer.status_code == 302
    patch.refresh_from_db()
    assert (patch.patch_result, patch.patch_result_notes) == ("mild", "Faint redness at 20 minutes.")
    detail = client.get(reverse("scheduling:appointment", args=[patch.pk])).content.decode()
    assert "Mild reaction, recorded" in detail
    treatment = book_treatment(patched, local(9, 10))
    assert client.get(reverse("clinical:patch_result", args=[treatment.pk])).status_code == 404


def test_a_result_too_early_is_refused_on_the_form(client, patched, frozen):
    patch = book_patch(patched, local(2, 9))
    client.force_login(patched.practitioner.user)
    answer = client.post(reverse("clinical:patch_result", args=[patch.pk]), {"result": "mild"})
    assert answer.status_code == 200
    assert "once the test patch has been done" in answer.content.decode()


def test_the_patch_queue_costs_one_query_however_long(client, receptionist, patched, frozen):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(receptionist)

    def reads():
        with CaptureQueriesContext(connection) as captured:
            rows = client.get(reverse("queues:index")).context["patch_due"]["rows"]
        return len(rows), len(captured)

    one, few = reads()
    for _ in range(3):
        TreatmentCourseFactory(approved=True, condition=patched.course.condition)
    four, more = reads()
    assert (one, four, more) == (1, 4, few)


def test_the_patch_confirmation_email_says_what_a_test_patch_is(patched, frozen):
    from outbox.emails import build_message

    patch = book_patch(patched, local(2, 9))
    message = build_message(patch.notifications.get(kind=Notification.Kind.CONFIRMATION))
    assert message.subject.startswith("Your test patch on ")
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "A few laser pulses on a small patch of skin" in body and "about 15 minutes" in body
        assert "sun-free" not in body  # no prep window of its own


def test_a_course_treated_before_it_needed_a_patch_goes_on(client, receptionist, patched, frozen):
    from tests.factories import AppointmentFactory

    AppointmentFactory(kind="treatment", patient=patched.patient, course=patched.course, device=patched.device,
                       practitioner=patched.practitioner, room=patched.room, start=local(1, 10, month=1),
                       status="completed")  # fmt: skip
    assert book_treatment(patched, local(22, 10)).session_number == 2
    client.force_login(receptionist)
    assert "Test patch" not in client.get(reverse("patients:detail", args=[patched.patient.pk])).content.decode()


def test_the_boards_show_a_patch_card(client, receptionist, patched, frozen):
    book_patch(patched, local(2, 9))
    client.force_login(receptionist)
    day = client.get(reverse("scheduling:day_board_date", kwargs={"day": date(2027, 3, 2)})).content.decode()
    week = client.get(reverse("scheduling:week_board_date", kwargs={"day": date(2027, 3, 1)})).content.decode()
    assert f"{patched.course.condition} · Test patch" in day and "Test patch" in week
