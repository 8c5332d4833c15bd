"""Celery tasks: thin wrappers that take ids and call one service each."""

from celery import shared_task
from django.db import transaction

from scheduling.services import notifications

# Well under NOTIFICATIONS["REQUEUE_AFTER_SECONDS"], so a row is only claimed again once the
# worker that had it has certainly given up.
SEND_TIME_LIMIT = 120


@shared_task(
    acks_late=True, reject_on_worker_lost=True, time_limit=SEND_TIME_LIMIT, soft_time_limit=SEND_TIME_LIMIT - 10
)
def send_notification(notification_id: int) -> str:
    return notifications.send(notification_id)


@shared_task(acks_late=True)
def dispatch_notifications(limit: int = 1000) -> int:
    """Claim the due rows and queue one send task per row once the claim has committed."""
    with transaction.atomic():
        ids = notifications.claim_due(limit=limit)
        transaction.on_commit(lambda: enqueue(ids))
    return len(ids)


def enqueue(ids) -> None:
    for notification_id in ids:
        send_notification.delay(notification_id)
