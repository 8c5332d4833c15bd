"""Reads about the schedule that several pages and the API share."""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from catalogue.models import Practitioner
from patients.models import Patient
from patients.selectors import SEARCH_LIMIT, patients_matching
from scheduling.availability import day_bounds
from scheduling.models import Appointment


def patient_search(*, query: str, now: datetime | None = None, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Patients matching `query` (see `patients.selectors.patients_matching`), at most `limit` of them
    (ask for one more to know whether there are more). Each carries `next_appointment_id` and
    `next_appointment_start`: the next visit not yet over."""
    now = now or timezone.now()
    upcoming = Appointment.objects.filter(
        patient=OuterRef("pk"), status__in=Appointment.UPCOMING_STATUSES, end__gt=now
    ).order_by("start", "pk")
    patients = patients_matching(query).annotate(
        next_appointment_id=Subquery(upcoming.values("pk")[:1]),
        next_appointment_start=Subquery(upcoming.values("start")[:1]),
    )
    return list(patients[:limit])


@dataclass
class PractitionerDay:
    """One practitioner's active appointments of a day, in time order, for the printed day list."""

    practitioner: Practitioner
    appointments: list[Appointment] = field(default_factory=list)


def board_appointments(*, first: datetime, last: datetime, active_only: bool = False) -> list[Appointment]:
    """The appointments starting in [`first`, `last`), in time order, with everything a board card
    or the day list shows read along (patient, course, condition, practitioner, room, laser,
    `session_number`). One query, however many there are."""
    appointments = Appointment.objects.filter(start__gte=first, start__lt=last)
    if active_only:
        appointments = appointments.filter(status__in=Appointment.ACTIVE_STATUSES)
    return list(
        appointments.select_related("patient", "course__condition", "practitioner__user", "room", "device")
        .with_session_numbers()
        .order_by("start", "pk")
    )


def board_token(*, first: datetime, last: datetime) -> str:
    """A short fingerprint of the appointments starting in [`first`, `last`), every status: what a
    board of those days shows, as `board_appointments` reads it. One query over the start index.

    Every booking, move, cancellation and status change saves `updated_at`, so the token changes
    with any of them; `version` and the status and resources are in it too, so a change stamped in
    the same microsecond or under a clock set back is not missed either. An appointment moved out
    of the span leaves the set, which changes it as well. (The latest `updated_at` would miss both
    a move out and a change stamped earlier than another but committed after it.) `updated_at` is
    read as text: loading datetimes took 13 of the query's 20 ms for a week's 800 appointments on
    the bench clinic (bench/board_live.py)."""
    rows = (
        Appointment.objects.filter(start__gte=first, start__lt=last)
        .annotate(changed=Cast("updated_at", CharField()))
        .order_by("pk")
        .values_list("pk", "changed", "version", "status", "practitioner", "room", "device")
    )
    # repr of ints, strings and None, in C: a row-by-row join cost a week's poll about 5 ms.
    return hashlib.blake2b(repr(list(rows)).encode(), digest_size=8).hexdigest()


def day_list(*, day: date) -> list[PractitionerDay]:
    """The clinic's local `day` as one list per practitioner (by name), each holding their active
    appointments of the day in time order (cancelled and no-shows left out), as `board_appointments`
    reads them. One query, however full the day."""
    first, last = day_bounds(day, timezone.get_default_timezone())
    days: dict[int, PractitionerDay] = {}
    for appointment in board_appointments(first=first, last=last, active_only=True):
        entry = days.setdefault(appointment.practitioner_id, PractitionerDay(appointment.practitioner))
        entry.appointments.append(appointment)
    return sorted(days.values(), key=lambda entry: (str(entry.practitioner), entry.practitioner.pk))
