"""The patient's own planned sun exposure: a beach holiday or a ski trip they tell us about, so no
treatment is offered on its days or in the two weeks after. The rules are
`clinical.services.sun_exposure`'s, the same the reception's pages call."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from clinical.models import SunExposure
from clinical.selectors import planned_sun_exposures
from clinical.services.sun_exposure import sun_exposure_record, sun_exposure_remove
from records.forms import SunExposureForm

from .session import patient_required
from .views import form_status, portal_page


@patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def sun_exposure(request, patient):
    form = SunExposureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sun_exposure_record(patient=patient, by=patient.user, **form.cleaned_data)
        except SchedulingError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Thank you. We will offer no treatment on those days or in the two weeks after.")
            return redirect("portal:sun_exposure")
    planned = planned_sun_exposures(patient, today=timezone.localdate())
    return portal_page(
        request, "sun.html", patient=patient, form=form, planned=planned, status=form_status(request, form)
    )


@patient_required
@require_POST
def sun_exposure_cancel(request, patient, exposure_id):
    exposure = get_object_or_404(SunExposure, pk=exposure_id, patient=patient)  # anyone else's: 404
    sun_exposure_remove(exposure=exposure, by=patient.user)
    messages.success(request, "Removed.")
    return redirect("portal:sun_exposure")
