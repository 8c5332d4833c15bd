"""The waitlist's pages: reception's (put a patient on it, take them off, the waitlist queue) and the
patient's answer to an offer behind the emailed link (no login: the signed token is the credential,
as on outbox's link pages, whose frame these use)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from clinic.roles import ability_required, can
from outbox.emails import TITLES
from outbox.links import LinkError
from outbox.views import invalid_link, link_frame, link_page
from patients.models import Patient
from scheduling.models import Appointment
from waitlist import selectors
from waitlist.forms import JoinForm
from waitlist.links import read_offer_token
from waitlist.models import WaitlistEntry
from waitlist.services.entries import waitlist_join, waitlist_leave
from waitlist.services.offers import ANSWERED, Answer, OfferRefused, offer_accept, offer_decline, offer_for_patient

NOT_YOURS = LinkError("This link is not valid. Please check that you copied the whole link from your email.")


@require_http_methods(["GET", "HEAD", "POST"])
@ability_required("book")
def join(request, patient_id):
    patient = get_object_or_404(Patient, pk=patient_id, erased_at__isnull=True)
    now = timezone.now()
    form = JoinForm(request.POST or None, patient=patient, now=now)
    if request.method == "POST" and form.is_valid():
        try:
            waitlist_join(patient=patient, by=request.user, now=now, **form.service_arguments())
        except SchedulingError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Added to the waitlist.")
            return redirect("waitlist:join", patient_id=patient.pk)
    context = {"form": form, "patient": patient, "entries": selectors.waiting_entries(patient_id=patient.pk)}
    return render(request, "waitlist/join.html", context)


@require_POST
@ability_required("book")
def leave(request, entry_id):
    entry = get_object_or_404(WaitlistEntry, pk=entry_id)
    waitlist_leave(entry=entry, by=request.user)
    messages.success(request, "Taken off the waitlist.")
    return redirect("waitlist:join", patient_id=entry.patient_id)


@require_safe
@ability_required("view_schedule")
def queue(request):
    entries = list(selectors.waiting_entries()[: selectors.QUEUE_LENGTH + 1])
    offers = list(selectors.open_offers()[: selectors.QUEUE_LENGTH + 1])
    context = {
        "entries": entries[: selectors.QUEUE_LENGTH],
        "more_entries": len(entries) > selectors.QUEUE_LENGTH,
        "offers": offers[: selectors.QUEUE_LENGTH],
        "more_offers": len(offers) > selectors.QUEUE_LENGTH,
        "can_book": can(request.user, "book"),
    }
    return render(request, "waitlist/queue.html", context)


@link_page("GET", "HEAD", "POST")
def offer(request, token):
    try:
        offer_id, patient_id = read_offer_token(token)
        if request.method == "POST" and request.POST.get("offer") != str(offer_id):
            raise NOT_YOURS  # a form posting another offer's id than its link's
        current = offer_for_patient(offer_id=offer_id, patient_id=patient_id)
    except LinkError as error:
        return invalid_link(request, error)
    except OfferRefused:
        return invalid_link(request, NOT_YOURS)
    answer = None
    if request.method == "POST":
        answer_to = offer_accept if request.POST.get("answer") == "accept" else offer_decline
        answer: Answer = answer_to(offer_id=offer_id, patient_id=patient_id)
        current.refresh_from_db()
    elif current.status != current.Status.OFFERED or current.expires_at <= timezone.now():
        status = current.status if current.status != current.Status.OFFERED else current.Status.EXPIRED
        answer = Answer(status, ANSWERED[status])
    entry = current.entry
    visit = {
        "first_name": entry.patient.first_name,
        "what": TITLES.get(entry.kind, "Appointment").lower(),
        "start": timezone.localtime(current.start),
        "end": timezone.localtime(current.end),
        "practitioner": str(current.practitioner),
        "is_treatment": entry.kind == Appointment.Kind.TREATMENT,
    }
    return link_frame(
        request,
        "waitlist_offer.html",
        visit=visit,
        first_name=entry.patient.first_name,
        offer_id=current.pk,
        offer_status=answer.status if answer else current.status,
        message=answer.message if answer else "",
        expires_at=timezone.localtime(current.expires_at),
    )
