"""A patient's request, from an email link, to cancel a visit: recorded for reception to act on."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clinic.errors import IllegalTransition
from scheduling.models import Appointment

log = logging.getLogger(__name__)
REQUESTABLE = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


def appointment_request_cancellation(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """Record that the patient asked to cancel; the appointment stays booked until reception acts.

    Under a row lock, only a booked or confirmed appointment still at the version the patient saw
    takes the request, and asking again keeps the first request's time. Raises IllegalTransition
    when the appointment has moved on (checked in, completed, cancelled, rescheduled meanwhile).
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if current.version != appointment.version:
            raise IllegalTransition("Your appointment has changed since this email was sent.")
        if current.status not in REQUESTABLE:
            raise IllegalTransition(f"A {current.get_status_display().lower()} appointment cannot be cancelled.")
        if current.cancel_requested_at is None:
            current.cancel_requested_at = now
            current.save(update_fields=["cancel_requested_at", "updated_at"])  # saved, so the audit trail sees it
    appointment.refresh_from_db()
    log.info("appointment %s: the patient asked to cancel", appointment.pk)
    return appointment
