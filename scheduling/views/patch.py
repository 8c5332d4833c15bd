"""A test patch's result: the dermatologist records what the skin did (no reaction, mild,
unsuitable), which decides whether and from when the course's first session may be booked."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from catalogue.permissions import dermatologist_required
from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from patients.audit import record_clinical_access
from scheduling.forms import PatchResultForm
from scheduling.models import Appointment
from scheduling.services import test_patch


@require_http_methods(["GET", "HEAD", "POST"])
@dermatologist_required
def patch_result(request, appointment_id):
    appointment = get_object_or_404(
        Appointment.objects.select_related("patient", "course__condition", "practitioner__user", "device"),
        pk=appointment_id,
        kind=Appointment.Kind.TEST_PATCH,
    )
    if request.method == "POST":
        form = PatchResultForm(request.POST)
        if form.is_valid():
            try:
                test_patch.patch_result_record(appointment=appointment, by=request.practitioner, **form.cleaned_data)
            except SchedulingError as error:
                add_service_error(form, error)
            else:
                step = test_patch.patch_step(appointment.course)
                messages.success(request, f"Test patch result recorded. {test_patch.step_words(step)}.")
                return redirect("scheduling:appointment", pk=appointment.pk)
    else:
        initial = {"result": appointment.patch_result, "notes": appointment.patch_result_notes}
        form = PatchResultForm(initial=initial if appointment.patch_result else None)
        record_clinical_access(patient=appointment.patient, by=request.user, what="test patch result form")
    context = {"appointment": appointment, "form": form, "wait_days": test_patch.wait_days()}
    return render(request, "clinical/patch_result.html", context)
