"""Patient records: the rules a patient's details keep, finding patients, and the patient page.

Every way a patient is created or changed from the staff pages goes through `patient_create` and
`patient_update`, which check the details and raise a `ValidationError` keyed by field. The forms
call the same `check_*` functions so that all mistakes show at once, before the service runs.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Replace
from django.utils import timezone

from patients.models import Assessment, Patient
from scheduling.models import Appointment, Notification, TreatmentCourse
from scheduling.services.slots import interval_window

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "skin_type",
    "email_consent",
    "notes",
)
PHONE_CHARACTERS = re.compile(r"[0-9 +\-()]+")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 20
MAX_AGE_YEARS = 120
SEARCH_LIMIT = 50
SEARCH_MAX_LENGTH = 100
# Statuses of an appointment still to happen (a completed one is in the past whatever its time).
UPCOMING_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED, Appointment.Status.CHECKED_IN)
BOOKABLE_COURSE_STATUSES = (TreatmentCourse.Status.APPROVED, TreatmentCourse.Status.ACTIVE)
# Characters people type between the digits of a phone number; search ignores them on both sides.
_PHONE_SEPARATORS = (" ", "-", "(", ")", ".")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


# Rules


def check_phone(value: str) -> None:
    """A phone number: digits, spaces, +, - and parentheses, with 7 to 20 digits."""
    if not value:
        return
    if not PHONE_CHARACTERS.fullmatch(value):
        raise ValidationError("Use only digits, spaces, +, - and parentheses.", code="phone_characters")
    digits = sum(c.isdigit() for c in value)
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        raise ValidationError(
            f"A phone number has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits.", code="phone_length"
        )


def earliest_birth_date(today: date) -> date:
    """The first date of birth accepted: MAX_AGE_YEARS before `today` (28 February for a 29th)."""
    year = today.year - MAX_AGE_YEARS
    try:
        return today.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def check_date_of_birth(value: date, *, today: date | None = None) -> None:
    """Not in the future (on the clinic's calendar) and not more than MAX_AGE_YEARS ago."""
    today = today or timezone.localdate()
    if value > today:
        raise ValidationError("The date of birth cannot be in the future.", code="future")
    if value < earliest_birth_date(today):
        raise ValidationError(f"The date of birth cannot be more than {MAX_AGE_YEARS} years ago.", code="too_old")


def _normalise(details: dict) -> dict:
    return {name: value.strip() if isinstance(value, str) else value for name, value in details.items()}


def _validate(patient: Patient, changed: set[str]) -> None:
    """Check the `changed` fields of `patient`: the model's own field rules, then the clinic's."""
    errors: dict[str, list] = {}
    unchanged = [f.name for f in Patient._meta.fields if f.name not in changed]
    try:
        patient.full_clean(exclude=unchanged, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.update(error.error_dict)
    rules = {"phone": check_phone, "date_of_birth": check_date_of_birth}
    for name, rule in rules.items():
        value = getattr(patient, name)
        if name in changed and name not in errors and value is not None:
            try:
                rule(value)
            except ValidationError as error:
                errors[name] = [error]
    if errors:
        raise ValidationError(errors)


def patient_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str = "",
    phone: str = "",
    skin_type: int | None = None,
    email_consent: bool = False,
    notes: str = "",
) -> Patient:
    """Register a patient, or raise ValidationError naming each field that breaks a rule."""
    details = _normalise(
        {
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "email": email,
            "phone": phone,
            "skin_type": skin_type,
            "email_consent": email_consent,
            "notes": notes,
        }
    )
    patient = Patient(**details)
    _validate(patient, set(details))
    patient.save()
    logger.info("patient %s created", patient.pk)
    return patient


def patient_update(*, patient: Patient, **changes) -> Patient:
    """Change some of a patient's details (any of EDITABLE_FIELDS), checking only what changes.

    Raises ValidationError keyed by field; nothing is saved then. `patient` is refreshed in place.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"patient_update() cannot change {', '.join(sorted(unknown))}")
    changes = _normalise(changes)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.erased_at is not None:
            raise ValidationError("This patient's details were erased on request and cannot be edited.")
        for name, value in changes.items():
            setattr(locked, name, value)
        _validate(locked, set(changes))
        locked.save(update_fields=[*changes, "updated_at"])
    for name in (*changes, "updated_at"):
        setattr(patient, name, getattr(locked, name))
    logger.info("patient %s updated: %s", patient.pk, ", ".join(sorted(changes)))
    return patient


# Search


def parse_search_date(text: str) -> date | None:
    """A date typed as YYYY-MM-DD or DD/MM/YYYY, or None."""
    match = _DMY.fullmatch(text)
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        return None
    return None


def _compact_phone(expression):
    for separator in _PHONE_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def patient_search(*, query: str, now: datetime | None = None, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Patients matching `query`, by name, at most `limit` of them (ask for one more to know
    whether there are more).

    Every word must match the first or last name; or the whole query is part of the email, part
    of the phone number (spaces, dashes and parentheses ignored), or the date of birth. Each
    patient carries `next_appointment_id` and `next_appointment_start`: the next visit not yet over.
    """
    # NUL cannot reach PostgreSQL in a string; nobody means it in a search either.
    query = " ".join(query.replace("\x00", "").split())[:SEARCH_MAX_LENGTH]
    if not query:
        return []
    now = now or timezone.now()
    words = Q()
    for word in query.split():
        words &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    match = words | Q(email__icontains=query)
    compact = "".join(c for c in query if c not in _PHONE_SEPARATORS)
    if PHONE_CHARACTERS.fullmatch(query) and sum(c.isdigit() for c in compact) >= 3:
        match |= Q(phone_compact__contains=compact)
    birth_date = parse_search_date(query)
    if birth_date is not None:
        match |= Q(date_of_birth=birth_date)
    upcoming = Appointment.objects.filter(patient=OuterRef("pk"), status__in=UPCOMING_STATUSES, end__gt=now)
    upcoming = upcoming.order_by("start", "pk")
    patients = (
        Patient.objects.annotate(phone_compact=_compact_phone(F("phone")))
        .filter(match)
        .annotate(
            next_appointment_id=Subquery(upcoming.values("pk")[:1]),
            next_appointment_start=Subquery(upcoming.values("start")[:1]),
        )
        .order_by("last_name", "first_name", "pk")
    )
    return list(patients[:limit])


# The patient page


@dataclass
class CourseProgress:
    """A course with its treatment sessions (every status, in time order) and what comes next."""

    course: TreatmentCourse
    sessions: list[Appointment] = field(default_factory=list)
    done: int = 0
    held: int = 0  # sessions done or booked
    next_sequence: int | None = None  # the first session not booked yet, if the course can book it
    next_window: tuple[date, date] | None = None  # its first and last allowed local days
    window_missed: bool = False  # the last allowed day has passed with the session unbooked

    @property
    def planned(self) -> int:
        return self.course.planned_sessions

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.planned)) if self.planned else 0


