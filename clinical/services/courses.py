"""Treatment courses, the dermatologist's side: proposing one on an assessment, changing the plan
while it is proposed, and approving it.

Every path that proposes a course (the pages, the API, the demo data, the benchmarks) calls
`course_propose`, so a course always rests on a dermatologist's assessment that found the patient a
candidate for its condition, without a contraindication.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalogue.models import Practitioner
from catalogue.permissions import is_dermatologist
from clinic.errors import IllegalTransition, SchedulingError
from clinical.models import Assessment, TreatmentCourse
from clinical.services.assessments import NO_ASSESSMENT, assessment_blocker

MAX_SESSIONS = 30
MAX_INTERVAL_DAYS = 365

# Courses that still stand: proposing the same condition again from one assessment is a double submit.
_OPEN_COURSE_STATUSES = (
    TreatmentCourse.Status.PROPOSED,
    TreatmentCourse.Status.APPROVED,
    TreatmentCourse.Status.ACTIVE,
)


def plan_errors(*, planned_sessions: int, min_interval_days: int, max_interval_days: int) -> dict[str, str]:
    """The bounds of a course's plan: what is wrong with it, by field (empty when it is sound).

    The one rule for proposing, changing a proposal, the pages' forms and the API's serializers."""
    errors = {}
    if not 1 <= planned_sessions <= MAX_SESSIONS:
        errors["planned_sessions"] = f"Plan between 1 and {MAX_SESSIONS} sessions."
    if not 1 <= min_interval_days <= MAX_INTERVAL_DAYS:
        errors["min_interval_days"] = f"The minimum interval is 1 to {MAX_INTERVAL_DAYS} days."
    if not min_interval_days <= max_interval_days <= MAX_INTERVAL_DAYS:
        errors["max_interval_days"] = "The maximum interval is at least the minimum and at most a year."
    return errors


def check_plan(*, planned_sessions: int, min_interval_days: int, max_interval_days: int) -> None:
    """Refuse a plan out of bounds, naming the first field that is."""
    for field, message in plan_errors(
        planned_sessions=planned_sessions, min_interval_days=min_interval_days, max_interval_days=max_interval_days
    ).items():
        raise SchedulingError(message, field=field)


def protocol_plan(
    condition, *, planned_sessions: int | None = None, min_interval_days=None, max_interval_days=None
) -> dict[str, int]:
    """A plan with what is not given taken from the condition's protocol."""
    return {
        "planned_sessions": condition.default_sessions if planned_sessions is None else planned_sessions,
        "min_interval_days": condition.min_interval_days if min_interval_days is None else min_interval_days,
        "max_interval_days": condition.max_interval_days if max_interval_days is None else max_interval_days,
    }


def _require_dermatologist(practitioner: Practitioner | None, what: str) -> None:
    if not is_dermatologist(practitioner):
        raise SchedulingError(f"Only a dermatologist can {what}.")


def course_propose(
    *,
    assessment: Assessment,
    condition,
    areas,
    planned_sessions: int | None = None,
    min_interval_days: int | None = None,
    max_interval_days: int | None = None,
    proposed_by: Practitioner,
    notes: str = "",
) -> TreatmentCourse:
    """Propose a course for a condition the assessment found, for a candidate without
    contraindications; what the plan does not give comes from the condition's protocol."""
    _require_dermatologist(proposed_by, "propose a course")
    if assessment is None:
        raise SchedulingError(NO_ASSESSMENT, field="assessment")
    blocker = assessment_blocker(assessment)
    if blocker:
        raise SchedulingError(blocker, field="assessment")
    if not assessment.conditions.filter(pk=condition.pk).exists():
        raise SchedulingError(f"The assessment did not find {condition}.", field="condition")
    if not condition.active:
        raise SchedulingError(f"{condition} is no longer offered.", field="condition")
    areas = list(areas)
    if not areas:
        raise SchedulingError("Choose at least one treatment area.", field="areas")
    plan = protocol_plan(
        condition,
        planned_sessions=planned_sessions,
        min_interval_days=min_interval_days,
        max_interval_days=max_interval_days,
    )
    check_plan(**plan)
    with transaction.atomic():
        if assessment.courses.filter(condition=condition, status__in=_OPEN_COURSE_STATUSES).exists():
            raise SchedulingError(f"A course for {condition} has already been proposed on this assessment.")
        return _course_create(
            assessment=assessment, condition=condition, areas=areas, proposed_by=proposed_by, notes=notes, **plan
        )


def proposable_conditions(assessment: Assessment, *, courses=None) -> list:
    """The conditions a course can still be proposed for on this assessment, for the pages to offer:
    none when the assessment rules a course out; else the active conditions it found that have no
    open course proposed on it. `courses`: the patient's courses when the caller holds them already."""
    if assessment_blocker(assessment):
        return []
    if courses is None:
        courses = assessment.courses.all()
    taken = {
        course.condition_id
        for course in courses
        if course.assessment_id == assessment.pk and course.status in _OPEN_COURSE_STATUSES
    }
    return [condition for condition in assessment.conditions.all() if condition.active and condition.pk not in taken]


def _course_create(*, assessment, condition, areas, proposed_by, notes, **plan) -> TreatmentCourse:
    """The row itself, once `course_propose` has checked everything."""
    course = TreatmentCourse.objects.create(
        patient=assessment.patient,
        condition=condition,
        assessment=assessment,
        proposed_by=proposed_by,
        notes=notes,
        **plan,
    )
    course.areas.set(areas)
    return course


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
    _require_dermatologist(by, "change a proposed course")
    areas = list(areas)
    if not areas:
        raise SchedulingError("Choose at least one treatment area.", field="areas")
    check_plan(
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


def course_approve(*, course: TreatmentCourse, by: Practitioner, now: datetime | None = None) -> TreatmentCourse:
    """A dermatologist approves a proposed course; only then can its sessions be booked."""
    if not is_dermatologist(by):
        raise SchedulingError("Only a dermatologist can approve a course.", field="approved_by")
    with transaction.atomic():
        locked = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
        if locked.status != TreatmentCourse.Status.PROPOSED:
            raise IllegalTransition(f"This course is already {locked.get_status_display().lower()}.")
        locked.status = TreatmentCourse.Status.APPROVED
        locked.approved_by = by
        locked.approved_at = now or timezone.now()
        locked.save(update_fields=["status", "approved_by", "approved_at"])
    course.refresh_from_db()
    return course
