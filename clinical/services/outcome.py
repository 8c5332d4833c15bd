"""The results review: a dermatologist scores a course whose planned sessions are done and decides
what comes next (complete, add sessions within the condition's protocol, or stop with a reason).

`course_decide` is the one service that records it; the course page's form calls it, and the
results queue lists the completed courses it has not yet decided (`undecided`).
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from catalogue.models import Practitioner
from catalogue.outcome import check_score
from catalogue.permissions import is_dermatologist
from clinic.errors import IllegalTransition, SchedulingError
from clinical.models import CourseDecision, TreatmentCourse
from clinical.services.courses import check_plan

Decision = CourseDecision.Decision
REASON_MAX = 1000


def undecided(courses: QuerySet) -> QuerySet:
    """The courses among `courses` with no results review for their planned sessions as they stand."""
    reviewed = CourseDecision.objects.filter(course=OuterRef("pk"), sessions=OuterRef("planned_sessions"))
    return courses.filter(~Exists(reviewed))


def sessions_left_to_add(course: TreatmentCourse) -> int:
    """How many sessions the condition's protocol still allows this course to add."""
    return max(0, course.condition.max_sessions - course.planned_sessions)


def course_decide(
    *,
    course: TreatmentCourse,
    by: Practitioner | None,
    outcome_score: int,
    decision: str,
    added_sessions: int | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> CourseDecision:
    """Record a completed course's results review.

    Only a dermatologist decides, and only on a course whose planned sessions are all done
    (status completed) and that has no review yet for them. The score must fit the condition's
    scale. "Add sessions" raises the course's planned sessions by `added_sessions`, at most to the
    condition's `max_sessions`, and makes the course active again, so reception can book them (the
    course comes back to the review once they are done); "stop" needs a reason. Audited through
    django-auditlog (the decision and the course's change).
    """
    now = now or timezone.now()
    if not is_dermatologist(by):
        raise SchedulingError("Only a dermatologist can record a course's results review.")
    reason = (reason or "").strip()
    if decision not in Decision.values:
        raise SchedulingError("Choose complete, add sessions or stop.", field="decision")
    given = course
    with transaction.atomic():
        # The course's row lock, last in the order of locks (scheduling.services.guard), as a booking takes it.
        course = TreatmentCourse.objects.select_for_update().select_related("condition", "patient").get(pk=course.pk)
        if course.status != TreatmentCourse.Status.COMPLETED:
            raise IllegalTransition(
                f"This course is {course.get_status_display().lower()}: its results are reviewed once its "
                f"planned sessions are done."
            )
        if CourseDecision.objects.filter(course=course, sessions=course.planned_sessions).exists():
            raise IllegalTransition("This course's results were reviewed already.")
        reviewed = course.planned_sessions
        check_score(condition=course.condition, score=outcome_score)
        if outcome_score is None:
            raise SchedulingError("Score the course's outcome.", field="outcome_score")
        if decision == Decision.ADD_SESSIONS:
            _add_sessions(course, added_sessions)
        else:
            added_sessions = None
        if decision == Decision.STOP and not reason:
            raise SchedulingError("Say why the treatment stops.", field="reason")
        if len(reason) > REASON_MAX:
            raise SchedulingError(f"Keep the reason under {REASON_MAX} characters.", field="reason")
        try:
            with transaction.atomic():
                review = CourseDecision.objects.create(
                    course=course,
                    sessions=reviewed,
                    outcome_score=outcome_score,
                    decision=decision,
                    added_sessions=added_sessions,
                    reason=reason,
                    decided_by=by,
                    decided_at=now,
                )
        except IntegrityError:  # a second review of the same sessions committed first
            raise IllegalTransition("This course's results were reviewed already.") from None
    given.status, given.planned_sessions = course.status, course.planned_sessions  # the caller's copy too
    return review


def _add_sessions(course: TreatmentCourse, added: int | None) -> None:
    condition = course.condition
    left = sessions_left_to_add(course)
    if added is None or isinstance(added, bool) or not isinstance(added, int) or added < 1:
        raise SchedulingError("Say how many sessions to add (at least one).", field="added_sessions")
    if course.patient.erased_at is not None:
        raise SchedulingError("This patient's details were erased: no sessions can be added.", field="decision")
    if added > left:
        most = f"at most {left} more" if left else "none: complete or stop the course instead"
        raise SchedulingError(
            f"{condition} allows up to {condition.max_sessions} sessions and this course has "
            f"{course.planned_sessions}, so it can add {most}.",
            field="added_sessions",
        )
    check_plan(
        planned_sessions=course.planned_sessions + added,
        min_interval_days=course.min_interval_days,
        max_interval_days=course.max_interval_days,
    )
    course.planned_sessions += added
    # Bookable again: its sessions so far are done, so it is an active course with sessions to book.
    course.status = TreatmentCourse.Status.ACTIVE
    course.save(update_fields=["planned_sessions", "status"])