@dataclass
class PatientOverview:
    patient: Patient
    clinical: bool
    assessments: list[Assessment]
    courses: list[CourseProgress]
    upcoming: list[Appointment]
    past: list[Appointment]
    notifications: list[Notification]


def _window_days(previous_start: datetime, course: TreatmentCourse) -> tuple[date, date]:
    earliest, latest = interval_window(previous_start, course)
    # `latest` is exclusive: the start of the day after the last allowed one.
    return timezone.localdate(earliest), timezone.localdate(latest) - timedelta(days=1)


def _progress(course: TreatmentCourse, sessions: list[Appointment], *, today: date) -> CourseProgress:
    held = [s for s in sessions if s.status in Appointment.ACTIVE_STATUSES]
    progress = CourseProgress(
        course=course,
        sessions=sessions,
        done=sum(s.status == Appointment.Status.COMPLETED for s in held),
        held=len(held),
    )
    if course.status in BOOKABLE_COURSE_STATUSES and len(held) < course.planned_sessions:
        progress.next_sequence = len(held) + 1
        if held:
            progress.next_window = _window_days(max(s.start for s in held), course)
            progress.window_missed = progress.next_window[1] < today
    return progress


def patient_overview(*, patient_id: int, clinical: bool, now: datetime | None = None) -> PatientOverview:
    """Everything the patient page shows, in a constant number of queries.

    Without `clinical`, assessments are loaded without their clinical details and session records
    not at all, so a page for reception cannot show them by mistake. Raises Patient.DoesNotExist.
    """
    now = now or timezone.now()
    patient = Patient.objects.get(pk=patient_id)
    assessments = Assessment.objects.filter(patient=patient)
    if clinical:
        assessments = assessments.select_related("dermatologist__user").prefetch_related("conditions")
    else:
        assessments = assessments.only("pk", "patient_id", "assessed_at", "candidate")
    appointments = Appointment.objects.filter(patient=patient).select_related(
        "practitioner__user", "room", "device", "course__condition"
    )
    if clinical:
        appointments = appointments.select_related("session_record")
    appointments = list(appointments.order_by("start", "pk"))
    courses = TreatmentCourse.objects.filter(patient=patient).select_related("condition").prefetch_related("areas")
    sessions: dict[int, list[Appointment]] = {}
    for appointment in appointments:
        if appointment.kind == Appointment.Kind.TREATMENT and appointment.course_id:
            sessions.setdefault(appointment.course_id, []).append(appointment)
    upcoming = [a for a in appointments if a.status in UPCOMING_STATUSES and a.end > now]
    upcoming_ids = {a.pk for a in upcoming}
    return PatientOverview(
        patient=patient,
        clinical=clinical,
        assessments=list(assessments),
        courses=[_progress(course, sessions.get(course.pk, []), today=timezone.localdate(now)) for course in courses],
        upcoming=upcoming,
        past=[a for a in reversed(appointments) if a.pk not in upcoming_ids],
        notifications=list(Notification.objects.filter(patient=patient).order_by("-due_at", "-pk")),
    )
