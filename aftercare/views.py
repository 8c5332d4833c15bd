"""The skin check's pages: the patient's answer behind the emailed link (no login: the signed token
is the credential, as on outbox's link pages, whose frame these use), and the dermatologists' queue.

Mail scanners follow links, so a GET records nothing: the link opens the page with its answer
already chosen, and the page's one button sends it (a POST)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from aftercare import selectors
from aftercare.forms import AnswerForm
from aftercare.links import read_answer_token
from aftercare.models import SkinCheck
from aftercare.services import skin_check_answer, skin_check_handle
from catalogue.permissions import dermatologist_required
from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from clinic.roles import ability_required, can
from outbox.links import LinkError
from outbox.views import invalid_link, link_frame, link_page
from scheduling.models import Appointment


@link_page("GET", "HEAD", "POST")
def answer(request, token):
    try:
        appointment, chosen = read_answer_token(token)
    except LinkError as error:
        return invalid_link(request, error)
    earlier = SkinCheck.objects.filter(appointment=appointment, answered_at__isnull=False).first()
    context = {
        "first_name": appointment.patient.first_name,
        "session_day": timezone.localtime(appointment.start).date(),
        "earlier": earlier,
    }
    status = 200
    if request.method == "POST":
        form = AnswerForm(request.POST)
        if form.is_valid():
            try:
                check = skin_check_answer(appointment=appointment, now=timezone.now(), **form.cleaned_data)
            except SchedulingError as error:
                add_service_error(form, error)
            else:
                return link_frame(request, "skin_check_sent.html", check=check, replaced=earlier is not None, **context)
        status = 400
    else:
        form = AnswerForm(initial={"answer": chosen})
    return link_frame(request, "skin_check.html", status=status, form=form, **context)


@require_safe
@ability_required("view_clinical")
def queue(request):
    context = selectors.skin_queue(now=timezone.now())
    context["can_treat"] = can(request.user, "treat")
    return render(request, "aftercare/queue.html", context)


@require_POST
@dermatologist_required
def handled(request, appointment_id):
    appointment = get_object_or_404(Appointment, pk=appointment_id)
    try:
        skin_check_handle(appointment=appointment, by=request.user, now=timezone.now())
    except SchedulingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Marked as seen: {appointment.patient.full_name}.")
    return redirect("queues:skin")
