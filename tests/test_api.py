"""The JSON API: authentication, each endpoint's answers, service refusals as 400/409, and no 500s.

The clock stands still at 08:00 on Monday 3 June 2030 in London (BST, UTC+01:00), so that "today",
the 14-day prep window and the output offsets do not depend on when the suite runs.
"""

import io
import json
from datetime import datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalogue.models import Practitioner
from clinical.models import Assessment, TreatmentCourse
from scheduling.models import Appointment, SessionRecord
from scheduling.services import course_cancel
from tests.conftest import record_assessment
from tests.factories import (
    AppointmentFactory,
    LaserDeviceFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    TreatmentCourseFactory,
    UserFactory,
    WorkingHoursFactory,
    area,
    condition,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2030, 6, 3, 8, 0, tzinfo=LONDON)
API = "/api/v1"


def at(days, hour, minute=0):
    """A local time `days` after today."""
    return datetime.combine(NOW.date() + timedelta(days=days), time(hour, minute), tzinfo=LONDON)


def day(days):
    return (NOW.date() + timedelta(days=days)).isoformat()


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def api(receptionist):
    client = APIClient()
    client.force_authenticate(receptionist)
    return client


@pytest.fixture
def derm_api(dermatologist):
    client = APIClient()
    client.force_authenticate(dermatologist.user)
    return client


@pytest.fixture
def clinic(dermatologist):
    """The dermatologist works 09:00–17:00 every day; one room; one laser set up for tattoo removal."""
    for weekday in range(7):
        WorkingHoursFactory(practitioner=dermatologist, weekday=weekday)
    device = LaserDeviceFactory()
    device.conditions.add(condition("tattoo-removal"))
    return SimpleNamespace(practitioner=dermatologist, room=RoomFactory(), device=device)


@pytest.fixture
def course(clinic):
    """An approved three-session tattoo-removal course on one small area (30-minute sessions)."""
    return TreatmentCourseFactory(approved=True, approved_by=clinic.practitioner, planned_sessions=3)


def treatment(clinic, course, start, **extra):
    return {
        "patient": course.patient_id,
        "kind": "treatment",
        "start": start.isoformat(),
        "practitioner": clinic.practitioner.pk,
        "room": clinic.room.pk,
        "device": clinic.device.pk,
        "course": course.pk,
    } | extra


def visit(clinic, start, **fields):
    """An appointment placed directly (no service checks), by default a 30-minute consultation."""
    return AppointmentFactory(practitioner=clinic.practitioner, room=clinic.room, start=start, **fields)


# Authentication


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", f"{API}/availability/?start=2030-06-24&duration=30"),
        ("get", f"{API}/appointments/"),
        ("post", f"{API}/appointments/"),
        ("get", f"{API}/patients/"),
        ("get", f"{API}/conditions/"),
        ("post", f"{API}/courses/1/approve/"),
        ("get", "/api/schema/"),
    ],
)
def test_anonymous_callers_get_401_and_no_login_redirect(db, method, url):
    response = getattr(APIClient(), method)(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert b"credentials were not provided" in response.content


def test_a_token_made_by_drf_create_token_authenticates(receptionist):
    call_command("drf_create_token", "reception", stdout=io.StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=receptionist).key}")
    assert client.get(f"{API}/conditions/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert client.get(f"{API}/conditions/").status_code == 401


def test_a_logged_in_session_authenticates(client, receptionist):
    client.force_login(receptionist)
    assert client.get(f"{API}/conditions/").status_code == 200


# Availability


def test_availability_lists_free_slots_for_a_course_in_time_order(api, clinic, course):
    visit(clinic, at(21, 9))  # the practitioner is busy until 09:30, the room until 09:40
    response = api.get(f"{API}/availability/", {"start": day(21), "days": 1, "course": course.pk, "limit": 3})
    assert response.status_code == 200
    ids = {"practitioner": clinic.practitioner.pk, "room": clinic.room.pk, "device": clinic.device.pk}
    assert response.json() == {
        "slots": [
            {"start": "2030-06-24T09:45:00+01:00", "end": "2030-06-24T10:15:00+01:00", **ids, "short_prep": False},
            {"start": "2030-06-24T10:00:00+01:00", "end": "2030-06-24T10:30:00+01:00", **ids, "short_prep": False},
            {"start": "2030-06-24T10:15:00+01:00", "end": "2030-06-24T10:45:00+01:00", **ids, "short_prep": False},
        ]
    }


def test_availability_for_a_consultation_needs_no_device(api, clinic):
    response = api.get(f"{API}/availability/", {"start": day(0), "kind": "consultation", "duration": 60, "limit": 1})
    assert response.status_code == 200
    assert response.json()["slots"] == [
        {
            "start": "2030-06-03T09:00:00+01:00",
            "end": "2030-06-03T10:00:00+01:00",
            "practitioner": clinic.practitioner.pk,
            "room": clinic.room.pk,
            "device": None,
            "short_prep": False,
        }
    ]


def test_availability_marks_treatments_inside_the_prep_window(api, clinic, course):
    response = api.get(f"{API}/availability/", {"start": day(3), "days": 1, "course": course.pk, "limit": 1})
    assert response.json()["slots"][0]["short_prep"] is True


@pytest.mark.parametrize(
    "query, field",
    [
        ({"start": "2030-06-24", "days": 367, "duration": 30}, "days"),
        ({"start": "2030-06-24", "days": 0, "duration": 30}, "days"),
        ({"start": "2030-06-24", "limit": 101, "duration": 30}, "limit"),
        ({"start": "2030-06-24", "limit": 0, "duration": 30}, "limit"),
        ({"start": "2030-02-30", "duration": 30}, "start"),
        ({"start": "24/06/2030", "duration": 30}, "start"),
        ({"start": "9999-12-31", "duration": 30}, "start"),
        ({"duration": 30}, "start"),
        ({"start": "2030-06-24", "course": 999999}, "course"),
        ({"start": "2030-06-24", "duration": 30, "practitioner": "abc"}, "practitioner"),
        ({"start": "2030-06-24"}, "duration"),
        ({"start": "2030-06-24", "duration": 7}, "duration"),
        ({"start": "2030-06-24", "kind": "surgery", "duration": 30}, "kind"),
        ({"start": "2030-06-24", "duration": 30, "practitioner": ""}, "practitioner"),  # empty is not "any"
    ],
)
def test_availability_refuses_bad_queries_with_400_naming_the_field(api, clinic, query, field):
    response = api.get(f"{API}/availability/", query)
    assert response.status_code == 400
    assert field in response.json()


# Booking


def test_booking_a_treatment_answers_201_with_the_appointment(api, clinic, course, receptionist):
    response = api.post(f"{API}/appointments/", treatment(clinic, course, at(21, 10)))
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "patient": course.patient_id,
        "kind": "treatment",
        "course": course.pk,
        "sequence": 1,
        "start": "2030-06-24T10:00:00+01:00",
        "end": "2030-06-24T10:30:00+01:00",
        "practitioner": clinic.practitioner.pk,
        "room": clinic.room.pk,
        "device": clinic.device.pk,
        "status": "booked",
        "hold_expires_at": None,
        "short_prep": False,
        "sun_exposure": False,
        "patch_result": "",
    }
    assert Appointment.objects.get(pk=body["id"]).booked_by == receptionist


