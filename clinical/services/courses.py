"""Proposing and approving treatment courses: the dermatologist's side of a course."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalogue.models import Practitioner
from clinic.errors import IllegalTransition, SchedulingError
from clinical.models import TreatmentCourse

MAX_SESSIONS = 30
MAX_INTERVAL_DAYS = 365


def course_propose(
    *,
    patient,
    condition,
    areas,
    planned_sessions: int | None = None,
    min_interval_days: int | None = None,
    max_interval_days: int | None = None,
    proposed_by: Practitioner | None = None,
    assessment=None,
    notes: str = "",
) -> TreatmentCourse:
    """Propose a course; what is not given comes from the condition's protocol."""
    areas = list(areas)
    if not areas:
        raise SchedulingError("Choose at least one treatment area.", field="areas")
    if not condition.active:
        raise SchedulingError(f"{condition} is no longer offered.", field="condition")
    if assessment is not None and assessment.patient_id != patient.pk:
        raise SchedulingError("That assessment belongs to another patient.", field="assessment")
    sessions = condition.default_sessions if planned_sessions is None else planned_sessions
    low = condition.min_interval_days if min_interval_days is None else min_interval_days
    high = condition.max_interval_days if max_interval_days is None else max_interval_days
    if not 1 <= sessions <= MAX_SESSIONS:
        raise SchedulingError(f"Plan between 1 and {MAX_SESSIONS} sessions.", field="planned_sessions")
    if not 1 <= low <= MAX_INTERVAL_DAYS:
        raise SchedulingError(f"The minimum interval is 1 to {MAX_INTERVAL_DAYS} days.", field="min_interval_days")
    if not low <= high <= MAX_INTERVAL_DAYS:
        raise SchedulingError(
            "The maximum interval is at least the minimum and at most a year.", field="max_interval_days"
        )
    with transaction.atomic():
        course = TreatmentCourse.objects.create(
            patient=patient,
            condition=condition,
            assessment=assessment,
            planned_sessions=sessions,
            min_interval_days=low,
            max_interval_days=high,
            proposed_by=proposed_by,
            notes=notes,
        )
        course.areas.set(areas)
    return course


def course_approve(*, course: TreatmentCourse, by: Practitioner, now: datetime | None = None) -> TreatmentCourse:
    """A dermatologist approves a proposed course; only then can its sessions be booked."""
    if by is None or by.role != Practitioner.Role.DERMATOLOGIST or not by.active:
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
