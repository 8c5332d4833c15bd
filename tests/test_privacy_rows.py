"""Erasure closes the patient's open courses (nobody will book them again), and the export's cost
does not grow with the patient's history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinical.models import TreatmentCourse
from outbox.models import Notification
from records.privacy import patient_erase, patient_export
from records.queues import unbooked_courses
from scheduling.models import Appointment
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, SessionRecordFactory, TreatmentCourseFactory

pytestmark = pytest.mark.django_db


def test_erasure_closes_the_patients_open_courses_so_reception_stops_seeing_them(clinic, frozen, manager):
    proposed = TreatmentCourseFactory(patient=clinic.patient)
    done = TreatmentCourseFactory(patient=clinic.patient, approved=True, status=TreatmentCourse.Status.COMPLETED)
    assert clinic.course in [row.course for row in unbooked_courses(timezone.now())]
    patient_erase(patient=clinic.patient, by=manager, reason="Request of 1 March")
    statuses = dict(TreatmentCourse.objects.filter(patient=clinic.patient).values_list("pk", "status"))
    assert statuses == {clinic.course.pk: "cancelled", proposed.pk: "cancelled", done.pk: "completed"}
    assert clinic.course not in [row.course for row in unbooked_courses(timezone.now())]
    assert TreatmentCourse.objects.get(pk=clinic.course.pk).notes == ""  # the reason is not written in them


def test_erasure_with_a_past_session_left_unmarked_still_closes_the_course(clinic, frozen, manager, time_machine):
    past = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(2, 9), tick=False)
    patient_erase(patient=clinic.patient, by=manager, reason="Request of 2 March")
    assert TreatmentCourse.objects.get(pk=clinic.course.pk).status == "cancelled"
    assert Appointment.objects.get(pk=past.pk).status == "cancelled"  # the course rule: no session left open
    assert not Notification.objects.filter(patient=clinic.patient, status="pending").exists()


def _add_history(clinic, day):
    """One more of everything an export lists: a course with its assessment and areas, a booked
    consultation with its emails, and a treatment given earlier with its session record."""
    TreatmentCourseFactory(patient=clinic.patient, notes="")
    book_treatment(clinic, local(day, 14), kind="consultation", course=None, device=None)
    given = AppointmentFactory(
        patient=clinic.patient, start=local(day - 20, 10), practitioner=clinic.practitioner, room=clinic.room
    )
    SessionRecordFactory(appointment=given)


def _queries(clinic, manager):
    with CaptureQueriesContext(connection) as queries:
        patient_export(patient=clinic.patient, by=manager)
    return len(queries)


def test_the_export_costs_a_fixed_number_of_queries_however_long_the_history(clinic, frozen, manager):
    _add_history(clinic, 22)
    few = _queries(clinic, manager)
    for day in (23, 24, 25):
        _add_history(clinic, day)
    assert Appointment.objects.filter(patient=clinic.patient).count() == 8
    assert _queries(clinic, manager) == few
    assert few <= 15
