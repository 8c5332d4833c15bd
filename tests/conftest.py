"""Personas used across the suite: the clinic's receptionist, dermatologist and manager."""

import importlib
from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from catalogue.models import Condition
from clinical.models import ConsentText, SunExposure
from clinical.services.assessments import assessment_record
from clinical.services.consent import consent_sign
from tests.browser import chromium, page  # noqa: F401 - fixtures for the browser tests
from tests.factories import (
    AssessmentFactory,
    LaserDeviceFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    TreatmentCourseFactory,
    UserFactory,
    WorkingHoursFactory,
)


def _in_group(user, name):
    user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def receptionist(db):
    return _in_group(UserFactory(username="reception"), "Reception")


@pytest.fixture
def dermatologist(db):
    practitioner = PractitionerFactory(user=UserFactory(username="dr.derm"))
    _in_group(practitioner.user, "Dermatologist")
    return practitioner


@pytest.fixture
def manager(db):
    return _in_group(UserFactory(username="manager", is_staff=True), "Manager")


LONDON = ZoneInfo("Europe/London")
# Monday 1 March 2027, 08:00 in London (GMT). Clocks go forward on 28 March and back on 31 October.
MONDAY_MORNING = datetime(2027, 3, 1, 8, tzinfo=LONDON)


def local(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2027) -> datetime:
    """An instant given as the clinic's wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def frozen(time_machine):
    """The clock stands still at Monday 1 March 2027, 08:00 London time."""
    time_machine.move_to(MONDAY_MORNING, tick=False)
    return timezone.now()


def ensure_catalogue():
    """The conditions and treatment areas the data migrations seed. A test with a live server runs
    on committed data that is flushed afterwards; this puts the catalogue back (idempotently)."""
    from django.apps import apps

    class Catalogue:
        """The seeds ask for the models under the apps they lived in then; they live in catalogue now."""

        @staticmethod
        def get_model(app_label, model_name):
            return apps.get_model("catalogue", model_name)

    for module in (
        "patients.migrations.0003_seed_conditions",
        "catalogue.migrations.0002_condition_day_before_text",
        "catalogue.migrations.0004_condition_outcome_scale",
        "catalogue.migrations.0005_condition_test_patch_required",
        "scheduling.migrations.0002_seed_treatment_areas",
    ):
        importlib.import_module(module).seed(Catalogue, None)


@pytest.fixture(autouse=True)
def _catalogue_for_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        # ContentType's cache outlives a test's rollback: a content type a rolled-back test created
        # (a migration test, a relabel) is still cached with an id no table holds, which only a
        # committing test notices, as the audit log's foreign key.
        ContentType.objects.clear_cache()
        ensure_catalogue()


@pytest.fixture(autouse=True)
def _no_seeded_consent(request):
    """The data migration seeds a consent text for each condition, which every treatment's check-in
    would then need signed. A test starts as a clinic that wrote no consent text yet (nothing to
    sign), unless it is marked `seeded_consent`; the consent tests write the texts they need."""
    if request.node.get_closest_marker("seeded_consent"):
        return
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = (marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames
    request.getfixturevalue("transactional_db" if transactional else "db")
    ConsentText.objects.filter(signatures__isnull=True).delete()


@pytest.fixture
def clinic(db, dermatologist):
    """A small clinic: one dermatologist working Monday to Friday 09:00-17:00, one room, one laser
    set up for every condition, and a patient with an approved tattoo-removal course."""
    for weekday in range(5):
        WorkingHoursFactory(practitioner=dermatologist, weekday=weekday, start_time=time(9), end_time=time(17))
    device = LaserDeviceFactory(name="PicoWay")
    device.conditions.set(Condition.objects.all())
    course = TreatmentCourseFactory(
        approved=True, approved_by=dermatologist, patient=PatientFactory(first_name="Ada", last_name="Byron")
    )
    return SimpleNamespace(
        practitioner=dermatologist,
        room=RoomFactory(name="Room 1"),
        device=device,
        patient=course.patient,
        course=course,
    )


def record_assessment(dermatologist, patient, *conditions, **overrides):
    """A consultation's outcome recorded through the service: by default a candidate for the given
    conditions (tattoo removal if none), without contraindications."""
    arguments = dict(
        patient=patient,
        dermatologist=dermatologist,
        skin_type=patient.skin_type or 3,
        conditions=conditions or [Condition.objects.get(slug="tattoo-removal")],
        candidate=True,
    )
    return assessment_record(**arguments | overrides)


def book_treatment(clinic, start, **overrides):
    """Book a session of the clinic's course through the booking service (short prep accepted)."""
    from scheduling.services import appointment_book

    arguments = dict(
        patient=clinic.patient,
        kind="treatment",
        course=clinic.course,
        start=start,
        practitioner=clinic.practitioner,
        room=clinic.room,
        device=clinic.device,
        acknowledge_short_prep=True,
    )
    return appointment_book(**arguments | overrides)


def patch_course(clinic):
    """An approved course of the clinic's patient with no session yet, to book a test patch on."""
    pigmentation = Condition.objects.get(slug="pigmentation")
    return TreatmentCourseFactory(patient=clinic.patient, approved=True, condition=pigmentation)


@pytest.fixture
def records(clinic, frozen):
    """One of each record the staff pages open, by name, for tables of URLs (ids)."""
    proposed = TreatmentCourseFactory(patient=clinic.patient, planned_sessions=3)
    return {
        "appointment": book_treatment(clinic, local(1, 10)).pk,
        # A test patch of another course, for its result page (scheduling.services.test_patch).
        "patch": book_treatment(clinic, local(1, 14), kind="test_patch", course=patch_course(clinic)).pk,
        "course": clinic.course.pk,
        "proposed": proposed.pk,
        "patient": clinic.patient.pk,
        "assessment": AssessmentFactory(patient=clinic.patient, dermatologist=clinic.practitioner).pk,
        # Months after the booked visit, so it touches none.
        "sun_exposure": SunExposure.objects.create(
            patient=clinic.patient, first_day=date(2027, 8, 2), last_day=date(2027, 8, 6), what="beach holiday"
        ).pk,
        "consent_signature": _photo_consent(clinic.patient).pk,
        "catalogue": None,  # filled per route: the first row of its list
    }


def _photo_consent(patient):
    """The patient's answer to a photo consent (which no check-in needs), signed on the tablet."""
    text = ConsentText.objects.create(kind="photo", version=1, title="Photo consent", body="Photos of the area.",
                                      published_at=timezone.now())  # fmt: skip
    return consent_sign(patient=patient, text=text, typed_name=patient.full_name, channel="tablet",
                        client_address="10.0.0.9", photo_clinical=True, photo_marketing=False)  # fmt: skip