def test_booking_a_consultation_takes_its_duration(api, clinic):
    patient = PatientFactory()
    response = api.post(
        f"{API}/appointments/",
        {
            "patient": patient.pk,
            "kind": "consultation",
            "start": "2030-06-24T10:00:00+01:00",
            "practitioner": clinic.practitioner.pk,
            "room": clinic.room.pk,
            "duration_minutes": 45,
        },
    )
    assert response.status_code == 201
    assert response.json()["end"] == "2030-06-24T10:45:00+01:00"
    assert response.json()["device"] is None


def test_booking_a_busy_practitioner_answers_409_naming_the_holder(api, clinic, course):
    holder = AppointmentFactory(practitioner=clinic.practitioner, start=at(21, 10))  # in another room
    response = api.post(f"{API}/appointments/", treatment(clinic, course, at(21, 10, 15)))
    assert response.status_code == 409
    assert response.json() == {
        "detail": "That time is already taken for the practitioner.",
        "conflicts": [{"resource": "practitioner", "appointment": holder.pk}],
    }


def test_booking_a_room_in_its_turnover_answers_409_naming_the_room(api, clinic, course):
    holder = AppointmentFactory(room=clinic.room, start=at(21, 9, 30))  # room blocked until 10:10
    response = api.post(f"{API}/appointments/", treatment(clinic, course, at(21, 10)))
    assert response.status_code == 409
    assert response.json()["conflicts"] == [{"resource": "room", "appointment": holder.pk}]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"start": at(-1, 10).isoformat()}, "start"),
        ({"start": at(21, 7).isoformat()}, "start"),  # before working hours
        ({"device": None}, "device"),
        ({"kind": "massage"}, "kind"),
        ({"start": at(3, 10).isoformat()}, "acknowledge_short_prep"),
        ({"start": at(3, 10).isoformat(), "acknowledge_short_prep": 1}, "acknowledge_short_prep"),  # not a flag
        ({"notes": 5}, "notes"),  # text, not a number
    ],
)
def test_booking_refusals_answer_400_naming_the_field(api, clinic, course, change, field):
    response = api.post(f"{API}/appointments/", treatment(clinic, course, at(21, 10)) | change)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Appointment.objects.exists()


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    "typed",
    [
        lambda pk: pk + 0.9,  # 7.9 would otherwise be read as 7
        float,  # 7.0: a JSON number with a fraction, not an integer
        lambda pk: str(pk).translate(FULLWIDTH),  # "７": Python's int() reads other scripts' digits
        lambda pk: f" {pk}",
        lambda pk: f"{pk} ",
        lambda pk: f"+{pk}",
        lambda pk: True,
    ],
)
def test_an_id_or_a_count_is_taken_only_as_a_whole_number_in_ascii_digits(api, clinic, course, typed):
    body = treatment(clinic, course, at(21, 10))
    refused = api.post(f"{API}/appointments/", body | {"room": typed(clinic.room.pk)})
    assert (refused.status_code, list(refused.json())) == (400, ["room"])
    search = {"start": day(21), "duration": 30}
    refused = api.get(f"{API}/availability/", search | {"duration": typed(30)})
    assert (refused.status_code, list(refused.json())) == (400, ["duration"])
    # As typed, text or number, the same values are read.
    assert api.get(f"{API}/availability/", search | {"duration": "30"}).status_code == 200
    assert api.post(f"{API}/appointments/", body | {"room": str(clinic.room.pk)}).status_code == 201


def test_booking_on_an_unapproved_course_is_refused_on_the_course_field(api, clinic):
    proposed = TreatmentCourseFactory()
    response = api.post(f"{API}/appointments/", treatment(clinic, proposed, at(21, 10)))
    assert response.status_code == 400
    assert "not been approved" in response.json()["course"][0]


def test_booking_inside_the_prep_window_with_acknowledgement_is_201_and_marked(api, clinic, course, receptionist):
    response = api.post(f"{API}/appointments/", treatment(clinic, course, at(3, 10), acknowledge_short_prep=True))
    assert response.status_code == 201
    assert response.json()["short_prep"] is True
    assert Appointment.objects.get().short_prep_acknowledged_by == receptionist


def test_a_start_without_utc_offset_is_refused_not_guessed(api, clinic, course):
    response = api.post(f"{API}/appointments/", treatment(clinic, course, at(21, 10)) | {"start": "2030-06-24T10:00"})
    assert response.status_code == 400
    assert "offset" in response.json()["start"][0]


