"""A dermatologist's clinical steps before booking: recording a consultation's assessment, proposing
a course from it, and adjusting a proposed course before it is approved."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalogue.models import Practitioner
from clinic.errors import IllegalTransition, SchedulingError
from clinical.models import Assessment, Contraindication, TreatmentCourse
from clinical.services.courses import MAX_INTERVAL_DAYS, MAX_SESSIONS, course_propose
from patients.models import SkinType

# Courses that still stand: proposing the same condition again from one assessment is a double submit.
_OPEN_COURSE_STATUSES = (
    TreatmentCourse.Status.PROPOSED,
    TreatmentCourse.Status.APPROVED,
    TreatmentCourse.Status.ACTIVE,
)


def _check_dermatologist(practitioner: Practitioner | None, what: str) -> None:
    if practitioner is None or practitioner.role != Practitioner.Role.DERMATOLOGIST or not practitioner.active:
        raise SchedulingError(f"Only a dermatologist can {what}.")


def _check_plan(*, planned_sessions: int, min_interval_days: int, max_interval_days: int) -> None:
    """The same bounds `course_propose` applies, for a plan that is being changed."""
    if not 1 <= planned_sessions <= MAX_SESSIONS:
        raise SchedulingError(f"Plan between 1 and {MAX_SESSIONS} sessions.", field="planned_sessions")
    if not 1 <= min_interval_days <= MAX_INTERVAL_DAYS:
        raise SchedulingError(f"The minimum interval is 1 to {MAX_INTERVAL_DAYS} days.", field="min_interval_days")
    if not min_interval_days <= max_interval_days <= MAX_INTERVAL_DAYS:
        raise SchedulingError(
            "The maximum interval is at least the minimum and at most a year.", field="max_interval_days"
        )


def assessment_record(
    *,
    patient,
    dermatologist: Practitioner,
    skin_type: int,
    conditions=(),
    contraindications=(),
    candidate: bool,
    notes: str = "",
    now: datetime | None = None,
) -> Assessment:
    """Record a consultation's outcome and take its skin type onto the patient's file."""
    _check_dermatologist(dermatologist, "record an assessment")
    if skin_type not in SkinType.values:
        raise SchedulingError("Choose a Fitzpatrick skin type from I to VI.", field="skin_type")
    unknown = set(contraindications) - set(Contraindication.values)
    if unknown:
        raise SchedulingError("Choose contraindications from the list.", field="contraindications")
    conditions = list(conditions)
    retired = [condition.name for condition in conditions if not condition.active]
    if retired:
        raise SchedulingError(f"{', '.join(retired)} is no longer offered.", field="conditions")
    # Keep the list's order, whatever order the boxes were ticked in, and each code once.
    codes = [code for code in Contraindication.values if code in set(contraindications)]
    with transaction.atomic():
        assessment = Assessment.objects.create(
            patient=patient,
            dermatologist=dermatologist,
            assessed_at=now or timezone.now(),
            skin_type=skin_type,
            contraindications=codes,
            candidate=candidate,
            notes=notes,
            created_by=dermatologist.user,
        )
        assessment.conditions.set(conditions)
        if patient.skin_type != skin_type:
            patient.skin_type = skin_type
            patient.save(update_fields=["skin_type", "updated_at"])
    return assessment


def assessment_blocker(assessment: Assessment) -> str | None:
    """Why no course can be proposed on this assessment, or None when one can."""
    if not assessment.candidate:
        return "The assessment found the patient not a good candidate, so no course can be proposed on it."
    if assessment.contraindications:
        found = ", ".join(label.lower() for label in assessment.get_contraindications_display())
        return f"Contraindications were found ({found}), so no course can be proposed on this assessment."
    return None


def assessment_propose_course(
    *,
    assessment: Assessment,
    condition,
    areas,
    planned_sessions: int,
    min_interval_days: int,
    max_interval_days: int,
    proposed_by: Practitioner,
    notes: str = "",
) -> TreatmentCourse:
    """Propose a course for one of the conditions an assessment found, if the patient is a candidate
    without contraindications."""
    _check_dermatologist(proposed_by, "propose a course")
    blocker = assessment_blocker(assessment)
    if blocker:
        raise SchedulingError(blocker)
    if not assessment.conditions.filter(pk=condition.pk).exists():
        raise SchedulingError(f"The assessment did not find {condition}.", field="condition")
    with transaction.atomic():
        if assessment.courses.filter(condition=condition, status__in=_OPEN_COURSE_STATUSES).exists():
            raise SchedulingError(f"A course for {condition} has already been proposed on this assessment.")
        return course_propose(
            patient=assessment.patient,
            condition=condition,
            areas=areas,
            planned_sessions=planned_sessions,
            min_interval_days=min_interval_days,
            max_interval_days=max_interval_days,
            proposed_by=proposed_by,
            assessment=assessment,
            notes=notes,
        )


def course_update_proposal(
    *,
    course: TreatmentCourse,
    planned_sessions: int,
    min_interval_days: int,
    max_interval_days: int,
    areas,
    by: Practitioner,
    now: datetime | None = None,
) -> TreatmentCourse:
    """Change the plan of a course that is still proposed. The change is noted on the course with who
    made it, so the approved plan can be traced back to the proposal."""
    _check_dermatologist(by, "change a proposed course")
    areas = list(areas)
    if not areas:
        raise SchedulingError("Choose at least one treatment area.", field="areas")
    _check_plan(
        planned_sessions=planned_sessions, min_interval_days=min_interval_days, max_interval_days=max_interval_days
    )
    with transaction.atomic():
        locked = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
        if locked.status != TreatmentCourse.Status.PROPOSED:
            raise IllegalTransition(
                f"This course is already {locked.get_status_display().lower()}; only a proposed course can be changed."
            )
        before = _plan_summary(locked, locked.areas.all())
        locked.planned_sessions = planned_sessions
        locked.min_interval_days = min_interval_days
        locked.max_interval_days = max_interval_days
        after = _plan_summary(locked, areas)
        if after != before:
            when = timezone.localtime(now or timezone.now())
            locked.notes = f"{locked.notes}\nChanged by {by} on {when:%Y-%m-%d %H:%M}: {before} → {after}.".strip()
        locked.save(update_fields=["planned_sessions", "min_interval_days", "max_interval_days", "notes"])
        locked.areas.set(areas)
    course.refresh_from_db()
    return course


def _plan_summary(course: TreatmentCourse, areas) -> str:
    names = ", ".join(sorted(area.name for area in areas))
    return (
        f"{course.planned_sessions} sessions every {course.min_interval_days}-{course.max_interval_days} days ({names})"
    )
