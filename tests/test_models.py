"""Structural rules the database itself enforces, and how records describe themselves."""

from datetime import time, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalogue.models import Condition
from clinical.models import Contraindication, TreatmentCourse
from scheduling.models import Appointment
from tests.factories import (
    AppointmentFactory,
    AssessmentFactory,
    ClinicClosureFactory,
    LaserDeviceFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    SessionRecordFactory,
    TimeOffFactory,
    TreatmentCourseFactory,
    UserFactory,
    WorkingHoursFactory,
    area,
    condition,
)

pytestmark = pytest.mark.django_db


def refused(factory, **kwargs):
    """True when the database refuses the row."""
    try:
        with transaction.atomic():
            factory(**kwargs)
    except IntegrityError:
        return True
    return False


def test_patient_skin_type_must_be_fitzpatrick_one_to_six():
    assert refused(PatientFactory, skin_type=7)
    assert refused(PatientFactory, skin_type=0)
    assert not refused(PatientFactory, skin_type=6)
    assert not refused(PatientFactory, skin_type=None)


def test_assessment_needs_a_skin_type_one_to_six():
    assert refused(AssessmentFactory, skin_type=9)


def test_assessment_lists_its_contraindications_readably():
    assessment = AssessmentFactory(contraindications=[Contraindication.PREGNANCY], candidate=False)
    assert assessment.get_contraindications_display() == ["Pregnancy or breastfeeding"]
    assert "not a candidate" in str(assessment)


def test_condition_sessions_and_intervals_must_be_consistent():
    base = dict(prep_text="p", aftercare_text="a", min_interval_days=28, max_interval_days=42)
    assert refused(
        Condition.objects.create, name="X", slug="x", default_sessions=2, min_sessions=3, max_sessions=5, **base
    )
    assert refused(
        Condition.objects.create, name="Y", slug="y", default_sessions=3, min_sessions=0, max_sessions=5, **base
    )
    assert refused(
        Condition.objects.create,
        name="Z",
        slug="z",
        default_sessions=3,
        min_sessions=3,
        max_sessions=5,
        prep_text="p",
        aftercare_text="a",
        min_interval_days=50,
        max_interval_days=42,
    )


def test_condition_names_are_unique():
    assert refused(
        Condition.objects.create,
        name="Tattoo removal",
        slug="tattoo-2",
        default_sessions=8,
        min_sessions=6,
        max_sessions=10,
        min_interval_days=42,
        max_interval_days=56,
        prep_text="p",
        aftercare_text="a",
    )


def test_rooms_and_devices_have_unique_names():
    RoomFactory(name="Room A")
    LaserDeviceFactory(name="PicoWay")
    assert refused(RoomFactory, name="Room A")
    assert refused(LaserDeviceFactory, name="PicoWay")


def test_working_hours_must_end_after_they_start():
    assert refused(WorkingHoursFactory, start_time=time(17), end_time=time(9))
    assert refused(WorkingHoursFactory, weekday=7)


def test_time_off_and_closures_must_not_end_before_they_start():
    now = timezone.now()
    assert refused(TimeOffFactory, start=now, end=now)
    assert refused(ClinicClosureFactory, end_date=ClinicClosureFactory.start_date - timedelta(days=1))


def test_course_needs_at_least_one_session_and_a_sane_interval():
    assert refused(TreatmentCourseFactory, planned_sessions=0)
    assert refused(TreatmentCourseFactory, min_interval_days=50, max_interval_days=40)


def test_course_copies_its_protocol_from_the_condition():
    course = TreatmentCourseFactory()
    assert (course.planned_sessions, course.min_interval_days, course.max_interval_days) == (8, 42, 56)
    assert course.status == TreatmentCourse.Status.PROPOSED
    assert str(course).startswith("Tattoo removal for ")


def test_a_course_cannot_be_approved_without_recording_who_approved_it():
    assert refused(TreatmentCourseFactory, status=TreatmentCourse.Status.APPROVED)
    assert refused(TreatmentCourseFactory, status=TreatmentCourse.Status.ACTIVE)
    assert not refused(TreatmentCourseFactory, approved=True)


def test_appointment_must_end_after_it_starts_and_block_until_after_its_end():
    start = timezone.now() + timedelta(days=3)
    assert refused(AppointmentFactory, start=start, end=start)
    assert refused(AppointmentFactory, start=start, end=start + timedelta(minutes=30), blocked_until=start)


def test_treatment_needs_a_course_and_a_device():
    course = TreatmentCourseFactory(approved=True)
    device = LaserDeviceFactory()
    treatment = dict(kind=Appointment.Kind.TREATMENT, patient=course.patient)
    assert refused(AppointmentFactory, **treatment, device=device)
    assert refused(AppointmentFactory, **treatment, course=course)
    assert not refused(AppointmentFactory, **treatment, course=course, device=device)


def test_session_record_settings_must_be_plausible():
    assert refused(SessionRecordFactory, wavelength_nm=10)
    assert refused(SessionRecordFactory, fluence_j_cm2="0")
    assert refused(SessionRecordFactory, spot_size_mm="0")
    assert refused(SessionRecordFactory, pulses=0)


def test_treatment_area_size_gives_the_session_length():
    assert area("Small tattoo (up to 5 × 5 cm)").minutes == 30
    assert area("Neck").minutes == 45
    assert area("Full face").minutes == 60


def test_records_describe_themselves():
    practitioner = PractitionerFactory(user=UserFactory(first_name="Asha", last_name="Patel"))
    assert str(practitioner) == "Dr Asha Patel"
    patient = PatientFactory(first_name="Ada", last_name="Byron")
    assert str(patient) == "Ada Byron"
    hours = WorkingHoursFactory(practitioner=practitioner, weekday=2, start_time=time(9), end_time=time(13))
    assert str(hours) == "Dr Asha Patel: Wednesday 09:00–13:00"
    assert str(condition("acne-scars")) == "Acne scars"
    assert str(RoomFactory(name="Room 7")) == "Room 7"
    appointment = AppointmentFactory(patient=patient)
    assert str(appointment).startswith("Consultation for Ada Byron on ")
    assert str(SessionRecordFactory(appointment=appointment)).startswith("Session record for Consultation")
    assert "Christmas" in str(ClinicClosureFactory())
    assert str(TimeOffFactory(practitioner=practitioner)).startswith("Dr Asha Patel off ")
