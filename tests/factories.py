from datetime import date, time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalogue.models import (
    ClinicClosure,
    Condition,
    LaserDevice,
    Practitioner,
    Room,
    TimeOff,
    TreatmentArea,
    WorkingHours,
)
from clinical.models import Assessment, TreatmentCourse
from patients.models import Patient
from scheduling.models import Appointment, SessionRecord


def condition(slug="tattoo-removal"):
    """The seeded catalogue conditions, as the data migration left them."""
    return Condition.objects.get(slug=slug)


def area(name="Small tattoo (up to 5 × 5 cm)"):
    return TreatmentArea.objects.get(name=name)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner

    user = factory.SubFactory(UserFactory)
    role = Practitioner.Role.DERMATOLOGIST


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    practitioner = factory.SubFactory(PractitionerFactory)
    weekday = 0
    start_time = time(9)
    end_time = time(17)


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    practitioner = factory.SubFactory(PractitionerFactory)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=4))
    reason = "Training"


class ClinicClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicClosure

    start_date = date(2027, 12, 25)
    end_date = date(2027, 12, 26)
    reason = "Christmas"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    # Not "Room N": the clinic fixture's "Room 1" would clash with the sequence in a fresh process.
    name = factory.Sequence(lambda n: f"Suite {n}")


class LaserDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LaserDevice

    name = factory.Sequence(lambda n: f"Laser {n}")
    model = "Candela PicoWay"
    wavelengths_nm = "532, 785, 1064"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(1990, 5, 17)
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    phone = factory.Sequence(lambda n: f"+44 7700 9{n:05d}")
    skin_type = 3
    email_consent = True


class AssessmentFactory(factory.django.DjangoModelFactory):
    """An assessment row as it is stored. To propose a course on one through the service, give it
    `conditions=[...]` (or record it with `tests.conftest.record_assessment`)."""

    patient = factory.SubFactory(PatientFactory)
    dermatologist = factory.SubFactory(PractitionerFactory)
    skin_type = 3
    candidate = True

    class Meta:
        model = Assessment
        skip_postgeneration_save = True

    @factory.post_generation
    def conditions(self, create, extracted, **kwargs):
        """The conditions found: `conditions=[...]`; none unless given."""
        if create and extracted:
            self.conditions.set(extracted)


class TreatmentCourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentCourse
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    condition = factory.LazyFunction(condition)
    # As course_propose requires: an assessment of the patient that found them a candidate for the
    # condition, by the dermatologist who proposed the course.
    proposed_by = factory.SubFactory(PractitionerFactory)
    assessment = factory.SubFactory(
        AssessmentFactory,
        patient=factory.SelfAttribute("..patient"),
        dermatologist=factory.SelfAttribute("..proposed_by"),
    )
    planned_sessions = factory.LazyAttribute(lambda o: o.condition.default_sessions)
    min_interval_days = factory.LazyAttribute(lambda o: o.condition.min_interval_days)
    max_interval_days = factory.LazyAttribute(lambda o: o.condition.max_interval_days)

    @factory.post_generation
    def areas(self, create, extracted, **kwargs):
        if create:
            self.areas.set(extracted or [area()])
            if self.assessment is not None:
                self.assessment.conditions.add(self.condition)

    class Params:
        approved = factory.Trait(
            status=TreatmentCourse.Status.APPROVED,
            approved_by=factory.SubFactory(PractitionerFactory),
            approved_at=factory.LazyFunction(timezone.now),
        )


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A consultation by default; pass `course=` (approved) and `device=` for a treatment."""

    class Meta:
        model = Appointment

    kind = Appointment.Kind.CONSULTATION
    patient = factory.SubFactory(PatientFactory)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=20))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=30))
    blocked_until = factory.LazyAttribute(lambda o: o.end + timedelta(minutes=10))
    practitioner = factory.SubFactory(PractitionerFactory)
    room = factory.SubFactory(RoomFactory)


class SessionRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionRecord

    appointment = factory.SubFactory(AppointmentFactory)
    wavelength_nm = 1064
    fluence_j_cm2 = "2.50"
    spot_size_mm = "4.0"
    pulses = 800
    skin_reaction = SessionRecord.Reaction.MILD_ERYTHEMA
    recorded_by = factory.SelfAttribute("appointment.practitioner")
