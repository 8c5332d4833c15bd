"""A patient's planned sun exposure: recording, changing and removing one.

Request-free, with the acting user as `by`, so the staff pages, the API and the patient's own
pages call the same functions. What the exposure means for treatments (the days they are kept off)
is the engine's rule, `scheduling.services.sun`; the emails it causes are the outbox's, told
through `clinical.events`.
"""

from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import pre_save
from django.utils import timezone

from clinic.errors import SchedulingError
from clinical import events
from clinical.models import SunExposure

# An exposure is a holiday, not a season: longer than this is more likely a typing slip.
LONGEST_EXPOSURE = timedelta(days=120)
WHAT_MAX = SunExposure._meta.get_field("what").max_length


def check_exposure(*, first_day: date, last_day: date, what: str, today: date) -> None:
    """Refuse days out of order, in the past or too long, and an empty or overlong description."""
    if not what.strip():
        raise SchedulingError("Say what the exposure is (a beach holiday, a ski trip).", field="what")
    if len(what.strip()) > WHAT_MAX:
        raise SchedulingError(f"Describe it in at most {WHAT_MAX} characters.", field="what")
    if last_day < first_day:
        raise SchedulingError("The last day is before the first.", field="last_day")
    if last_day < today:
        raise SchedulingError("That exposure is over already.", field="last_day")
    if last_day - first_day > LONGEST_EXPOSURE:
        raise SchedulingError(f"Record at most {LONGEST_EXPOSURE.days} days at a time.", field="last_day")


@contextmanager
def _acting(by):
    """The audit trail's actor: the request's, which the middleware names while it listens for the
    trail's entries, or else `by` (a task, a shell)."""
    in_a_request = pre_save.has_listeners(LogEntry)
    with set_actor(by) if not in_a_request and isinstance(by, get_user_model()) else nullcontext():
        yield


def sun_exposure_record(
    *, patient, first_day: date, last_day: date, what: str, by=None, now: datetime | None = None
) -> SunExposure:
    """Record planned sun exposure for `patient`; the outbox tells them of sessions it now touches."""
    now = now or timezone.now()
    if patient.erased_at is not None:
        raise SchedulingError("This patient's details were erased on request.", field="patient")
    check_exposure(first_day=first_day, last_day=last_day, what=what, today=timezone.localdate(now))
    with _acting(by), transaction.atomic():
        exposure = SunExposure.objects.create(
            patient=patient, first_day=first_day, last_day=last_day, what=what.strip(), recorded_by=by,
            created_at=now, updated_at=now,
        )  # fmt: skip
        events.announce(exposure, events.RECORDED, now=now)
    return exposure


def sun_exposure_change(
    *, exposure: SunExposure, first_day: date, last_day: date, what: str, by=None, now: datetime | None = None
) -> SunExposure:
    """Change the days or the words; sessions the new days touch are flagged and told of again."""
    now = now or timezone.now()
    check_exposure(first_day=first_day, last_day=last_day, what=what, today=timezone.localdate(now))
    with _acting(by), transaction.atomic():
        exposure = SunExposure.objects.select_for_update().get(pk=exposure.pk)
        exposure.first_day, exposure.last_day, exposure.what = first_day, last_day, what.strip()
        exposure.updated_at = now
        exposure.save(update_fields=["first_day", "last_day", "what", "updated_at"])
        events.announce(exposure, events.CHANGED, now=now)
    return exposure


def sun_exposure_remove(*, exposure: SunExposure, by=None, now: datetime | None = None) -> None:
    """Remove a record (the trip was called off, or typed by mistake); the audit trail keeps it."""
    now = now or timezone.now()
    with _acting(by), transaction.atomic():
        events.announce(exposure, events.REMOVED, now=now)
        exposure.delete()
