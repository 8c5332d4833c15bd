"""Signed, single-purpose links for patients: confirm, ask to cancel, read the prep instructions,
unsubscribe, and answer a waitlist offer.

A token is `django.core.signing` output salted with its purpose, so a link made for one purpose
does not work for another. It carries ids only (and an appointment's version), never names or
addresses. An appointment link names the version it was made for: a reschedule or cancellation
raises the version and so retires every link sent before it. Otherwise it works until its
appointment has passed (its end), however far ahead the visit was booked: a course's sessions are
booked up to a year ahead, and their confirmation carries the links. An unsubscribe link works for
three years.

The sign-in link to the patient's own pages is django-sesame's token instead (`sign_in_url`,
`sign_in_account`): single use (it signs the account's last sign-in, which signing in moves on),
30 minutes (SESAME_MAX_AGE), scoped to the portal, and made when the email is built, so no row
stores it. A waitlist offer's link carries the offer's and the patient's ids (read by
`waitlist.links`, which owns what the offer may do) and works for WAITLIST_OFFER_HOURS. The skin
check's answer links carry the treatment's and the patient's ids and the answer the link stands for
(read by `aftercare.links`) and work for SKIN_CHECK_LINK_DAYS after the email was built.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from sesame.tokens import parse_token
from sesame.utils import get_token

from patients.models import Patient
from scheduling.models import Appointment

# "hold": the link that confirms a consultation booked online (portal/consultation.py); it lives as
# long as the hold (HOLD_MINUTES), and the hold's own expiry decides.
APPOINTMENT_PURPOSES = ("confirm", "cancel", "prep", "hold")
PATIENT_PURPOSES = ("unsubscribe",)
# Tokens whose payload (ids only) the room above reads: `make_payload_token`, `read_payload`.
PAYLOAD_PURPOSES = ("waitlist_offer", "skin_check")
PURPOSES = APPOINTMENT_PURPOSES + PATIENT_PURPOSES + PAYLOAD_PURPOSES


class LinkError(Exception):
    """A link that cannot be used, with a sentence for the patient and the HTTP status to answer with:
    400 for a link that is not ours (tampered, cut short), 410 for one that was ours but is no longer
    valid (its appointment cancelled, changed or passed, its record gone, an old unsubscribe link)."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


UNSUBSCRIBE_MAX_AGE_DAYS = 3 * 365
PORTAL_SCOPE = "portal"  # a sesame token made for the patient pages works there only


