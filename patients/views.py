"""Staff pages for registering and editing patients."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from clinic.roles import ability_required
from patients import services
from patients.forms import DuplicateConfirmForm, PatientForm
from patients.models import Patient
from patients.selectors import likely_duplicates


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
    """Register a patient; someone on file with the same name and birth date, email or phone is shown
    first, with a box to tick for a different person who happens to share them."""
    form = PatientForm(request.POST or None)
    confirm = DuplicateConfirmForm(request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid() and confirm.is_valid():
        if not confirm.cleaned_data["not_a_duplicate"]:
            details = form.cleaned_data
            duplicates = likely_duplicates(
                first_name=details["first_name"],
                last_name=details["last_name"],
                date_of_birth=details["date_of_birth"],
                email=details["email"],
                phone=details["phone"],
            )
        if not duplicates:
            patient = _save(form)
            if patient is not None:
                messages.success(request, f"{patient.full_name} is registered.")
                return redirect("patients:detail", patient_id=patient.pk)
    context = {"form": form, "title": "New patient", "duplicates": duplicates, "confirm": confirm}
    return render(request, "patients/form.html", context)


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
