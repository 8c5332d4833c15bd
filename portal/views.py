"""Signing in to the patient pages and out again.

"Send me a link" answers the same page whatever the address (known, unknown, erased), so nobody
learns who is a patient here; the requests are throttled per address asked for and per client
address (django-ratelimit on the cache; the address is hashed in the cache key). The emailed
link's page only shows a button: mail scanners that open links must not use a single-use link up.
"""

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from clinic.client import client_address

from .forms import EmailForm
from .services import patient_sign_in, record_patient_action, sign_in_link_ask
from .session import end_patient_session, signed_in_patient, start_patient_session


def clinic_details() -> dict:
    return {"name": settings.CLINIC_NAME, "address": settings.CLINIC_ADDRESS, "phone": settings.CLINIC_PHONE}


def portal_page(request, template, *, status=200, **context):
    response = render(request, f"portal/{template}", {"clinic": clinic_details(), **context}, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def form_status(request, form, *, asked: bool = True) -> int:
    """400 for a form the page refused; a page that had nothing to offer (`asked` false) only shows why."""
    return 400 if request.method == "POST" and asked and form.errors else 200


def _throttled(request, email: str) -> bool:
    """Counts this request against both limits, and says whether either is spent."""
    by_address = is_ratelimited(
        request, group="portal.sign-in.address", key=lambda group, request: email.strip().lower(),
        rate=settings.PORTAL_SIGN_IN_RATE_PER_ADDRESS, increment=True,
    )  # fmt: skip
    by_client = is_ratelimited(
        request, group="portal.sign-in.client", key=lambda group, request: client_address(request) or "unknown",
        rate=settings.PORTAL_SIGN_IN_RATE_PER_CLIENT, increment=True,
    )  # fmt: skip
    return by_address or by_client


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request):
    if request.method != "POST":
        if signed_in_patient(request) is not None:
            return redirect("portal:home")
        return portal_page(request, "sign_in.html", form=EmailForm())
    form = EmailForm(request.POST)
    if not form.is_valid():
        return portal_page(request, "sign_in.html", form=form, status=400)
    email = form.cleaned_data["email"]
    if _throttled(request, email):
        return portal_page(request, "throttled.html", status=429)
    sign_in_link_ask(email=email)
    return portal_page(request, "link_sent.html")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in_link(request, token):
    if request.method != "POST":
        # The site's Referrer-Policy (same-origin) keeps the token in this address off other sites.
        return portal_page(request, "sign_in_link.html")
    patient = patient_sign_in(token=token)
    if patient is None:
        return portal_page(request, "link_invalid.html", status=410)
    start_patient_session(request, patient)
    return redirect("portal:home")


@require_POST
def sign_out(request):
    patient = signed_in_patient(request)
    if patient is not None:
        record_patient_action(patient=patient, action="signed out")
    end_patient_session(request)
    return redirect("portal:sign_in")
