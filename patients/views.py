"""Staff pages for patients: search, register, edit, and the patient page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from clinic.roles import ability_required, can
from patients import services
from patients.audit import patient_audit_trail, record_clinical_access
from patients.forms import ErasureForm, PatientForm
from patients.models import Patient
from patients.privacy import patient_erase, patient_export


@ability_required("view_patients")
def search(request):
    query = request.GET.get("q", "")
    results = services.patient_search(query=query, limit=services.SEARCH_LIMIT + 1)
    context = {
        "query": query.strip(),
        "patients": results[: services.SEARCH_LIMIT],
        "more": len(results) > services.SEARCH_LIMIT,
        "limit": services.SEARCH_LIMIT,
        "can_add": can(request.user, "edit_patients"),
    }
    # htmx asks for the whole page when it restores history it no longer holds.
    partial = "HX-Request" in request.headers and "HX-History-Restore-Request" not in request.headers
    template = "patients/_search_results.html" if partial else "patients/search.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-History-Restore-Request"])
    return response


def _save(form, *, patient=None):
    """Save a valid form through the service; on a refusal, put its errors on the form."""
    try:
        if patient is None:
            return services.patient_create(**form.cleaned_data)
        return services.patient_update(patient=patient, **form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return None


@ability_required("edit_patients")
def create(request):
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = _save(form)
        if patient is not None:
            messages.success(request, f"{patient.full_name} is registered.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/form.html", {"form": form, "title": "New patient"})


@ability_required("edit_patients")
def edit(request, patient_id):
    patient = get_object_or_404(Patient, pk=patient_id)
    title = f"Edit {patient.full_name}"  # before the form writes the typed name into `patient`
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        # The form wrote into `patient`; the service saves from a fresh copy, so hand it a clean one.
        saved = _save(form, patient=Patient(pk=patient.pk))
        if saved is not None:
            messages.success(request, f"{saved.full_name}'s details are saved.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/form.html", {"form": form, "title": title, "patient_id": patient.pk})


@ability_required("view_patients")
def detail(request, patient_id):
    clinical = can(request.user, "view_clinical")
    try:
        overview = services.patient_overview(patient_id=patient_id, clinical=clinical)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None
    if clinical:
        record_clinical_access(patient=overview.patient, by=request.user, what="patient page")
    context = {
        "overview": overview,
        "patient": overview.patient,
        "can_edit": can(request.user, "edit_patients") and not overview.patient.erased_at,
        "can_book": can(request.user, "book") and not overview.patient.erased_at,
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
