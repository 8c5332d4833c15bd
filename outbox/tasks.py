"""Celery tasks: thin wrappers that take ids and call one service each.

The tasks keep the names they had when they lived in `scheduling.tasks`, so tasks already queued
under those names (and the beat schedule and routes in settings) still find them."""

from collections import Counter

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime
from kombu.exceptions import OperationalError

from outbox import sending

# Well under NOTIFICATIONS["REQUEUE_AFTER_SECONDS"], so a row is only claimed again once the
# worker that had it has certainly given up.
SEND_TIME_LIMIT = 120
# A batch starts no new row after this long; the rest go back to the outbox for the next dispatch,
# so even a slow mail server leaves the last row time to finish inside the limit.
BATCH_STOP_AFTER = SEND_TIME_LIMIT / 2


@shared_task(
    name="scheduling.tasks.send_notifications",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=SEND_TIME_LIMIT,
    soft_time_limit=SEND_TIME_LIMIT - 10,
)
def send_notifications(notification_ids: list[int], at: str | None = None) -> dict[str, int]:
    """Send a batch; `at` (ISO 8601, from `dispatch_notifications --at`) is the time whether each email
    is still wanted is decided for, the present when absent. Returns how many rows ended how
    ("error" counts the rows an application fault failed; their tracebacks are in the log)."""
    now = parse_datetime(at) if at else None
    results = sending.send_batch(notification_ids, now=now, stop_after=BATCH_STOP_AFTER)
    return dict(Counter(results.values()))


@shared_task(
    name="scheduling.tasks.send_notification",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=SEND_TIME_LIMIT,
    soft_time_limit=SEND_TIME_LIMIT - 10,
)
def send_notification(notification_id: int) -> str:
    """One row; kept so that tasks queued before batches existed still run."""
    return sending.send(notification_id)


@shared_task(name="scheduling.tasks.dispatch_notifications", acks_late=True)
def dispatch_notifications(limit: int = 1000) -> int:
    """Claim the due rows and queue their send tasks, a batch at a time, once the claim has committed."""
    with transaction.atomic():
        ids = sending.claim_due(limit=limit)
        transaction.on_commit(lambda: enqueue(ids))
    return len(ids)


def enqueue(ids, *, at=None) -> None:
    """Queue send tasks for claimed rows, to be sent as of `at` (a dispatch by hand at another time)
    or of the moment they are sent. When the broker cannot be reached (kombu's OperationalError,
    after the publish retries in settings), the rows not yet queued go straight back to pending,
    for the next dispatch to claim, and the error goes on to the caller."""
    ids = list(ids)
    size = settings.NOTIFICATIONS["SEND_BATCH_SIZE"]
    extra = {"at": at.isoformat()} if at else {}
    for start in range(0, len(ids), size):
        try:
            send_notifications.delay(ids[start : start + size], **extra)
        except OperationalError:
            sending.release(ids[start:])
            raise
