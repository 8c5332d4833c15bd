"""The public pages where a new patient books a consultation (mounted at /book/).

The booking page offers the slot search's consultation times and takes the person's details; the
service holds the time and the outbox sends the link to confirm it at once. The answer is the same
page whatever the address: nothing here says whether it belongs to a patient on file. The link's
page shows the booking and a button: a GET changes nothing (mail scanners follow links), the POST
confirms. Like the pages under /p/, it needs no CSRF check (the signed token in its address is the
credential; see outbox/views.py) and keeps the token out of referrers.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from catalogue.models import Practitioner, Room
from clinic.client import client_address
from clinic.forms import add_service_error
from outbox.links import LinkError, read_link
from portal.consultation_forms import ConsultationForm
from scheduling.models import Appointment
from scheduling.services import SchedulingError
from scheduling.services.holds import (
    HoldNotConfirmable,
    check_confirmable,
    consultation_hold,
    consultation_slots_online,
    hold_confirm,
)

log = logging.getLogger(__name__)


def _client(group, request) -> str:
    return client_address(request) or "unknown"


def _rate(group, request) -> str:
    return settings.ONLINE_BOOKING_RATE


def _page(request, template, *, status=200, **context):
    clinic = {"name": settings.CLINIC_NAME, "address": settings.CLINIC_ADDRESS, "phone": settings.CLINIC_PHONE}
    context["clinic"] = clinic
    context["hold_minutes"] = settings.HOLD_MINUTES
    response = render(request, f"portal/consultation/{template}", context, status=status)
    # A link's token is a credential: no referrer at all. The booking form keeps Django's own
    # (same-origin): with none, Chromium posts it with `Origin: null`, which the CSRF check refuses.
    if "token" in request.resolver_match.kwargs:
        response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key=_client, rate=_rate, method="POST", block=False)
def book(request):
    if getattr(request, "limited", False):
        log.warning("online booking throttled")
        return _page(request, "throttled.html", status=429)
    slots = consultation_slots_online()
    form = ConsultationForm(request.POST or None, slots=slots)
    if request.method == "POST" and form.is_valid():
        start, practitioner_id, room_id = form.chosen()
        details = {name: form.cleaned_data[name] for name in
                   ("first_name", "last_name", "date_of_birth", "email", "phone", "email_consent")}  # fmt: skip
        try:
            consultation_hold(
                **details, start=start, practitioner=Practitioner.objects.get(pk=practitioner_id),
                room=Room.objects.get(pk=room_id),
            )  # fmt: skip
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        except SchedulingError as error:
            add_service_error(form, error)
        except (Practitioner.DoesNotExist, Room.DoesNotExist):
            form.add_error("slot", "That time is no longer offered. Please choose another.")
        else:
            return redirect("consultation:held")
    return _page(request, "book.html", form=form, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "HEAD"])
def held(request):
    return _page(request, "held.html")


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    try:
        appointment = read_link("hold", token)
    except LinkError as error:
        return _page(request, "link.html", status=error.status, message=error.message)
    confirmed = False
    try:
        if request.method == "POST":
            appointment = hold_confirm(appointment=appointment)
            confirmed = True
        else:
            check_confirmable(appointment, now=timezone.now())  # what the button would answer, said at once
    except HoldNotConfirmable as error:
        return _page(request, "link.html", status=410, message=error.message, used=error.reason == "used")
    except SchedulingError as error:
        return _page(request, "link.html", status=409, message=error.message)
    return _page(request, "confirm.html", visit=_visit(appointment), confirmed=confirmed)


def _visit(appointment: Appointment) -> dict:
    return {
        "first_name": appointment.patient.first_name,
        "start": timezone.localtime(appointment.start),
        "end": timezone.localtime(appointment.end),
        "practitioner": str(appointment.practitioner),
        "hold_until": timezone.localtime(appointment.hold_expires_at) if appointment.hold_expires_at else None,
    }