def _salt(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown patient-link purpose {purpose!r}.")
    return f"patient-link:{purpose}"


def make_payload_token(purpose: str, payload: dict[str, int]) -> str:
    """A signed token for one of PAYLOAD_PURPOSES carrying `payload` (ids, never names)."""
    if purpose not in PAYLOAD_PURPOSES:
        raise ValueError(f"{purpose!r} is not a payload purpose.")
    return signing.dumps(payload, salt=_salt(purpose), compress=True)


def read_payload(purpose: str, token: str, *, max_age: timedelta) -> dict:
    """The payload of a PAYLOAD_PURPOSES token, or LinkError (expired after `max_age`, or not ours)."""
    if purpose not in PAYLOAD_PURPOSES:
        raise ValueError(f"{purpose!r} is not a payload purpose.")
    payload = _loads(purpose, token, max_age=max_age)
    if not isinstance(payload, dict):
        raise LinkError(_NOT_VALID)
    return payload


def make_token(purpose: str, *, appointment: Appointment | None = None, patient: Patient | None = None) -> str:
    """The signed token for `purpose`: an appointment's id and version, or a patient's id."""
    salt = _salt(purpose)
    if purpose in PAYLOAD_PURPOSES:
        raise ValueError(f"A {purpose} link is made with make_payload_token.")
    if purpose in APPOINTMENT_PURPOSES:
        if appointment is None:
            raise ValueError(f"A {purpose} link needs an appointment.")
        payload = {"a": appointment.pk, "v": appointment.version}
    else:
        if patient is None:
            raise ValueError(f"A {purpose} link needs a patient.")
        payload = {"p": patient.pk}
    return signing.dumps(payload, salt=salt, compress=True)


# The pages behind the links, where they are not under /p/.
_VIEWS = {"hold": "consultation:confirm"}


def link_path(purpose: str, token: str) -> str:
    return reverse(_VIEWS.get(purpose, f"patient_links:{purpose}"), args=[token])


def link_url(purpose: str, *, appointment: Appointment | None = None, patient: Patient | None = None) -> str:
    """The absolute link to put in an email."""
    token = make_token(purpose, appointment=appointment, patient=patient)
    return settings.CLINIC_BASE_URL + link_path(purpose, token)


def read_link(purpose: str, token: str) -> Appointment | Patient:
    """The appointment or patient a link was made for, or LinkError saying why it cannot be used."""
    # An unsubscribe link must keep working in old emails (RFC 8058). An appointment link's life is
    # its appointment's: `_appointment` says when it is over.
    if purpose in PAYLOAD_PURPOSES:
        raise ValueError(f"A {purpose} link is read with read_payload.")
    max_age = timedelta(days=UNSUBSCRIBE_MAX_AGE_DAYS) if purpose in PATIENT_PURPOSES else None
    if purpose == "hold":
        max_age = timedelta(minutes=settings.HOLD_MINUTES)
    payload = _loads(purpose, token, max_age=max_age)
    try:
        if purpose in PATIENT_PURPOSES:
            return _patient(int(payload["p"]))
        if purpose == "hold":  # whether it may still be confirmed is the hold's rule (hold_confirm)
            return _held(int(payload["a"]), int(payload["v"]))
        return _appointment(int(payload["a"]), int(payload["v"]))
    except (KeyError, TypeError, ValueError):  # signed by us, yet not a shape we make
        raise LinkError(_NOT_VALID) from None


_NOT_VALID = "This link is not valid. Please check that you copied the whole link from your email."


def _loads(purpose: str, token: str, *, max_age: timedelta | None):
    try:
        return signing.loads(token, salt=_salt(purpose), max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(
            "This link has expired. Please use the link in your most recent email from us, or call the clinic.",
            status=410,
        ) from None
    except signing.BadSignature:
        raise LinkError(_NOT_VALID) from None


def _patient(patient_id: int) -> Patient:
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise LinkError("This link is no longer valid.", status=410)
    return patient


def _appointment(appointment_id: int, version: int) -> Appointment:
    appointment = (
        Appointment.objects.select_related("patient", "practitioner__user", "course__condition")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        raise LinkError("This link is no longer valid.", status=410)
    if appointment.status == Appointment.Status.CANCELLED:
        raise LinkError(
            "This appointment has been cancelled, so this link no longer works. Please call the clinic to book.",
            status=410,
        )
    if appointment.version != version:
        raise LinkError(
            "Your appointment has changed since this email was sent, so this link no longer works. "
            "Please use the link in your most recent email from us.",
            status=410,
        )
    if appointment.end <= timezone.now():
        raise LinkError(
            "This appointment has passed, so this link no longer works. To book another, please call the clinic.",
            status=410,
        )
    return appointment


def portal_url() -> str:
    """The patient pages' sign-in page ("manage your visits"), for every patient email: it names nobody."""
    return settings.CLINIC_BASE_URL + reverse("portal:sign_in")


def sign_in_url(patient: Patient) -> str:
    """A fresh one-time sign-in link for the patient's own account (`patients.services.patient_account`)."""
    token = get_token(patient.user, scope=PORTAL_SCOPE)
    return settings.CLINIC_BASE_URL + reverse("portal:sign_in_link", args=[token])


def sign_in_account(token: str):
    """The patient account a sign-in token was made for while it is still good (signed by us, for the
    portal, younger than SESAME_MAX_AGE, and the account has not signed in since), or None. Only a
    patient's own account, active and never staff, counts: a token can never stand for staff."""

    def patient_account(user_id):
        patient = (
            Patient.objects.select_related("user")
            .filter(user_id=user_id, erased_at__isnull=True, user__is_active=True, user__is_staff=False)
            .filter(user__is_superuser=False)
            .first()
        )
        return patient.user if patient is not None else None

    return parse_token(token, patient_account, scope=PORTAL_SCOPE)


def _held(appointment_id: int, version: int) -> Appointment:
    appointment = Appointment.objects.select_related("patient", "practitioner__user").filter(pk=appointment_id).first()
    if appointment is None or appointment.version != version:
        raise LinkError("This link is no longer valid. Please book again.", status=410)
    return appointment