# Listing and reading


def test_listing_by_date_shows_that_clinic_local_day(api, clinic, django_assert_num_queries):
    morning = visit(clinic, at(21, 9))
    late = AppointmentFactory(start=at(21, 23, 0))
    after_midnight = AppointmentFactory(start=at(22, 0, 30))  # still 24 June in UTC
    for hour in (11, 12, 13):
        visit(clinic, at(21, hour))
    with django_assert_num_queries(3):  # the role, count and page, whatever the number of appointments
        response = api.get(f"{API}/appointments/", {"date": day(21)})
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids[0] == morning.pk and ids[-1] == late.pk and len(ids) == 5
    assert [r["id"] for r in api.get(f"{API}/appointments/", {"date": day(22)}).json()["results"]] == [
        after_midnight.pk
    ]


def test_listing_filters_by_practitioner_patient_and_status(api, clinic):
    mine = visit(clinic, at(21, 9))
    AppointmentFactory(start=at(21, 10))
    cancelled = AppointmentFactory(start=at(21, 11), status=Appointment.Status.CANCELLED)
    url = f"{API}/appointments/"
    assert [r["id"] for r in api.get(url, {"practitioner": clinic.practitioner.pk}).json()["results"]] == [mine.pk]
    assert [r["id"] for r in api.get(url, {"patient": mine.patient_id}).json()["results"]] == [mine.pk]
    assert [r["id"] for r in api.get(url, {"status": "cancelled"}).json()["results"]] == [cancelled.pk]
    assert api.get(url, {"status": "lost"}).status_code == 400


def test_a_held_consultation_says_until_when_and_can_be_listed_by_its_status(api, clinic):
    until = timezone.now() + timedelta(minutes=30)
    held = AppointmentFactory(start=at(21, 9), status=Appointment.Status.HELD, hold_expires_at=until)
    [row] = api.get(f"{API}/appointments/", {"status": "held"}).json()["results"]
    assert (row["id"], row["status"]) == (held.pk, "held")
    assert parse_datetime(row["hold_expires_at"]) == until


