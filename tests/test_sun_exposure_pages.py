"""Planned sun exposure on the staff pages and the API: recorded on the patient page, refused
bookings and moves named with the exposure and accepted with the acknowledgement, the queue's
"move or confirm". The clock stands at 08:00 on Monday 1 March 2027."""

from datetime import date

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from clinical.models import SunExposure
from clinical.services.sun_exposure import sun_exposure_record
from outbox.models import Notification
from scheduling.models import Appointment
from tests.conftest import book_treatment, local
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
REASON = "planned sun exposure (beach holiday) 3-10 July: no treatment until 25 July"


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


@pytest.fixture
def holiday(clinic, frozen):
    return sun_exposure_record(
        patient=clinic.patient, first_day=date(2027, 7, 3), last_day=date(2027, 7, 10), what="beach holiday"
    )


def slot(clinic, start, **extra):
    return {"start": start.isoformat(), "practitioner": clinic.practitioner.pk, "room": clinic.room.pk,
            "device": clinic.device.pk} | extra  # fmt: skip


def texts(response):
    return [str(m) for m in response.context["messages"]]


def test_reception_adds_changes_and_removes_planned_sun_exposure_on_the_patient_page(reception, clinic):
    add = reverse("patients:sun_exposure_add", args=[clinic.patient.pk])
    data = {"what": "ski trip", "first_day": "2027-02-01", "last_day": "2027-02-07"}
    refused = reception.post(add, data)
    assert refused.status_code == 200 and "That exposure is over already." in refused.content.decode()
    response = reception.post(add, data | {"first_day": "2027-03-20", "last_day": "2027-03-27"}, follow=True)
    exposure = SunExposure.objects.get()
    assert (exposure.what, exposure.first_day, exposure.recorded_by.username) == ("ski trip", date(2027, 3, 20),
                                                                                 "reception")  # fmt: skip
    page = response.content.decode()
    assert "Planned sun exposure" in page and "ski trip" in page
    assert reverse("patients:sun_exposure_edit", args=[clinic.patient.pk, exposure.pk]) in page
    edit = reverse("patients:sun_exposure_edit", args=[clinic.patient.pk, exposure.pk])
    reception.post(edit, data | {"what": "ski week", "first_day": "2027-03-20", "last_day": "2027-03-28"})
    exposure.refresh_from_db()
    assert (exposure.what, exposure.last_day) == ("ski week", date(2027, 3, 28))
    reception.post(reverse("patients:sun_exposure_remove", args=[clinic.patient.pk, exposure.pk]))
    assert not SunExposure.objects.exists()


def test_an_exposure_is_reached_only_under_its_own_patients_address(reception, clinic, holiday):
    other = PatientFactory()
    for name in ("patients:sun_exposure_edit", "patients:sun_exposure_remove"):
        url = reverse(name, args=[other.pk, holiday.pk])
        assert reception.post(url, {}).status_code == 404
    assert SunExposure.objects.filter(pk=holiday.pk).exists()


def test_the_course_page_refuses_a_session_in_the_exposure_and_books_it_acknowledged(reception, clinic, holiday):
    url = reverse("scheduling:course_book", args=[clinic.course.pk])
    refused = reception.post(url, slot(clinic, local(15, 10, month=7)))
    assert any(REASON in text for text in texts(refused))
    assert 'name="acknowledge_sun_exposure"' in refused.content.decode()  # the "book anyway" form
    assert not Appointment.objects.exists()
    booked = reception.post(url, slot(clinic, local(15, 10, month=7), acknowledge_sun_exposure="on"))
    assert booked.status_code == 302
    assert Appointment.objects.get().sun_exposure_acknowledged_by.username == "reception"


def test_a_time_picked_on_the_day_board_in_the_exposure_says_why_it_cannot_be_booked(reception, clinic, holiday):
    url = reverse("scheduling:course_book", args=[clinic.course.pk])
    page = reception.get(url, {"start": local(15, 10, month=7).strftime("%Y-%m-%dT%H:%M")}).content.decode()
    assert f"cannot be booked: {REASON}." in page


def test_the_reschedule_page_refuses_a_move_into_the_exposure_and_moves_it_acknowledged(reception, clinic, holiday):
    session = book_treatment(clinic, local(29, 10, month=6))
    url = reverse("scheduling:appointment_reschedule", args=[session.pk])
    refused = reception.post(url, slot(clinic, local(6, 10, month=7)))
    assert any(REASON in text for text in texts(refused))
    assert 'name="acknowledge_sun_exposure"' in refused.content.decode()
    moved = reception.post(url, slot(clinic, local(6, 10, month=7), acknowledge_sun_exposure="on"))
    assert moved.status_code == 302
    session.refresh_from_db()
    assert session.start == local(6, 10, month=7) and session.sun_exposure_acknowledged_at is not None


def test_the_queue_lists_a_session_in_a_new_exposure_until_reception_confirms_it(reception, clinic, frozen):
    session = book_treatment(clinic, local(15, 10, month=7))
    sun_exposure_record(
        patient=clinic.patient, first_day=date(2027, 7, 3), last_day=date(2027, 7, 10), what="beach holiday"
    )
    assert Notification.objects.filter(appointment=session, kind=Notification.Kind.SUN_EXPOSURE).exists()
    queue = reception.get(reverse("queues:index")).content.decode()
    section = queue.split('id="sun-exposure"', 1)[1].split("</section>", 1)[0]
    assert "Sun exposure: move or confirm" in section and "beach holiday" in section
    assert reverse("scheduling:appointment_reschedule", args=[session.pk]) in section
    reception.post(reverse("scheduling:sun_exposure_confirm", args=[session.pk]))
    section = reception.get(reverse("queues:index")).content.decode().split('id="sun-exposure"', 1)[1]
    assert "No session falls in a patient's planned sun exposure" in section.split("</section>", 1)[0]


def test_the_api_refuses_with_the_reason_and_books_and_moves_with_the_acknowledgement(receptionist, clinic, holiday):
    api = APIClient()
    api.force_authenticate(receptionist)
    booking = {"patient": clinic.patient.pk, "kind": "treatment", "course": clinic.course.pk,
               **slot(clinic, local(15, 10, month=7))}  # fmt: skip
    refused = api.post("/api/v1/appointments/", booking, format="json")
    assert refused.status_code == 400
    assert REASON in refused.json()["acknowledge_sun_exposure"][0]
    booked = api.post("/api/v1/appointments/", booking | {"acknowledge_sun_exposure": True}, format="json")
    assert booked.status_code == 201 and booked.json()["sun_exposure"] is True
    move = f"/api/v1/appointments/{booked.json()['id']}/reschedule/"
    refused = api.post(move, {"start": local(16, 10, month=7).isoformat()}, format="json")
    assert refused.status_code == 400 and REASON in refused.json()["acknowledge_sun_exposure"][0]
    moved = api.post(move, {"start": local(16, 10, month=7).isoformat(), "acknowledge_sun_exposure": True},
                     format="json")  # fmt: skip
    assert moved.status_code == 200 and moved.json()["sun_exposure"] is True
    listed = api.get(f"/api/v1/patients/{clinic.patient.pk}/sun-exposure/")
    assert listed.json() == [{"id": holiday.pk, "first_day": "2027-07-03", "last_day": "2027-07-10",
                              "what": "beach holiday"}]  # fmt: skip
