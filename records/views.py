"""The patient's whole record for staff: search, the patient page, data export and erasure."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from catalogue.permissions import acting_dermatologist
from clinic.roles import ability_required, can
from clinical.services.courses import proposable_conditions
from patients.audit import record_clinical_access
from patients.models import Patient
from patients.selectors import SEARCH_LIMIT
from records import selectors
from records.audit import patient_audit_trail
from records.forms import ErasureForm
from records.privacy import patient_erase, patient_export
from scheduling.selectors import patient_search


@ability_required("view_patients")
def search(request):
    query = request.GET.get("q", "")
    results = patient_search(query=query, limit=SEARCH_LIMIT + 1)
    context = {
        "query": query.strip(),
        "patients": results[:SEARCH_LIMIT],
        "more": len(results) > SEARCH_LIMIT,
        "limit": SEARCH_LIMIT,
        "can_add": can(request.user, "edit_patients"),
        "can_book": can(request.user, "book"),
    }
    # htmx asks for the whole page when it restores history it no longer holds.
    partial = "HX-Request" in request.headers and "HX-History-Restore-Request" not in request.headers
    template = "patients/_search_results.html" if partial else "patients/search.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-History-Restore-Request"])
    return response


@ability_required("view_patients")
def detail(request, patient_id):
    clinical = can(request.user, "view_clinical")
    try:
        overview = selectors.patient_overview(patient_id=patient_id, clinical=clinical)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None
    if clinical:
        record_clinical_access(patient=overview.patient, by=request.user, what="patient page")
    erased = overview.patient.erased_at is not None
    treats = acting_dermatologist(request.user) is not None
    courses = [progress.course for progress in overview.courses]
    context = {
        "overview": overview,
        "patient": overview.patient,
        "can_edit": can(request.user, "edit_patients") and not erased,
        "can_book": can(request.user, "book") and not erased,
        "can_assess": treats and not erased,
        "can_record": treats,
        # Assessments a course can still be proposed on, with the conditions it can be for.
        "proposals": {
            a.pk: proposable_conditions(a, courses=courses) for a in overview.assessments if treats and not erased
        },
        "can_manage_data": can(request.user, "manage_data"),
        "audit_trail": patient_audit_trail(patient_id=patient_id) if can(request.user, "view_audit") else None,
    }
    return render(request, "patients/detail.html", context)


@ability_required("manage_data")
@require_POST
def export(request, patient_id):
    """All the patient's records as a JSON download (a data-access request)."""
    patient = get_object_or_404(Patient, pk=patient_id)
    response = HttpResponse(patient_export(patient=patient, by=request.user), content_type="application/json")
    stamp = timezone.localdate().isoformat()
    # The file is named by record number, not by name: downloads folders get synced and shared.
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}-{stamp}.json"'
    add_never_cache_headers(response)
    return response


@ability_required("manage_data")
@require_http_methods(["GET", "HEAD", "POST"])
def erase(request, patient_id):
    """Erasure on the patient's request: a confirmation page, then the anonymisation."""
    patient = get_object_or_404(Patient, pk=patient_id)
    form = ErasureForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            patient_erase(patient=patient, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"Patient {patient.pk}'s personal details are erased; the anonymous history stays."
            )
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/erase.html", {"form": form, "patient": patient})
