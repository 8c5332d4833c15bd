"""The work queues: reception's under /queues/ (what needs chasing today, one query per queue), and
the dermatologists' results-review queue (completed courses awaiting their decision). They read
across courses, appointments and emails."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from clinic.roles import ability_required, can
from clinical.models import TreatmentCourse
from clinical.services.outcome import undecided
from outbox.models import Notification
from scheduling.models import Appointment
from scheduling.services.slots import interval_window
from scheduling.services.sun import flagged_sessions
from scheduling.services.test_patch import courses_awaiting_patch

# Each queue shows its first rows; a longer queue says so rather than loading everything.
QUEUE_LENGTH = 100


@dataclass(frozen=True)
class DueCourse:
    course: TreatmentCourse
    sessions: int
    last_session: datetime | None
    window: tuple[datetime, datetime] | None
    state: str  # first, closed, open, later

    @property
    def sort_key(self):
        return self.window[0] if self.window else self.course.approved_at


def unbooked_courses(now: datetime) -> list[DueCourse]:
    """Approved or active courses with sessions still to plan and none booked ahead, most urgent first:
    by when the next session may start (at once for a course with no session yet)."""
    session = Q(appointments__kind=Appointment.Kind.TREATMENT, appointments__status__in=Appointment.ACTIVE_STATUSES)
    booked_ahead = Appointment.objects.filter(
        course=OuterRef("pk"), kind=Appointment.Kind.TREATMENT, status__in=Appointment.UPCOMING_STATUSES, start__gt=now
    )
    courses = (
        TreatmentCourse.objects.filter(status__in=(TreatmentCourse.Status.APPROVED, TreatmentCourse.Status.ACTIVE))
        .annotate(
            session_count=Count("appointments", filter=session),
            last_session=Max("appointments__start", filter=session),
        )
        .filter(session_count__lt=F("planned_sessions"))
        .exclude(Exists(booked_ahead))
        .select_related("patient", "condition")
    )
    rows = []
    for course in courses:
        window = interval_window(course.last_session, course) if course.last_session else None
        if window is None:
            state = "first"
        elif now >= window[1]:
            state = "closed"
        elif now >= window[0]:
            state = "open"
        else:
            state = "later"
        rows.append(DueCourse(course, course.session_count, course.last_session, window, state))
    return sorted(rows, key=lambda row: (row.sort_key, row.course.pk))


def _first(queryset):
    rows = list(queryset[: QUEUE_LENGTH + 1])
    return {"rows": rows[:QUEUE_LENGTH], "more": len(rows) > QUEUE_LENGTH}


@require_safe
@ability_required("view_schedule")
def index(request):
    now = timezone.now()
    due = unbooked_courses(now)
    visits = Appointment.objects.select_related("patient", "practitioner__user", "course__condition")
    short_prep = (
        visits.filter(
            kind=Appointment.Kind.TREATMENT,
            start__gt=now,
            status__in=(Appointment.Status.BOOKED, Appointment.Status.CONFIRMED),
            short_prep_acknowledged_at__isnull=False,
        )
        .select_related("short_prep_acknowledged_by")
        .with_session_numbers()
    )
    cancel_requests = visits.filter(
        cancel_requested_at__isnull=False, status__in=(Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)
    ).order_by("cancel_requested_at", "pk")
    failed = (
        Notification.objects.filter(status=Notification.Status.FAILED)
        .select_related("patient", "appointment")
        .order_by("due_at", "pk")
    )
    sun = flagged_sessions(now=now)
    context = {
        "now": now,
        "due": {"rows": due[:QUEUE_LENGTH], "more": len(due) > QUEUE_LENGTH},
        "patch_due": _first(courses_awaiting_patch()),
        "sun_exposure": {"rows": sun[:QUEUE_LENGTH], "more": len(sun) > QUEUE_LENGTH},
        "can_book": can(request.user, "book"),
        "can_see_skin": can(request.user, "view_clinical"),  # the skin-check queue (aftercare), dermatologists'
        "short_prep": _first(short_prep.order_by("start", "pk")),
        "cancel_requests": _first(cancel_requests),
        "failed": _first(failed),
    }
    return render(request, "queues/index.html", context)


app_name = "queues"


@require_safe
@ability_required("oversee_courses")
def results_queue(request):
    """Completed courses not yet reviewed (no decision for their planned sessions), the longest
    waiting first, each with the patient's review visit if one is booked after the last session."""
    last_session = Appointment.objects.filter(
        course=OuterRef("pk"), kind=Appointment.Kind.TREATMENT, status=Appointment.Status.COMPLETED
    ).order_by("-start")
    review_after = Appointment.objects.filter(
        patient=OuterRef("patient"),
        kind=Appointment.Kind.REVIEW,
        status__in=Appointment.ACTIVE_STATUSES,
        start__gt=OuterRef("last_session"),
    ).order_by("start")
    courses = (
        undecided(TreatmentCourse.objects.filter(status=TreatmentCourse.Status.COMPLETED))
        .annotate(last_session=Subquery(last_session.values("start")[:1]))
        .annotate(review_at=Subquery(review_after.values("start")[:1]))
        .select_related("patient", "condition", "approved_by__user")
        .prefetch_related("areas")
        .order_by("last_session", "pk")
    )
    context = {
        "courses": courses,
        "can_book": can(request.user, "book"),
        "clinical": can(request.user, "view_clinical"),
    }
    return render(request, "clinical/results.html", context)
