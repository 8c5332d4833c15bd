"""The clinic's tablet at check-in: reception opens it from the appointment page and hands it to
the patient, who reads each unsigned text in full, types their full name and signs. The signature
keeps the channel (tablet), the client address and the staff member who handed it over as the
witness. The rules are `clinical.services.consent`'s, the same the patient's own pages call."""

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from clinic.roles import ability_required
from clinical.consent_forms import consent_forms, sign_posted
from clinical.models import ConsentSignature
from clinical.services.consent import unsigned_texts
from scheduling.models import Appointment


@ability_required("book")
@require_http_methods(["GET", "HEAD", "POST"])
def consent_tablet(request, pk):
    appointment = get_object_or_404(Appointment.objects.select_related("patient"), pk=pk)
    patient = appointment.patient
    if patient.erased_at is not None:
        raise Http404("This patient's details were erased.")
    sign_forms = consent_forms(unsigned_texts(patient=patient), patient=patient, data=request.POST or None)
    status = 200
    if request.method == "POST":
        channel = ConsentSignature.Channel.TABLET
        if sign_posted(request, sign_forms, patient=patient, channel=channel, witnessed_by=request.user):
            return redirect("scheduling:consent_tablet", pk=appointment.pk)
        status = 400
    context = {"appointment": appointment, "patient": patient, "forms": sign_forms, "hide_staff_menu": True}
    return render(request, "scheduling/consent_tablet.html", context, status=status)
