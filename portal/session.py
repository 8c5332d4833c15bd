"""The patient session: who is signed in to the patient pages, kept apart from the staff login.

A patient is never logged in with `django.contrib.auth.login`: `request.user` stays anonymous for
them, so no staff page, admin page or API endpoint (all of which ask `request.user`) lets them in.
Their patient's id lives under its own session key, in a session started afresh at sign-in (a new
key and nothing carried over, so a fixed session id or a staff login in the same browser goes). The
session ends after PORTAL_SESSION_HOURS, or sooner when idle (SESSION_COOKIE_AGE, as for staff).
`signed_in_patient` is the one way a portal view learns whose pages it shows.
"""

from functools import wraps

from django.conf import settings
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache

from clinic.middleware import LAST_SEEN, IdleSessionMiddleware
from patients.models import Patient

PATIENT_KEY = "portal_patient_id"
SIGNED_IN_AT = "portal_signed_in_at"


def _epoch() -> int:
    return int(timezone.now().timestamp())


def start_patient_session(request, patient: Patient) -> None:
    request.session.flush()
    rotate_token(request)  # as a staff login does: no CSRF token from before the sign-in
    request.session[PATIENT_KEY] = patient.pk
    request.session[SIGNED_IN_AT] = request.session[LAST_SEEN] = _epoch()
    request.audit_actor = patient.user


def end_patient_session(request) -> None:
    request.session.flush()


def signed_in_patient(request) -> Patient | None:
    """The patient this session was signed in for, or None (and the session ended) once it is over
    or the patient was erased meanwhile. The patient is the audit trail's actor for the request."""
    patient_id = request.session.get(PATIENT_KEY)
    if patient_id is None:
        return None
    now = _epoch()
    if now - request.session.get(SIGNED_IN_AT, 0) > settings.PORTAL_SESSION_HOURS * 3600:
        end_patient_session(request)
        return None
    patient = Patient.objects.select_related("user").filter(pk=patient_id, erased_at__isnull=True).first()
    if patient is None or patient.user is None:
        end_patient_session(request)
        return None
    if now - request.session.get(LAST_SEEN, 0) >= IdleSessionMiddleware.TOUCH_EVERY_SECONDS:
        request.session[LAST_SEEN] = now  # saved, so the idle timeout counts from here
    request.audit_actor = patient.user  # read by clinic.middleware.AuditlogMiddleware
    return patient


def patient_required(view):
    """A patient page: the signed-in patient is passed to the view; without one, the sign-in page.
    Never cached: the pages are about one person."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        patient = signed_in_patient(request)
        if patient is None:
            return redirect("portal:sign_in")
        return view(request, patient, *args, **kwargs)

    return never_cache(wrapper)