@pytest.mark.parametrize("field", ["date", "practitioner", "patient", "status"])
def test_an_empty_filter_is_refused_not_ignored(api, clinic, field):
    response = api.get(f"{API}/appointments/?{field}=")
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    "query, field",
    [("page_size=null", "page_size"), ("page_size=0", "page_size"), ("page_size=201", "page_size"), ("page=x", "page")],
)
def test_a_page_or_page_size_out_of_range_is_refused_not_replaced_by_the_default(api, query, field):
    response = api.get(f"{API}/patients/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_pages_hold_page_size_records_and_a_page_past_the_end_is_404(api):
    PatientFactory.create_batch(3)
    page = api.get(f"{API}/patients/", {"page_size": 2, "page": 2}).json()
    assert (page["count"], len(page["results"])) == (3, 1)
    assert api.get(f"{API}/patients/", {"page_size": 2, "page": 3}).status_code == 404


def test_listing_without_a_date_shows_what_is_not_over_yet(api, clinic):
    AppointmentFactory(start=at(-2, 10))
    coming = visit(clinic, at(1, 10))
    body = api.get(f"{API}/appointments/").json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == coming.pk


def test_one_appointment_can_be_read_and_an_unknown_one_is_404(api, clinic):
    appointment = visit(clinic, at(21, 9))
    response = api.get(f"{API}/appointments/{appointment.pk}/")
    assert response.status_code == 200
    assert response.json()["start"] == "2030-06-24T09:00:00+01:00"
    assert api.get(f"{API}/appointments/{appointment.pk + 1000}/").status_code == 404


# Status moves


def test_rescheduling_moves_the_appointment_and_asks_for_confirmation_again(api, clinic):
    appointment = visit(clinic, at(21, 10), status=Appointment.Status.CONFIRMED)
    response = api.post(f"{API}/appointments/{appointment.pk}/reschedule/", {"start": at(22, 14).isoformat()})
    assert response.status_code == 200
    assert response.json()["start"] == "2030-06-25T14:00:00+01:00"
    assert response.json()["status"] == "booked"


def test_rescheduling_onto_a_busy_time_answers_409_with_conflicts(api, clinic):
    appointment = visit(clinic, at(21, 10))
    holder = visit(clinic, at(22, 14))
    response = api.post(f"{API}/appointments/{appointment.pk}/reschedule/", {"start": at(22, 14).isoformat()})
    assert response.status_code == 409
    assert {"resource": "practitioner", "appointment": holder.pk} in response.json()["conflicts"]
    appointment.refresh_from_db()
    assert appointment.start == at(21, 10)


def test_rescheduling_a_cancelled_appointment_is_409(api, clinic):
    appointment = visit(clinic, at(21, 10), status=Appointment.Status.CANCELLED)
    response = api.post(f"{API}/appointments/{appointment.pk}/reschedule/", {"start": at(22, 14).isoformat()})
    assert response.status_code == 409
    assert response.json() == {"detail": "A cancelled appointment cannot be moved."}


def test_rescheduling_into_the_past_is_400(api, clinic):
    appointment = visit(clinic, at(21, 10))
    response = api.post(f"{API}/appointments/{appointment.pk}/reschedule/", {"start": at(-1, 14).isoformat()})
    assert response.status_code == 400
    assert "start" in response.json()


def test_cancelling_records_the_reason_and_cannot_happen_twice(api, clinic):
    appointment = visit(clinic, at(21, 10))
    response = api.post(f"{API}/appointments/{appointment.pk}/cancel/", {"reason": "Patient unwell"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    appointment.refresh_from_db()
    assert appointment.cancel_reason == "Patient unwell"
    again = api.post(f"{API}/appointments/{appointment.pk}/cancel/", {})
    assert again.status_code == 409
    assert again.json() == {"detail": "A cancelled appointment cannot be cancelled."}


def test_confirming_is_legal_once(api, clinic):
    appointment = visit(clinic, at(21, 10))
    assert api.post(f"{API}/appointments/{appointment.pk}/confirm/").json()["status"] == "confirmed"
    assert api.post(f"{API}/appointments/{appointment.pk}/confirm/").status_code == 409


def test_checking_in_works_on_the_day_only(api, clinic):
    today = visit(clinic, at(0, 10))
    tomorrow = visit(clinic, at(1, 10))
    response = api.post(f"{API}/appointments/{today.pk}/check-in/")
    assert response.status_code == 200
    assert response.json()["status"] == "checked_in"
    refused = api.post(f"{API}/appointments/{tomorrow.pk}/check-in/")
    assert refused.status_code == 409
    assert "on the day" in refused.json()["detail"]


RECORD = {
    "wavelength_nm": 1064,
    "fluence_j_cm2": "2.50",
    "spot_size_mm": "4.0",
    "pulses": 800,
    "skin_reaction": "mild_erythema",
    "notes": "Even frosting.",
}


@pytest.fixture
def checked_in_treatment(clinic, course):
    return visit(
        clinic,
        at(0, 10),
        kind=Appointment.Kind.TREATMENT,
        course=course,
        patient=course.patient,
        device=clinic.device,
        status=Appointment.Status.CHECKED_IN,
    )


def test_completing_a_treatment_keeps_its_session_record(derm_api, checked_in_treatment, dermatologist):
    response = derm_api.post(f"{API}/appointments/{checked_in_treatment.pk}/complete/", RECORD | {"area": area().pk})
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    record = SessionRecord.objects.get(appointment=checked_in_treatment)
    assert (record.wavelength_nm, str(record.fluence_j_cm2), record.pulses) == (1064, "2.50", 800)
    assert record.recorded_by == dermatologist
    assert record.area == area()


def test_completing_a_treatment_without_its_record_is_400(derm_api, checked_in_treatment):
    response = derm_api.post(f"{API}/appointments/{checked_in_treatment.pk}/complete/", {})
    assert response.status_code == 400
    assert "record" in response.json()
    checked_in_treatment.refresh_from_db()
    assert checked_in_treatment.status == Appointment.Status.CHECKED_IN


@pytest.mark.parametrize(
    "change, field",
    [
        ({"wavelength_nm": 299}, "wavelength_nm"),
        ({"wavelength_nm": 2001}, "wavelength_nm"),
        ({"fluence_j_cm2": "0"}, "fluence_j_cm2"),
        ({"fluence_j_cm2": "-1.5"}, "fluence_j_cm2"),
        ({"fluence_j_cm2": "NaN"}, "fluence_j_cm2"),
        ({"spot_size_mm": "0.0"}, "spot_size_mm"),
        ({"spot_size_mm": "4.05"}, "spot_size_mm"),
        ({"pulses": 0}, "pulses"),
        ({"pulses": 10**30}, "pulses"),
        ({"skin_reaction": "sunburn"}, "skin_reaction"),
        ({"area": 999999}, "area"),
    ],
)
def test_a_session_record_out_of_bounds_is_400(derm_api, checked_in_treatment, change, field):
    response = derm_api.post(f"{API}/appointments/{checked_in_treatment.pk}/complete/", RECORD | change)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not SessionRecord.objects.exists()


def test_completing_a_consultation_needs_no_record_and_a_booked_one_cannot_complete(derm_api, clinic):
    consultation = visit(clinic, at(0, 11), status=Appointment.Status.CHECKED_IN)
    assert derm_api.post(f"{API}/appointments/{consultation.pk}/complete/").status_code == 200
    booked = visit(clinic, at(0, 12))
    refused = derm_api.post(f"{API}/appointments/{booked.pk}/complete/", RECORD)
    assert refused.status_code == 409
    assert refused.json() == {"detail": "A booked appointment cannot be completed."}


def test_a_no_show_is_recorded_once_the_appointment_has_started(api, clinic):
    started = visit(clinic, at(0, 7, 30))
    response = api.post(f"{API}/appointments/{started.pk}/no-show/")
    assert response.status_code == 200
    assert response.json()["status"] == "no_show"
    later = visit(clinic, at(0, 10))
    refused = api.post(f"{API}/appointments/{later.pk}/no-show/")
    assert refused.status_code == 409
    assert "once the appointment has started" in refused.json()["detail"]


# Patients and the catalogue


PATIENT = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "date_of_birth": "1985-12-10",
    "email": "ada@example.com",
    "phone": "+44 7700 900123",
    "skin_type": 2,
    "email_consent": True,
    "notes": "",
}


def test_a_patient_is_created_read_and_updated(api):
    created = api.post(f"{API}/patients/", PATIENT)
    assert created.status_code == 201
    assert created.json() == PATIENT | {"id": created.json()["id"]}
    url = f"{API}/patients/{created.json()['id']}/"
    assert api.get(url).json()["last_name"] == "Lovelace"
    patched = api.patch(url, {"skin_type": 4, "phone": "+44 7700 900999"})
    assert patched.status_code == 200
    assert (patched.json()["skin_type"], patched.json()["first_name"]) == (4, "Ada")
    assert api.put(url, PATIENT).status_code == 405
    assert api.delete(url).status_code == 405


@pytest.mark.parametrize(
    "change, field",
    [
        ({"date_of_birth": "2030-06-04"}, "date_of_birth"),  # tomorrow
        ({"date_of_birth": "1850-01-01"}, "date_of_birth"),
        ({"date_of_birth": "10/12/1985"}, "date_of_birth"),
        ({"skin_type": 7}, "skin_type"),
        ({"skin_type": 0}, "skin_type"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"phone": "call me maybe"}, "phone"),  # the staff pages' rules, from patients.services
        ({"phone": "12345"}, "phone"),
        ({"date_of_birth": "1900-01-01"}, "date_of_birth"),  # older than anyone alive
        # JSON values of the wrong type are refused, not converted
        ({"notes": 0}, "notes"),
        ({"phone": 7700900123}, "phone"),
        ({"email_consent": 0}, "email_consent"),
    ],
)
def test_patient_details_are_validated(api, change, field):
    response = api.post(f"{API}/patients/", PATIENT | change)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    patient = PatientFactory()
    assert api.patch(f"{API}/patients/{patient.pk}/", change).status_code == 400


def test_a_patient_can_still_be_registered_with_form_data(api):
    response = api.post(f"{API}/patients/", PATIENT | {"email_consent": "true"}, format="multipart")
    assert response.status_code == 201
    assert response.json() == PATIENT | {"id": response.json()["id"]}


def test_patients_are_searched_by_every_word_in_q(api):
    ada = PatientFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+44 7700 900111")
    PatientFactory(first_name="Ada", last_name="Byron", email="byron@example.com", phone="+44 7700 900222")
    PatientFactory(first_name="Grace", last_name="Hopper", email="grace@example.com", phone="+44 7700 900555")
    assert [p["id"] for p in api.get(f"{API}/patients/", {"q": "ada love"}).json()["results"]] == [ada.pk]
    assert api.get(f"{API}/patients/", {"q": "ADA"}).json()["count"] == 2
    assert api.get(f"{API}/patients/", {"q": "900555"}).json()["results"][0]["last_name"] == "Hopper"
    assert api.get(f"{API}/patients/").json()["count"] == 3


def test_the_catalogue_lists_conditions_areas_practitioners_rooms_and_devices(api, clinic):
    nurse = PractitionerFactory(role=Practitioner.Role.LASER_NURSE, user=UserFactory(first_name="Nia", last_name="Ng"))
    conditions = api.get(f"{API}/conditions/").json()
    assert {c["slug"] for c in conditions} == {"acne-scars", "wrinkles-fine-lines", "pigmentation", "tattoo-removal"}
    areas = api.get(f"{API}/treatment-areas/").json()
    assert {"id": area().pk, "name": area().name, "size": "small", "minutes": 30} in areas
    practitioners = api.get(f"{API}/practitioners/").json()
    assert {"id": nurse.pk, "name": "Nia Ng", "role": "laser_nurse", "active": True} in practitioners
    doctor = clinic.practitioner
    assert {"id": doctor.pk, "name": str(doctor), "role": "dermatologist", "active": True} in practitioners
    assert [r["id"] for r in api.get(f"{API}/rooms/").json()] == [clinic.room.pk]
    devices = api.get(f"{API}/devices/").json()
    assert [(d["id"], d["conditions"]) for d in devices] == [(clinic.device.pk, [condition("tattoo-removal").pk])]


# Assessments


def test_a_dermatologist_records_an_assessment_through_the_service(derm_api, dermatologist):
    patient = PatientFactory(skin_type=None)
    body = {
        "patient": patient.pk,
        "skin_type": 4,
        "conditions": [condition("tattoo-removal").pk, condition("acne-scars").pk],
        "contraindications": ["keloid_tendency", "recent_tan", "recent_tan"],
        "candidate": True,
        "notes": "Dense black ink on the forearm.",
    }
    response = derm_api.post(f"{API}/assessments/", body)
    assert response.status_code == 201
    assessment = Assessment.objects.get(patient=patient)
    assert response.json() == {
        "id": assessment.pk,
        "patient": patient.pk,
        "assessed_at": "2030-06-03T08:00:00+01:00",
        "candidate": True,
        "dermatologist": dermatologist.pk,
        "skin_type": 4,
        "conditions": sorted([condition("tattoo-removal").pk, condition("acne-scars").pk]),
        "contraindications": ["recent_tan", "keloid_tendency"],  # the list's order, each once
        "notes": "Dense black ink on the forearm.",
    }
    patient.refresh_from_db()
    assert (patient.skin_type, assessment.created_by) == (4, dermatologist.user)


def test_a_patients_assessments_are_listed_latest_first_with_clinical_details_for_dermatologists_only(
    api, derm_api, dermatologist
):
    patient = PatientFactory()
    first = record_assessment(dermatologist, patient, notes="Baseline")
    latest = record_assessment(dermatologist, patient, candidate=False, contraindications=["pregnancy"])
    record_assessment(dermatologist, PatientFactory())  # another patient's
    listed = derm_api.get(f"{API}/assessments/", {"patient": patient.pk}).json()
    assert listed["count"] == 2
    assert [a["id"] for a in listed["results"]] == [latest.pk, first.pk]
    assert listed["results"][0]["contraindications"] == ["pregnancy"]
    assert listed["results"][1]["notes"] == "Baseline"
    seen_by_reception = api.get(f"{API}/assessments/", {"patient": patient.pk}).json()["results"][1]
    assert seen_by_reception == {
        "id": first.pk,
        "patient": patient.pk,
        "assessed_at": "2030-06-03T08:00:00+01:00",
        "candidate": True,
        **dict.fromkeys(("dermatologist", "skin_type", "conditions", "contraindications", "notes")),
    }
    one = derm_api.get(f"{API}/assessments/{first.pk}/").json()
    assert one == listed["results"][1]
    assert api.get(f"{API}/assessments/{first.pk}/").json() == seen_by_reception
    assert api.get(f"{API}/assessments/999999/").status_code == 404
    # Each opening of clinical details is in the audit trail, as on the pages; reception's are not.
    opened = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(patient.pk))
    assert [entry.additional_data["opened"] for entry in opened.order_by("pk")] == [
        "assessments (API)",
        "assessment (API)",
    ]
    assert {entry.actor for entry in opened} == {dermatologist.user}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"patient": " 1"}, "patient"),
        ({"patient": 999999}, "patient"),
        ({"skin_type": 7}, "skin_type"),
        ({"skin_type": "III"}, "skin_type"),
        ({"skin_type": 3.5}, "skin_type"),
        ({"conditions": ["１"]}, "conditions"),
        ({"conditions": 1}, "conditions"),
        ({"contraindications": ["sunburn"]}, "contraindications"),
        ({"contraindications": "pregnancy"}, "contraindications"),
        ({"candidate": "maybe"}, "candidate"),
        ({"candidate": 1}, "candidate"),
        ({"notes": 5}, "notes"),
    ],
)
def test_an_assessment_is_checked_as_typed(derm_api, change, field):
    body = {"patient": PatientFactory().pk, "skin_type": 3, "candidate": True}
    response = derm_api.post(f"{API}/assessments/", body | change)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("query", [{}, {"patient": ""}, {"patient": "1.0"}, {"patient": 999999}])
