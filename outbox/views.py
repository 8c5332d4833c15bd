"""Pages behind the links in patient emails. No login: the signed token is the credential.

A GET only shows what the link does, so mail scanners that follow links change nothing; the
action is a POST from the page's button. The pages show the patient's first name and the
appointment, nothing more.

The pages are exempt from Django's CSRF check, and set no cookie. CSRF protects a session
cookie the browser sends by itself; these pages have none to protect. What authorises a POST is
the signed, single-purpose token in its address, which another site cannot know or forge, and a
page that only had the address could use it as well without any browser. The check would only
refuse patients: the pages send `Referrer-Policy: no-referrer` (the token must not leak), so
Chromium posts their forms with `Origin: null`, and browsers that block cookies never hold the
CSRF cookie. The same pages under `X-Frame-Options: DENY` cannot be framed to trick a click.
"""

from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from outbox.links import LinkError, read_link
from outbox.services import patient_unsubscribe
from scheduling.models import Appointment
from scheduling.services import IllegalTransition, appointment_confirm
from scheduling.services.patient_requests import appointment_request_cancellation
from scheduling.services.slots import is_short_prep, prep_begins


def link_frame(request, template, *, status=200, **context):
    context["clinic"] = _clinic()
    response = render(request, f"patient_links/{template}", context, status=status)
    # The token in the address is a credential: keep it out of other sites' logs and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _clinic():
    return {"name": settings.CLINIC_NAME, "address": settings.CLINIC_ADDRESS, "phone": settings.CLINIC_PHONE}


def _visit(appointment: Appointment) -> dict:
    """What a link page may show about an appointment."""
    return {
        "first_name": appointment.patient.first_name,
        "what": appointment.get_kind_display().lower(),
        "start": timezone.localtime(appointment.start),
        "end": timezone.localtime(appointment.end),
        "practitioner": str(appointment.practitioner),
        "is_treatment": appointment.kind == Appointment.Kind.TREATMENT,
    }


def invalid_link(request, error: LinkError):
    return link_frame(request, "invalid.html", status=error.status, message=error.message, gone=error.status == 410)


def link_page(*methods):
    """A patient-link view: no CSRF check (see above), never cached, and any other method answered
    with the clinic's page (405), not Django's bare one."""

    def decorate(view):
        def refuse(request):
            error = LinkError("This page cannot do that. Please use the button on the page, or call the clinic.")
            response = link_frame(request, "invalid.html", status=405, message=error.message, gone=False)
            response["Allow"] = ", ".join(methods)
            return response

        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                return refuse(request)
            return view(request, *args, **kwargs)

        return csrf_exempt(never_cache(wraps(view)(wrapper)))

    return decorate


@link_page("GET", "HEAD", "POST")
def confirm(request, token):
    try:
        appointment = read_link("confirm", token)
    except LinkError as error:
        return invalid_link(request, error)
    if request.method == "POST":
        try:
            appointment_confirm(appointment=appointment)
        except IllegalTransition:
            appointment.refresh_from_db()  # already confirmed, or past confirming: the page says which
    return link_frame(request, "confirm.html", visit=_visit(appointment), status_now=appointment.status)


@link_page("GET", "HEAD", "POST")
def cancel(request, token):
    try:
        appointment = read_link("cancel", token)
    except LinkError as error:
        return invalid_link(request, error)
    refusal = ""
    if request.method == "POST":
        try:
            appointment_request_cancellation(appointment=appointment)
        except IllegalTransition as error:
            refusal = error.message
    return link_frame(
        request,
        "cancel.html",
        visit=_visit(appointment),
        requested=appointment.cancel_requested_at is not None,
        can_request=appointment.status in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED),
        refusal=refusal,
    )


@link_page("GET", "HEAD", "POST")
def unknown(request, rest):
    error = LinkError("This link is not valid. Please check that you copied the whole link from your email.")
    return link_frame(request, "invalid.html", status=404, message=error.message, gone=False)


@link_page("GET", "HEAD")
def prep(request, token):
    try:
        appointment = read_link("prep", token)
    except LinkError as error:
        return invalid_link(request, error)
    course = appointment.course
    return link_frame(
        request,
        "prep.html",
        visit=_visit(appointment),
        prep_text=course.condition.prep_text if course else "",
        day_before_text=course.condition.day_before_text if course else "",
        short_prep=is_short_prep(kind=appointment.kind, start=appointment.start, now=timezone.now()),
        prep_from=timezone.localtime(prep_begins(appointment.start)),
    )


# RFC 8058 one-click unsubscribes are POSTed by mail providers too, with no cookie and no CSRF token;
# unsubscribing twice is harmless.
@link_page("GET", "HEAD", "POST")
def unsubscribe(request, token):
    try:
        patient = read_link("unsubscribe", token)
    except LinkError as error:
        return invalid_link(request, error)
    if request.method == "POST":
        patient_unsubscribe(patient=patient)
    return link_frame(request, "unsubscribe.html", first_name=patient.first_name, subscribed=patient.email_consent)
