"""The dermatologist's pages: the assessment, proposing a course from it, and the review queue of
proposed courses. (Recording a session is an appointment's step: scheduling/views/sessions.py;
the results-review queue reads appointments too: records/queues.py.)"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from catalogue.permissions import acting_dermatologist, dermatologist_required
from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from clinic.roles import ability_required, can
from clinical.forms import AssessmentForm, CoursePlanForm, CourseProposalForm
from clinical.models import Assessment, TreatmentCourse
from clinical.services.assessments import assessment_blocker, assessment_record
from clinical.services.courses import course_approve, course_propose, course_update_proposal
from patients.audit import record_clinical_access
from patients.models import Patient


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
        form = CourseProposalForm(request.POST)
        if form.is_valid():
            try:
                course = course_propose(assessment=assessment, proposed_by=request.practitioner, **form.cleaned_data)
            except SchedulingError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Course proposed: {course}. It now waits for approval in the review queue.")
                return redirect("clinical:review")
    else:
        form = CourseProposalForm(
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


@require_http_methods(["GET", "HEAD", "POST"])
@dermatologist_required
def approve_course(request, course_id):
    """A confirmation page first (approving lets reception book the whole course), then the approval."""
    course = get_object_or_404(
        TreatmentCourse.objects.select_related("patient", "condition", "proposed_by__user").prefetch_related("areas"),
        pk=course_id,
    )
    if request.method != "POST":
        if course.status != TreatmentCourse.Status.PROPOSED:
            messages.info(request, f"This course is already {course.get_status_display().lower()}.")
            return redirect("clinical:review")
        return render(request, "clinical/approve.html", {"course": course})
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
def assess(request, patient_id):
    patient = get_object_or_404(Patient, pk=patient_id)
    if request.method == "POST":
        form = AssessmentForm(request.POST)
        if form.is_valid():
            try:
                assessment = assessment_record(patient=patient, dermatologist=request.practitioner, **form.cleaned_data)
            except SchedulingError as error:
                add_service_error(form, error)
            else:
                return _next_step(request, assessment)
    else:
        form = AssessmentForm(initial={"skin_type": patient.skin_type})
        record_clinical_access(patient=patient, by=request.user, what="assessment form")
    latest = patient.assessments.select_related("dermatologist__user").prefetch_related("conditions").first()
    return render(request, "clinical/assess.html", {"patient": patient, "form": form, "latest": latest})


def _next_step(request, assessment):
    """A candidate with a condition and no contraindication goes on to the course proposal."""
    blocker = assessment_blocker(assessment)
    if blocker:
        messages.warning(request, f"Assessment recorded. {blocker}")
    elif not assessment.conditions.exists():
        messages.info(request, "Assessment recorded. No condition was chosen, so there is no course to propose.")
    else:
        messages.success(request, "Assessment recorded. Propose the course from the condition's protocol.")
        return redirect("clinical:propose", assessment_id=assessment.pk)
    return redirect("patients:detail", patient_id=assessment.patient_id)