def test_listing_assessments_names_one_patient(api, query):
    response = api.get(f"{API}/assessments/", query)
    assert response.status_code == 400
    assert list(response.json()) == ["patient"]


def test_a_retired_condition_is_not_assessed(derm_api):
    retired = condition("acne-scars")
    retired.active = False
    retired.save()
    body = {"patient": PatientFactory().pk, "skin_type": 3, "candidate": True, "conditions": [retired.pk]}
    response = derm_api.post(f"{API}/assessments/", body)
    assert response.json() == {"conditions": ["Acne scars is no longer offered."]}


# Courses


def test_proposing_a_course_takes_the_conditions_defaults(api, derm_api, dermatologist):
    patient = PatientFactory()
    assessment = record_assessment(dermatologist, patient)
    body = {"patient": patient.pk, "condition": condition("tattoo-removal").pk, "areas": [area().pk]}
    assert api.post(f"{API}/courses/", body).status_code == 403  # reception books, dermatologists propose
    response = derm_api.post(f"{API}/courses/", body)
    assert response.status_code == 201
    course = response.json()
    assert (course["planned_sessions"], course["min_interval_days"], course["max_interval_days"]) == (8, 42, 56)
    assert (course["status"], course["proposed_by"], course["areas"]) == ("proposed", dermatologist.pk, [area().pk])
    assert course["assessment"] == assessment.pk  # the patient's latest, as none was named
    assert api.get(f"{API}/courses/{course['id']}/").json() == course | {"notes": None}  # reception sees no notes
    again = derm_api.post(f"{API}/courses/", body | {"planned_sessions": 6, "assessment": assessment.pk})
    assert again.status_code == 400
    assert "already been proposed" in again.json()["non_field_errors"][0]
    course_cancel(course=TreatmentCourse.objects.get(pk=course["id"]))  # a cancelled course does not stand
    shorter = derm_api.post(f"{API}/courses/", body | {"planned_sessions": 6, "assessment": assessment.pk})
    assert shorter.json()["planned_sessions"] == 6


