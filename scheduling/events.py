"""What the booking services announce about an appointment (and a course), inside their transaction.

Scheduling sits below the outbox, so it cannot call it; the outbox listens here instead
(`outbox/apps.py` connects `outbox.planning.on_appointment_changed`) and plans its emails in the
same transaction as the change, so a booking and its emails commit or roll back together.
"""

from datetime import datetime
from typing import NamedTuple

from django.dispatch import Signal

BOOKED = "booked"  # also a held consultation once confirmed
HELD = "held"  # a consultation booked online, held until its address is confirmed
RESCHEDULED = "rescheduled"
COMPLETED = "completed"
NO_SHOW = "no_show"
CANCELLED = "cancelled"

# Sent with `appointment`, `change` (one of the names above), `now` and, for RESCHEDULED, `left`:
# the placement the move left (a `Placement`), which is free again. Receivers run inside the
# service's transaction; an exception in one rolls the change back.
appointment_changed = Signal()


class Placement(NamedTuple):
    """Where an appointment was: its time and resources (ids)."""

    start: datetime
    end: datetime
    blocked_until: datetime
    practitioner_id: int
    room_id: int
    device_id: int | None

    @classmethod
    def of(cls, appointment) -> "Placement":
        a = appointment
        return cls(a.start, a.end, a.blocked_until, a.practitioner_id, a.room_id, a.device_id)


def announce(appointment, change: str, *, now, left: Placement | None = None) -> None:
    appointment_changed.send(sender=type(appointment), appointment=appointment, change=change, now=now, left=left)


COURSE_CANCELLED = "course_cancelled"

# Sent with `course`, `change` (COURSE_CANCELLED) and `now`, inside the service's transaction, after
# the course's sessions still to come were cancelled (each announced on its own).
course_changed = Signal()


def announce_course(course, change: str, *, now) -> None:
    course_changed.send(sender=type(course), course=course, change=change, now=now)
