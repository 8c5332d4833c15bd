"""The dermatologist's assessment page: a consultation's outcome, and the way on to proposing a course."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from patients.audit import record_clinical_access
from patients.clinical_forms import AssessmentForm
from patients.models import Patient
from scheduling.clinical_forms import add_service_error
from scheduling.clinical_views import dermatologist_required, patient_page
from scheduling.services import SchedulingError
from scheduling.services.assessments import assessment_blocker, assessment_record


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
    return redirect(patient_page(assessment.patient_id))
