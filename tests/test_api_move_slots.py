"""The API's availability for moving an appointment (`?appointment=ID`): the same free times as the
reschedule page (scheduling.services.moves), so a client never offers a move the page would not.

The clock stands at 08:00 on Monday 1 March 2027; the dermatologist and a nurse work weekdays 09-17.
"""

from datetime import date, time

import pytest
from rest_framework.test import APIClient

from scheduling.models import Appointment
from scheduling.services import find_move_slots
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, PractitionerFactory, WorkingHoursFactory

URL = "/api/v1/availability/"


@pytest.fixture
def api(receptionist, frozen):
    client = APIClient()
    client.force_authenticate(receptionist)
    return client


@pytest.fixture
def nurse(clinic):
    nurse = PractitionerFactory(role="laser_nurse")
    for weekday in range(5):
        WorkingHoursFactory(practitioner=nurse, weekday=weekday, start_time=time(9), end_time=time(17))
    return nurse


def test_the_api_offers_the_same_moves_as_the_page(api, clinic, nurse):
    appointment = book_treatment(clinic, local(22, 10))
    response = api.get(URL, {"appointment": appointment.pk, "start": "2027-03-22", "days": 1, "limit": 100})
    assert response.status_code == 200, response.json()
    offered = [(s["start"], s["practitioner"]) for s in response.json()["slots"]]
    expected = find_move_slots(appointment=appointment, start_date=date(2027, 3, 22), days=1, limit=100, per_day=100)
    assert offered == [(s.start.isoformat().replace("+00:00", "Z"), s.practitioner.pk) for s in expected]
    assert (local(22, 10).isoformat().replace("+00:00", "Z"), clinic.practitioner.pk) not in offered
    assert (local(22, 10).isoformat().replace("+00:00", "Z"), nurse.pk) in offered


def test_the_api_keeps_a_middle_session_inside_its_window(api, clinic):
    book_treatment(clinic, local(22, 10))
    middle = book_treatment(clinic, local(10, 10, month=5))
    book_treatment(clinic, local(21, 10, month=6))
    response = api.get(URL, {"appointment": middle.pk, "start": "2027-05-11", "days": 7})
    assert response.status_code == 200 and response.json()["slots"] == []
    response = api.get(URL, {"appointment": middle.pk, "start": "2027-05-10", "days": 7, "limit": 100})
    assert {s["start"][:10] for s in response.json()["slots"]} == {"2027-05-10"}


@pytest.mark.parametrize("extra, field", [
    ({"duration": 30}, "appointment"), ({"course": "course"}, "appointment"), ({"kind": "review"}, "appointment"),
    ({"patient": "patient"}, "appointment"), ({"appointment": 999999}, "appointment"),
])  # fmt: skip
def test_an_appointment_gives_the_length_kind_and_patient_itself(api, clinic, extra, field):
    appointment = book_treatment(clinic, local(22, 10))
    ids = {"course": clinic.course.pk, "patient": clinic.patient.pk}
    query = {"appointment": appointment.pk, "start": "2027-03-22"} | {k: ids.get(v, v) for k, v in extra.items()}
    response = api.get(URL, query)
    assert response.status_code == 400
    assert field in response.json()


def test_an_appointment_that_cannot_move_is_refused_by_name(api, clinic):
    visit = AppointmentFactory(patient=clinic.patient, status=Appointment.Status.CANCELLED, start=local(2, 10))
    response = api.get(URL, {"appointment": visit.pk, "start": "2027-03-02"})
    assert response.status_code == 400
    assert response.json()["appointment"] == ["A cancelled appointment cannot be moved."]
