"""What staff and patients can change about the emails: sending a failed one again, stopping them."""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError

from outbox import planning, sending, tasks
from outbox.models import Notification
from patients.models import Patient

log = logging.getLogger(__name__)


def patient_unsubscribe(*, patient: Patient) -> bool:
    """Stop the patient's confirmations, reminders, aftercare and prompts; True if they were on, False
    if already off. A notice that the clinic moved or cancelled a booked visit is still sent (see
    `outbox.sending.unwanted_reason`, which checks the consent when each email's time comes)."""
    with transaction.atomic():
        current = Patient.objects.select_for_update().get(pk=patient.pk)
        changed = current.email_consent
        if changed:
            current.email_consent = False
            current.save(update_fields=["email_consent", "updated_at"])
    patient.email_consent = False
    if changed:
        log.info("patient %s unsubscribed from emails by link", patient.pk)
    return bool(changed)


# Who may send an email again: whoever the failed-emails queue is for. The queue is part of the work
# queues (records.queues.index), which every role with `view_schedule` reads; sending again changes
# nothing in the diary, so it needs no more than seeing the queue.
RETRY_ABILITY = "view_schedule"
RETRYABLE_STATUSES = (Notification.Status.FAILED, Notification.Status.SKIPPED)


def notification_retry(*, notifications: QuerySet[Notification], now: datetime | None = None) -> int:
    """Put the failed or skipped emails among `notifications` back in the outbox, due now with a
    fresh count of attempts; returns how many. Emails in any other state are left as they are.

    Sending checks again whether each email is still wanted (consent, an email address, the
    appointment unchanged), so an email skipped for a reason that still holds is skipped again."""
    now = now or timezone.now()
    count = notifications.filter(status__in=RETRYABLE_STATUSES).update(
        status=Notification.Status.PENDING, due_at=now, attempts=0
    )
    log.info("%s email(s) put back in the outbox to send again", count)
    return count


def sign_in_email_send(*, patient: Patient, now: datetime | None = None) -> Notification:
    """Plan the patient's sign-in link and hand it to the mail workers as soon as it commits, rather
    than at the next minute's dispatch: the patient is waiting for it. When the broker cannot be
    reached the row stays pending and the next dispatch sends it."""
    now = now or timezone.now()
    with transaction.atomic():
        notification = planning.plan_sign_in(patient, now=now)
        transaction.on_commit(lambda: _send_soon(notification.pk))
    log.info("patient %s: sign-in link planned (notification %s)", patient.pk, notification.pk)
    return notification


def _send_soon(notification_id: int) -> None:
    claimed = sending.claim(notification_id)
    if not claimed:
        return  # a dispatcher took it meanwhile
    try:
        tasks.enqueue([notification_id])
    except OperationalError:  # enqueue put it back as pending
        log.warning("notification %s: the broker could not be reached; the next dispatch sends it", notification_id)
