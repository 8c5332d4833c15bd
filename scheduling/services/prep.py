"""The prep rule: two sun-free weeks before a treatment, and after planned sun exposure."""

from datetime import datetime, timedelta

from scheduling.models import Appointment

PREP_WINDOW = timedelta(days=14)


def is_short_prep(*, kind: str, start: datetime, now: datetime) -> bool:
    """A treatment less than two weeks away leaves the patient less than the sun-free prep time."""
    return kind == Appointment.Kind.TREATMENT and start - now < PREP_WINDOW


def prep_begins(start: datetime) -> datetime:
    """When the sun-free preparation for a treatment at `start` begins."""
    return start - PREP_WINDOW
