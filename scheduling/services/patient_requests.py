"""What a patient can do from an email link: ask to cancel, and stop the emails."""

import logging
from datetime import datetime

from django.utils import timezone

from patients.models import Patient
from scheduling.models import Appointment

from .errors import IllegalTransition

log = logging.getLogger(__name__)
REQUESTABLE = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


def appointment_request_cancellation(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """Record that the patient asked to cancel; the appointment stays booked until reception acts.

    One conditional update: only a booked or confirmed appointment still at the version the patient
    saw takes the request, and asking again keeps the first request's time. Raises IllegalTransition
    when the appointment has moved on (checked in, completed, cancelled, rescheduled meanwhile).
    """
    now = now or timezone.now()
    Appointment.objects.filter(
        pk=appointment.pk, version=appointment.version, status__in=REQUESTABLE, cancel_requested_at__isnull=True
    ).update(cancel_requested_at=now, updated_at=now)
    seen_version = appointment.version
    appointment.refresh_from_db()
    if appointment.version != seen_version:
        raise IllegalTransition("Your appointment has changed since this email was sent.")
    if appointment.status not in REQUESTABLE:
        raise IllegalTransition(f"A {appointment.get_status_display().lower()} appointment cannot be cancelled.")
    log.info("appointment %s: the patient asked to cancel", appointment.pk)
    return appointment


def patient_unsubscribe(*, patient: Patient) -> bool:
    """Stop reminder and aftercare emails to the patient; True if they were on, False if already off.

    Emails already planned are skipped when their time comes, because sending checks the consent."""
    changed = Patient.objects.filter(pk=patient.pk, email_consent=True).update(
        email_consent=False, updated_at=timezone.now()
    )
    patient.email_consent = False
    if changed:
        log.info("patient %s unsubscribed from emails by link", patient.pk)
    return bool(changed)
