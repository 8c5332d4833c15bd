"""Signing patients in to their pages without a password: the emailed one-time link.

The answer to "send me a link" never says whether the address is known: the same page follows
whatever the address, and an unknown or erased one sends nothing. How long a link lives and what
it may stand for is `outbox.links` (django-sesame); using it once is `patient_sign_in` here.
"""

import logging
from datetime import datetime

from auditlog.models import LogEntry
from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from outbox.links import sign_in_account
from outbox.services import sign_in_email_send
from patients.models import Patient
from patients.services import patient_account

log = logging.getLogger(__name__)
SIGN_IN_TASK = "portal.tasks.send_sign_in_links"


def sign_in_link_ask(*, email: str) -> None:
    """What a request for a sign-in link does: hand the address to the mail workers, which look it
    up (`sign_in_link_request`), so that the request does the same work for any address and its
    time tells no more than its answer whether a patient has it. The address is masked in the
    task's arguments as logs and monitors show them. When the broker cannot be reached, the address
    is looked up here instead, so that the link still goes."""
    if settings.PORTAL_SIGN_IN_IN_WORKER:
        try:  # by the task's name: portal.tasks imports this module
            current_app.send_task(SIGN_IN_TASK, args=[email], argsrepr="('<address>',)")
            return
        except OperationalError:
            log.warning("sign-in request: the broker could not be reached, so it is looked up in the request")
    sign_in_link_request(email=email)


def sign_in_link_request(*, email: str, now: datetime | None = None) -> int:
    """Email a sign-in link to each patient at `email` (a household may share one address), unless
    erased; returns how many were planned, for tests and logs only, never for the page."""
    now = now or timezone.now()
    patients = Patient.objects.filter(email__iexact=email.strip(), erased_at__isnull=True).exclude(email="")
    planned = 0
    for patient in patients:
        patient_account(patient=patient)
        sign_in_email_send(patient=patient, now=now)
        planned += 1
    return planned


def patient_sign_in(*, token: str, now: datetime | None = None) -> Patient | None:
    """The patient a sign-in link stands for, using the link up; None when it is not good (forged,
    expired, used, not a patient's, the patient erased).

    Single use: the token signs the account's last sign-in time, and signing in moves it on with
    one conditional update, so of two requests racing with one link exactly one signs in. The
    sign-in is in the audit trail, with the patient as its actor."""
    now = now or timezone.now()
    user = sign_in_account(token)
    if user is None:
        return None
    with transaction.atomic():
        accounts = get_user_model().objects.filter(pk=user.pk, last_login=user.last_login)
        if accounts.update(last_login=now) != 1:
            return None  # the other request used it first
        patient = Patient.objects.select_related("user").get(user=user)
        record_patient_action(patient=patient, action="signed in")
    log.info("patient %s signed in to their pages", patient.pk)
    return patient


def record_patient_action(*, patient: Patient, action: str) -> LogEntry:
    """Write down in the audit trail something the patient did on their pages that changes no record
    of theirs (signing in or out), with the patient's account as the actor."""
    return LogEntry.objects.log_create(
        patient,
        action=LogEntry.Action.ACCESS,
        changes=None,
        force_log=True,
        actor=patient.user,
        additional_data={"patient pages": action},
    )
