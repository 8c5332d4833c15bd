"""A course's page for clinical staff (`/clinical/courses/<id>/`): its sessions in order with their
laser settings, skin reaction and outcome score, the score drawn over the sessions, the results
reviews, and the results-review form for a dermatologist once the planned sessions are done.

Other pages of the course (a photo comparison, ...) add themselves to `course_links`, which the
page shows as a list of links."""

from dataclasses import dataclass, field

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from catalogue.outcome import score_words
from catalogue.permissions import acting_dermatologist, dermatologist_required
from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from clinic.roles import ability_required
from clinical.forms import CourseDecisionForm
from clinical.models import CourseDecision, TreatmentCourse
from clinical.services.outcome import course_decide, undecided
from patients.audit import record_clinical_access
from records.outcome_chart import ChartPoint, outcome_chart
from scheduling.models import Appointment, number_sessions


@dataclass
class CourseOutcome:
    course: TreatmentCourse
    sessions: list[Appointment]  # the course's sessions in order, each with `session_record` or None
    decisions: list[CourseDecision]
    chart: str
    awaits_review: bool  # completed, with no results review for its planned sessions yet
    links: list[tuple[str, str]] = field(default_factory=list)  # (words, url) of the course's other pages


def course_outcome(course_id: int) -> CourseOutcome:
    """The course page's reads, a fixed number of queries whatever the course's length. 404 if no such course."""
    course = get_object_or_404(
        TreatmentCourse.objects.select_related("patient", "condition", "approved_by__user").prefetch_related("areas"),
        pk=course_id,
    )
    appointments = list(
        Appointment.objects.filter(course=course, kind=Appointment.Kind.TREATMENT)
        .select_related("practitioner__user", "session_record__area", "session_record__recorded_by__user")
        .order_by("start", "pk")
    )
    number_sessions(appointments)  # every treatment of the course is here, so the count is the course's
    sessions = [a for a in appointments if a.is_session]
    for session in sessions:
        record = getattr(session, "session_record", None)
        session.record = record
        session.score_words = score_words(course.condition.outcome_scale, record.outcome_score) if record else ""
    decisions = list(course.decisions.select_related("decided_by__user"))
    for decision in decisions:
        decision.score_words = score_words(course.condition.outcome_scale, decision.outcome_score)
    points = [
        ChartPoint(
            number=s.session_number,
            day=timezone.localdate(s.start),
            score=s.record.outcome_score if s.record else None,
        )
        for s in sessions
    ]
    chart = outcome_chart(
        points, scale=course.condition.outcome_scale, title=f"{course.condition}: outcome score by session"
    )
    awaits = (
        course.status == TreatmentCourse.Status.COMPLETED
        and undecided(TreatmentCourse.objects.filter(pk=course.pk)).exists()
    )
    links = [
        (f"{course.patient.full_name}'s record", reverse("patients:detail", args=[course.patient_id])),
        ("Photos across the course", reverse("clinical:course_photos", args=[course.pk])),
        ("Results to review", reverse("clinical:results")),
    ]
    return CourseOutcome(course, sessions, decisions, chart, awaits, links)


def _render(request, outcome: CourseOutcome, form=None, status=200):
    can_decide = outcome.awaits_review and acting_dermatologist(request.user) is not None
    if can_decide and form is None:
        form = CourseDecisionForm(course=outcome.course)
    context = {"outcome": outcome, "course": outcome.course, "form": form if can_decide else None}
    return render(request, "clinical/course.html", context, status=status)


@require_safe
@ability_required("view_clinical")
def course_page(request, course_id):
    outcome = course_outcome(course_id)
    record_clinical_access(patient=outcome.course.patient, by=request.user, what="course page")
    return _render(request, outcome)


@require_POST
@dermatologist_required
def course_decision(request, course_id):
    """The results review's form on the course page: a refusal shows on the form, with the input kept."""
    outcome = course_outcome(course_id)
    form = CourseDecisionForm(request.POST, course=outcome.course)
    if form.is_valid():
        try:
            review = course_decide(course=outcome.course, by=request.practitioner, **form.cleaned_data)
        except SchedulingError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _said(review))
            return redirect("clinical:course", course_id=outcome.course.pk)
    if not outcome.awaits_review:  # reviewed meanwhile, or not completed: the page says why
        messages.error(request, form.non_field_errors()[0] if form.non_field_errors() else "Nothing to review.")
        return redirect("clinical:course", course_id=outcome.course.pk)
    return _render(request, outcome, form, status=400)


def _said(review: CourseDecision) -> str:
    if review.decision == CourseDecision.Decision.ADD_SESSIONS:
        return (
            f"Results reviewed: {review.added_sessions} session{'s' if review.added_sessions != 1 else ''} added. "
            "Reception can now book them."
        )
    if review.decision == CourseDecision.Decision.STOP:
        return "Results reviewed: the treatment stops."
    return "Results reviewed: the course is complete."
