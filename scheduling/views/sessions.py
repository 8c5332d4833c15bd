"""Recording a treatment session: the dermatologist's record of an appointment, which completes it."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from catalogue.permissions import dermatologist_required
from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from patients.audit import record_clinical_access
from scheduling.forms import SessionRecordForm
from scheduling.models import Appointment, SessionRecord
from scheduling.services import appointment_complete


@require_http_methods(["GET", "HEAD", "POST"])
@dermatologist_required
def record_session(request, appointment_id):
    appointment = get_object_or_404(
        Appointment.objects.select_related(
            "patient", "course__condition", "practitioner__user", "room", "device"
        ).with_session_numbers(),
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
                    f"Session {appointment.session_number} of {course.planned_sessions} recorded and completed; "
                    "the aftercare email is on its way.",
                )
                return redirect("patients:detail", patient_id=appointment.patient_id)
    else:
        form = SessionRecordForm(course=course, initial=_settings_of(previous, course))
        record_clinical_access(patient=appointment.patient, by=request.user, what="session record form")
    context = {
        "appointment": appointment,
        "course": course,
        "previous": previous,
        "form": form,
        "checked_in": appointment.status == Appointment.Status.CHECKED_IN,
        "patient_url": reverse("patients:detail", args=[appointment.patient_id]),
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
