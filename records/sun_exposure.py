"""The patient page's planned sun exposure: add, change and remove one (reception and dermatologists)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from clinic.roles import ability_required
from clinical.models import SunExposure
from clinical.services.sun_exposure import sun_exposure_change, sun_exposure_record, sun_exposure_remove
from patients.models import Patient
from records.forms import SunExposureForm

_SAVED = "Planned sun exposure saved: no treatment is offered on its days or in the two weeks after them."


@ability_required("edit_patients")
@require_http_methods(["GET", "HEAD", "POST"])
def add(request, patient_id):
    patient = get_object_or_404(Patient, pk=patient_id, erased_at__isnull=True)
    form = SunExposureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sun_exposure_record(patient=patient, by=request.user, **form.cleaned_data)
        except SchedulingError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _SAVED)
            return redirect("patients:detail", patient_id=patient.pk)
    return _page(request, form, patient, title="Add planned sun exposure")


@ability_required("edit_patients")
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request, patient_id, pk):
    exposure = get_object_or_404(SunExposure, pk=pk, patient_id=patient_id, patient__erased_at__isnull=True)
    initial = {"what": exposure.what, "first_day": exposure.first_day, "last_day": exposure.last_day}
    form = SunExposureForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sun_exposure_change(exposure=exposure, by=request.user, **form.cleaned_data)
        except SchedulingError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _SAVED)
            return redirect("patients:detail", patient_id=patient_id)
    return _page(request, form, exposure.patient, title="Change planned sun exposure", exposure=exposure)


@ability_required("edit_patients")
@require_POST
def remove(request, patient_id, pk):
    exposure = get_object_or_404(SunExposure, pk=pk, patient_id=patient_id)
    sun_exposure_remove(exposure=exposure, by=request.user)
    messages.success(request, "Planned sun exposure removed.")
    return redirect("patients:detail", patient_id=patient_id)


def _page(request, form, patient, *, title, exposure=None):
    context = {"form": form, "patient": patient, "title": title, "exposure": exposure}
    return render(request, "patients/sun_exposure_form.html", context)