def test_a_courses_clinical_notes_are_shown_only_to_dermatologists(api, derm_api, dermatologist):
    course = TreatmentCourseFactory(notes="Faded well on the forearm; keep fluence")
    assert derm_api.get(f"{API}/courses/{course.pk}/").json()["notes"] == "Faded well on the forearm; keep fluence"
    assert api.get(f"{API}/courses/{course.pk}/").json()["notes"] is None


@pytest.mark.parametrize(
    "change, field",
    [
        ({"areas": []}, "areas"),
        ({"areas": "1,2"}, "areas"),
        ({"areas": [999999]}, "areas"),
        ({"condition": 999999}, "condition"),
        ({"planned_sessions": 99}, "planned_sessions"),
        ({"min_interval_days": 0}, "min_interval_days"),
        ({"min_interval_days": 30, "max_interval_days": 20}, "max_interval_days"),
    ],
)
def test_course_proposals_are_validated(derm_api, dermatologist, change, field):
    patient = PatientFactory()
    record_assessment(dermatologist, patient)
    body = {"patient": patient.pk, "condition": condition().pk, "areas": [area().pk]}
    response = derm_api.post(f"{API}/courses/", body | change)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not TreatmentCourse.objects.exists()


def test_only_a_dermatologist_approves_a_course_and_only_once(api, derm_api, dermatologist):
    course = TreatmentCourseFactory()
    url = f"{API}/courses/{course.pk}/approve/"
    assert api.post(url).status_code == 403
    nurse = APIClient()
    nurse.force_authenticate(PractitionerFactory(role=Practitioner.Role.LASER_NURSE).user)
    assert nurse.post(url).status_code == 403
    approved = derm_api.post(url)
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("approved", dermatologist.pk)
    again = derm_api.post(url)
    assert again.status_code == 409
    assert again.json() == {"detail": "This course is already approved."}


def test_a_plan_spaces_the_sessions_by_the_courses_intervals(api, clinic, course):
    response = api.get(f"{API}/courses/{course.pk}/plan/", {"start": day(21)})
    assert response.status_code == 200
    sessions = response.json()["sessions"]
    assert [s["sequence"] for s in sessions] == [1, 2, 3]
    assert sessions[0] == {
        "sequence": 1,
        "start": "2030-06-24T09:00:00+01:00",
        "end": "2030-06-24T09:30:00+01:00",
        "practitioner": clinic.practitioner.pk,
        "room": clinic.room.pk,
        "device": clinic.device.pk,
        "short_prep": False,
        "appointment": None,
    }
    # Intervals count calendar days on the clinic clock; the output is in clinic time.
    days = [datetime.fromisoformat(s["start"]).date() for s in sessions]
    assert all(42 <= (b - a).days <= 56 for a, b in zip(days, days[1:], strict=False))


def test_planning_an_unapproved_course_is_409(api, clinic):
    response = api.get(f"{API}/courses/{TreatmentCourseFactory().pk}/plan/")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only an approved course can be planned."}


def plan_of(api, course, **query):
    sessions = api.get(f"{API}/courses/{course.pk}/plan/", {"start": day(21), **query}).json()["sessions"]
    return [{k: s[k] for k in ("start", "practitioner", "room", "device", "appointment")} for s in sessions]


