"""The dermatologist's pages: proposing a course from an assessment, the review queue of proposed
courses, recording a treatment session, and completed courses awaiting a results review."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.roles import ability_required, can
from patients.audit import record_clinical_access
from patients.models import Assessment
from scheduling.clinical_forms import CoursePlanForm, CourseProposalForm, SessionRecordForm, add_service_error
from scheduling.models import Appointment, Practitioner, SessionRecord, TreatmentCourse
from scheduling.services import SchedulingError, appointment_complete, course_approve
from scheduling.services.assessments import assessment_blocker, assessment_propose_course, course_update_proposal


def patient_page(patient_id: int) -> str:
    """The patient's page, built alongside these under /patients/."""
    return f"/patients/{patient_id}/"


def acting_dermatologist(user) -> Practitioner | None:
    """The active dermatologist record of this user, in whose name clinical work is recorded."""
    return Practitioner.objects.filter(user=user, role=Practitioner.Role.DERMATOLOGIST, active=True).first()


def dermatologist_required(view):
    """The Dermatologist role and a dermatologist's practitioner record: these pages record clinical
    work in a dermatologist's name, so a manager or superuser without one gets 403."""

    @wraps(view)
    @ability_required("treat")
    def wrapped(request, *args, **kwargs):
        request.practitioner = acting_dermatologist(request.user)
        if request.practitioner is None:
            raise PermissionDenied("This page records clinical work in a dermatologist's name.")
        return view(request, *args, **kwargs)

    return wrapped


@require_http_methods(["GET", "HEAD", "POST"])
@dermatologist_required
def propose_course(request, assessment_id):
    assessment = get_object_or_404(
        Assessment.objects.select_related("patient", "dermatologist__user"), pk=assessment_id
    )
    conditions = assessment.conditions.all()
    context = {"assessment": assessment, "patient": assessment.patient, "conditions": conditions}
    if request.method != "POST":
        record_clinical_access(patient=assessment.patient, by=request.user, what="course proposal")
    blocker = assessment_blocker(assessment)
    if blocker is None and not conditions:
        blocker = "The assessment found no condition to treat, so there is no course to propose."
    if blocker:
        if request.method == "POST":
            messages.error(request, blocker)
        return render(request, "clinical/propose.html", context | {"blocker": blocker})
    chosen = _chosen_condition(request, conditions)
    if request.method == "POST":
        form = CourseProposalForm(request.POST, conditions=conditions)
        if form.is_valid():
            try:
                course = assessment_propose_course(
                    assessment=assessment, proposed_by=request.practitioner, **form.cleaned_data
                )
            except SchedulingError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Course proposed: {course}. It now waits for approval in the review queue.")
                return redirect("clinical:review")
    else:
        form = CourseProposalForm(
            conditions=conditions,
            initial={
                "condition": chosen,
                "planned_sessions": chosen.default_sessions,
                "min_interval_days": chosen.min_interval_days,
                "max_interval_days": chosen.max_interval_days,
            },
        )
    return render(request, "clinical/propose.html", context | {"form": form, "chosen": chosen})


def _chosen_condition(request, conditions):
    wanted = request.POST.get("condition") or request.GET.get("condition")
    by_id = {str(condition.pk): condition for condition in conditions}
    return by_id.get(wanted) or conditions[0]


def _proposed_courses():
    return (
        TreatmentCourse.objects.filter(status=TreatmentCourse.Status.PROPOSED)
        .select_related("patient", "condition", "assessment", "proposed_by__user")
        .prefetch_related("areas")
        .order_by("created_at", "pk")
    )


@require_safe
@ability_required("oversee_courses")
def review_queue(request):
    return render(
        request,
        "clinical/review.html",
        {
            "courses": _proposed_courses(),
            "can_act": acting_dermatologist(request.user) is not None,
            # Managers oversee the queue; contraindications and notes are the clinical record's.
            "clinical": can(request.user, "view_clinical"),
        },
    )


@require_POST
@dermatologist_required
def approve_course(request, course_id):
    course = get_object_or_404(TreatmentCourse.objects.select_related("patient", "condition"), pk=course_id)
    try:
        course_approve(course=course, by=request.practitioner)
    except SchedulingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Approved: {course}. Reception can now book its sessions.")
    return redirect("clinical:review")


