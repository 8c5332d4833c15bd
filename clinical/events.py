"""What the clinical services announce about a patient's planned sun exposure, inside their transaction.

Clinical sits below scheduling and the outbox, so it cannot call them; the outbox listens here
instead (`outbox/apps.py` connects `outbox.planning.on_sun_exposure_changed`), as it listens to
`scheduling.events`, and plans its emails in the same transaction as the record.
"""

from django.dispatch import Signal

RECORDED = "recorded"
CHANGED = "changed"
REMOVED = "removed"

# Sent with `exposure`, `change` (one of the names above) and `now`. Receivers run inside the
# service's transaction; an exception in one rolls the change back.
sun_exposure_changed = Signal()


def announce(exposure, change: str, *, now) -> None:
    sun_exposure_changed.send(sender=type(exposure), exposure=exposure, change=change, now=now)