def test_booking_a_plan_books_every_session(api, clinic, course):
    response = api.post(f"{API}/courses/{course.pk}/book-plan/", {"sessions": plan_of(api, course)})
    assert response.status_code == 201
    appointments = response.json()["appointments"]
    assert [a["sequence"] for a in appointments] == [1, 2, 3]
    assert all(a["status"] == "booked" and a["course"] == course.pk for a in appointments)
    course.refresh_from_db()
    assert course.status == TreatmentCourse.Status.ACTIVE
    # A reflowed plan proposes the booked sessions again, naming each one.
    reflowed = plan_of(api, course, reflow="true")
    assert [s["appointment"] for s in reflowed] == [a["id"] for a in appointments]


def test_a_plan_with_one_clash_books_nothing(api, clinic, course):
    sessions = plan_of(api, course)
    holder = AppointmentFactory(practitioner=clinic.practitioner, start=datetime.fromisoformat(sessions[2]["start"]))
    response = api.post(f"{API}/courses/{course.pk}/book-plan/", {"sessions": sessions})
    assert response.status_code == 409
    assert response.json()["conflicts"] == [{"resource": "practitioner", "appointment": holder.pk}]
    assert not course.appointments.exists()


def test_a_plan_too_tightly_spaced_is_400_and_books_nothing(api, clinic, course):
    sessions = plan_of(api, course)
    sessions[1]["start"] = (datetime.fromisoformat(sessions[0]["start"]) + timedelta(days=7)).isoformat()
    response = api.post(f"{API}/courses/{course.pk}/book-plan/", {"sessions": sessions})
    assert response.status_code == 400
    assert "sessions" in response.json()
    assert not course.appointments.exists()


# Malformed requests: always a 4xx, never a 500


HUGE = 10**30
# (method, path, body, content type). A dict body is laid over a valid body for that path, so that
# the one bad part is what the endpoint sees.
MALFORMED = [
    ("post", "/appointments/", "{not json", "application/json"),
    ("post", "/appointments/", "[1, 2, 3]", "application/json"),
    ("post", "/appointments/", '"a string"', "application/json"),
    ("post", "/appointments/", "NaN", "application/json"),
    ("post", "/appointments/", "patient=1", "text/plain"),
    ("post", "/appointments/", {"patient": "abc", "kind": 5, "start": 12345, "practitioner": [1], "room": {}}, None),
    ("post", "/appointments/", {"patient": HUGE, "practitioner": -HUGE, "room": 1e308}, None),
    ("post", "/appointments/", {"kind": "review", "course": None, "device": None, "duration_minutes": HUGE}, None),
    ("post", "/appointments/", {"patient": True, "kind": None, "start": None, "acknowledge_short_prep": "maybe"}, None),
    ("post", "/appointments/", {"start": "2030-06-24T10:00:00+99:00"}, None),
    ("post", "/appointments/", {"start": "9999-12-31T23:59:59+00:00"}, None),
    ("post", "/appointments/", {"start": "0001-01-01T00:00:00-12:00"}, None),
    ("post", "/appointments/", {"start": "2030-06-24"}, None),
    ("post", "/appointments/", {"start": "2030-06-24T10:00:00"}, None),
    ("post", "/appointments/", {"notes": "x" * 6000}, None),
    ("post", "/appointments/{appointment}/reschedule/", {"start": "2030-06-24T10:00"}, None),
    ("post", "/appointments/{appointment}/reschedule/", {"start": ["2030-06-24T10:00:00+01:00"]}, None),
    ("post", "/appointments/{appointment}/cancel/", {"reason": {"nested": True}}, None),
    ("post", "/appointments/{appointment}/cancel/", {"reason": "x" * 201}, None),
    ("post", "/appointments/{appointment}/complete/", "[1, 2]", "application/json"),
    ("post", "/appointments/{appointment}/complete/", {"wavelength_nm": "1e400", "pulses": HUGE}, None),
    ("post", "/appointments/{appointment}/complete/", {"fluence_j_cm2": "Infinity", "spot_size_mm": 1e308}, None),
    ("post", "/appointments/{appointment}/complete/", {"fluence_j_cm2": 1000, "notes": None}, None),
    ("post", f"/appointments/{HUGE}/cancel/", {}, None),
    ("get", f"/appointments/{HUGE}/", None, None),
    ("get", "/appointments/abc/", None, None),
    ("get", "/appointments/?date=2030-13-01", None, None),
    ("get", f"/appointments/?practitioner={HUGE}&date=2030-06-24", None, None),
    ("get", "/appointments/?page=abc", None, None),
    ("get", f"/appointments/?page={HUGE}", None, None),
    ("get", f"/availability/?start=2030-06-24&days={HUGE}&duration=30", None, None),
    ("get", f"/availability/?start=2030-06-24&duration={HUGE}", None, None),
    ("get", "/availability/?start=0000-00-00&duration=30", None, None),
    ("get", "/availability/?start=2030-06-24&duration=30&limit=1e2", None, None),
    ("get", "/availability/?start=2030-06-24&duration=30&course={course}", None, None),
    ("get", "/patients/?q=%00", None, None),
    ("get", f"/patients/?q={'x' * 500}", None, None),
    ("post", "/patients/", {"first_name": "A\x00"}, None),
    ("post", "/patients/", {"date_of_birth": 19900101, "skin_type": "III"}, None),
    ("post", "/patients/", {"date_of_birth": "0001-01-01", "email": ["a@example.com"]}, None),
    ("patch", "/patients/{patient}/", {"email_consent": "perhaps", "skin_type": [3]}, None),
    ("patch", "/patients/{patient}/", "null", "application/json"),
    ("post", "/courses/", {"condition": "x", "areas": {"1": 2}}, None),
    ("post", "/courses/", {"planned_sessions": HUGE, "min_interval_days": -HUGE}, None),
    ("post", "/courses/", {"areas": [1, 1, HUGE]}, None),
    ("get", "/courses/{course}/plan/?start=tomorrow", None, None),
    ("get", "/courses/{course}/plan/?start=9999-12-31", None, None),
    ("get", "/courses/{course}/plan/?start=2030-06-24&reflow=perhaps", None, None),
    ("post", "/courses/{course}/book-plan/", {"sessions": "all of them"}, None),
    ("post", "/courses/{course}/book-plan/", {"sessions": [1, "two", None]}, None),
    ("post", "/courses/{course}/book-plan/", {"sessions": []}, None),
    ("post", "/courses/{course}/book-plan/", {"sessions": [{"start": "2030-07-01T09:00:00+01:00"}] * 40}, None),
    ("post", "/courses/{course}/book-plan/", {"sessions": [{"start": "2030-07-01T09:00", "appointment": HUGE}]}, None),
    ("post", f"/courses/{HUGE}/approve/", None, None),
    ("post", "/courses/", {"assessment": "latest"}, None),
    ("post", "/courses/", {"assessment": HUGE}, None),
    ("post", "/assessments/", {"skin_type": HUGE, "conditions": [HUGE], "contraindications": [None]}, None),
    ("post", "/assessments/", {"contraindications": ["pregnancy"] * 100}, None),
    ("post", "/assessments/", "[]", "application/json"),
    ("get", f"/assessments/?patient={HUGE}", None, None),
    ("get", "/assessments/?patient=１", None, None),
    ("get", f"/assessments/{HUGE}/", None, None),
    ("post", "/appointments/{appointment}/check-in/", {"no_sun": "perhaps", "remarks": "x" * 501}, None),
    ("post", "/appointments/{appointment}/check-in/", {"pregnancy": 1}, None),
]