@require_http_methods(["GET", "HEAD", "POST"])
@dermatologist_required
def change_course(request, course_id):
    course = get_object_or_404(
        TreatmentCourse.objects.select_related("patient", "condition", "assessment"), pk=course_id
    )
    if course.status != TreatmentCourse.Status.PROPOSED:
        messages.error(request, f"This course is already {course.get_status_display().lower()}; only a proposed "
                                "course can be changed.")  # fmt: skip
        return redirect("clinical:review")
    if request.method == "POST":
        form = CoursePlanForm(request.POST)
        if form.is_valid():
            try:
                course_update_proposal(course=course, by=request.practitioner, **form.cleaned_data)
            except SchedulingError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Proposal changed: {course}.")
                return redirect("clinical:review")
    else:
        form = CoursePlanForm(
            initial={
                "planned_sessions": course.planned_sessions,
                "min_interval_days": course.min_interval_days,
                "max_interval_days": course.max_interval_days,
                "areas": list(course.areas.all()),
            }
        )
    return render(request, "clinical/change_course.html", {"course": course, "form": form})


@require_http_methods(["GET", "HEAD", "POST"])
@dermatologist_required
def record_session(request, appointment_id):
    appointment = get_object_or_404(
        Appointment.objects.select_related("patient", "course__condition", "practitioner__user", "room", "device"),
        pk=appointment_id,
        kind=Appointment.Kind.TREATMENT,
    )
    course = appointment.course
    previous = (
        SessionRecord.objects.filter(appointment__course=course, appointment__start__lt=appointment.start)
        .select_related("appointment", "area")
        .order_by("-appointment__start")
        .first()
    )
    if request.method == "POST":
        form = SessionRecordForm(request.POST, course=course)
        if form.is_valid():
            try:
                appointment_complete(
                    appointment=appointment, record=form.cleaned_data | {"recorded_by": request.practitioner}
                )
            except SchedulingError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request,
                    f"Session {appointment.sequence} of {course.planned_sessions} recorded and completed; "
                    "the aftercare email is on its way.",
                )
                return redirect(patient_page(appointment.patient_id))
    else:
        form = SessionRecordForm(course=course, initial=_settings_of(previous, course))
        record_clinical_access(patient=appointment.patient, by=request.user, what="session record form")
    context = {
        "appointment": appointment,
        "course": course,
        "previous": previous,
        "form": form,
        "checked_in": appointment.status == Appointment.Status.CHECKED_IN,
        "patient_url": patient_page(appointment.patient_id),
    }
    return render(request, "clinical/record.html", context)


def _settings_of(previous: SessionRecord | None, course) -> dict:
    """Start from the laser settings of the course's previous session; the reaction is observed afresh."""
    if previous is None:
        areas = list(course.areas.all())
        return {"area": areas[0]} if len(areas) == 1 else {}
    return {
        "wavelength_nm": previous.wavelength_nm,
        "fluence_j_cm2": previous.fluence_j_cm2,
        "spot_size_mm": previous.spot_size_mm,
        "pulses": previous.pulses,
        "area": previous.area,
    }


@require_safe
@ability_required("oversee_courses")
def results_queue(request):
    """Completed courses whose patient has no review booked after the course's last session."""
    last_session = Appointment.objects.filter(
        course=OuterRef("pk"), kind=Appointment.Kind.TREATMENT, status=Appointment.Status.COMPLETED
    ).order_by("-start")
    review_after = Appointment.objects.filter(
        patient=OuterRef("patient"),
        kind=Appointment.Kind.REVIEW,
        status__in=Appointment.ACTIVE_STATUSES,
        start__gt=OuterRef("last_session"),
    )
    courses = (
        TreatmentCourse.objects.filter(status=TreatmentCourse.Status.COMPLETED)
        .annotate(last_session=Subquery(last_session.values("start")[:1]))
        .filter(~Exists(review_after))
        .select_related("patient", "condition", "approved_by__user")
        .prefetch_related("areas")
        .order_by("last_session", "pk")
    )
    return render(request, "clinical/results.html", {"courses": courses})