@pytest.fixture
def valid_bodies(clinic, course, checked_in_treatment):
    session = {"practitioner": clinic.practitioner.pk, "room": clinic.room.pk, "device": clinic.device.pk}
    return {
        "/appointments/": treatment(clinic, course, at(21, 10)),
        "/appointments/{appointment}/complete/": RECORD,
        "/patients/": PATIENT,
        "/courses/": {"patient": course.patient_id, "condition": condition().pk, "areas": [area().pk]},
        "/courses/{course}/book-plan/": {"sessions": [session | {"start": at(21, 9).isoformat()}]},
        "/assessments/": {"patient": course.patient_id, "skin_type": 3, "candidate": True},
    }


@pytest.mark.parametrize("method, path, body, content_type", MALFORMED)
def test_malformed_requests_answer_4xx_never_500(
    api, course, checked_in_treatment, valid_bodies, method, path, body, content_type
):
    ids = {"course": course.pk, "appointment": checked_in_treatment.pk, "patient": course.patient_id}
    url = API + path.format(**ids)
    if isinstance(body, dict):
        body = valid_bodies.get(path, {}) | body
    kwargs = {"content_type": content_type} if content_type else {"format": "json"}
    response = getattr(api, method)(url, body, **kwargs)
    assert 400 <= response.status_code < 500, response.content


# The OpenAPI schema


def test_the_schema_and_its_docs_page_are_served(api):
    schema = api.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert "/api/v1/appointments/{id}/reschedule/" in json.loads(schema.content)["paths"]
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()  # patient data stays on the clinic's pages


def test_the_schema_documents_the_refusals_every_endpoint_can_give(api):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if "{id}" in path:
                assert "404" in codes, (method, path)
            if method != "get":
                assert "400" in codes, (method, path)
            if "requestBody" in operation:
                assert "415" in codes, (method, path)
    assert {"400", "404"} <= set(paths[f"{API}/appointments/"]["get"]["responses"])  # a bad filter, no such page
    page_size = next(p for p in paths[f"{API}/patients/"]["get"]["parameters"] if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}


def test_a_409_is_documented_with_conflicts_only_when_the_time_is_taken(api, clinic):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    conflict = schema["components"]["schemas"]["Conflict"]
    assert conflict["required"] == ["detail"]
    cancelled = visit(clinic, at(21, 10), status=Appointment.Status.CANCELLED)
    response = api.post(f"{API}/appointments/{cancelled.pk}/reschedule/", {"start": at(22, 10).isoformat()})
    assert response.status_code == 409
    assert list(response.json()) == ["detail"]


@pytest.mark.parametrize("path", [f"{API}/appointments/0.5/cancel/", f"{API}/appointments/1.5e-3/", f"{API}/nothing/"])
def test_an_api_url_that_matches_nothing_answers_404_in_json(api, path):
    response = api.get(path)
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"detail": "Not found."}


def test_a_page_that_does_not_exist_is_still_the_404_page(client, receptionist):
    client.force_login(receptionist)
    response = client.get("/nothing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_browsable_api_renders_for_a_logged_in_user(client, receptionist, clinic):
    client.force_login(receptionist)
    appointment = visit(clinic, at(21, 10))
    for url, expected in (
        (f"{API}/", 200),
        (f"{API}/appointments/", 200),
        (f"{API}/appointments/{appointment.pk}/", 200),
        (f"{API}/appointments/{appointment.pk}/reschedule/", 405),
        (f"{API}/availability/?start={day(21)}&duration=30", 200),
        (f"{API}/patients/", 200),
    ):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert (response.status_code, response["Content-Type"]) == (expected, "text/html; charset=utf-8"), url


def test_a_multipart_body_without_a_field_is_refused_not_read_as_no_change(api):
    patient = PatientFactory(first_name="Ada")
    boundary = "b0undary"
    response = api.generic(
        "PATCH", f"{API}/patients/{patient.pk}/", f"--{boundary}\r\nFalse--{boundary}--\r\n",
        content_type=f"multipart/form-data; boundary={boundary}",
    )  # fmt: skip
    assert response.status_code == 400
    assert "detail" in response.json()
