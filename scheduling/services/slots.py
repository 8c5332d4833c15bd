"""Slot search: where can a session of a given length go?

A constant number of queries loads the window's working hours, time off, closures, rooms, devices
and busy appointments; the rest is interval arithmetic in Python over that window only.
"""

import heapq
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import BigIntegerField, Func
from django.utils import timezone

from scheduling.availability import (
    BusyIndex,
    Interval,
    clip,
    dates,
    day_bounds,
    epoch,
    grid_starts,
    instant,
    merge,
    subtract,
    working_intervals,
)
from scheduling.models import Appointment, ClinicClosure, LaserDevice, Practitioner, Room, TimeOff, WorkingHours

from .errors import SchedulingError

PREP_WINDOW = timedelta(days=14)
# No appointment holds a resource longer than this (session plus turnover). Knowing it lets every
# overlap query bound `start` from both sides, so the start index reads only the window.
LONGEST_HOLD = timedelta(hours=24)
DEFAULT_VISIT_MINUTES = 30


class Epoch(Func):
    """A timestamp column as whole seconds since the Unix epoch, read as a plain integer.

    Slot search reads thousands of timestamps; integers load and compare far faster than
    timezone-aware datetimes."""

    output_field = BigIntegerField()

    @property
    def convert_value(self):
        # Both databases already return an integer; skip Django's per-value int().
        return self._convert_value_noop

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS bigint)")

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS integer)")


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    practitioner: Practitioner
    room: Room
    device: LaserDevice | None
    short_prep: bool


def session_length(course) -> timedelta:
    """A treatment session takes the sum of its areas' times (small 30, medium 45, large 60 minutes)."""
    return timedelta(minutes=sum(area.minutes for area in course.areas.all()))


def is_short_prep(*, kind: str, start: datetime, now: datetime) -> bool:
    """A treatment less than two weeks away leaves the patient less than the sun-free prep time."""
    return kind == Appointment.Kind.TREATMENT and start - now < PREP_WINDOW


def suitable_devices(condition):
    """Active lasers set up for `condition` (all active lasers when there is no condition)."""
    devices = LaserDevice.objects.filter(active=True)
    return devices.filter(conditions=condition) if condition is not None else devices


def closed_dates(first: date, last: date) -> dict[date, str]:
    """Closed local dates between `first` and `last` with the reason."""
    closed = {}
    for closure in ClinicClosure.objects.filter(start_date__lte=last, end_date__gte=first):
        for day in dates(max(first, closure.start_date), min(last, closure.end_date)):
            closed[day] = closure.reason
    return closed


def course_sessions(course):
    """The course's treatment sessions that took or hold a place (reviews and consultations linked
    to a course are visits, not sessions: they have no number and do not count)."""
    return course.appointments.filter(kind=Appointment.Kind.TREATMENT, status__in=Appointment.ACTIVE_STATUSES)


def previous_session(course, *, exclude_ids=()):
    """The latest session of the course that took or holds a place, or None."""
    return course_sessions(course).exclude(pk__in=exclude_ids).order_by("-start").first()


def interval_window(previous_start: datetime, course) -> tuple[datetime, datetime]:
    """When the session after one at `previous_start` may start: from the beginning of the local
    day `min_interval_days` later to the end of the day `max_interval_days` later. Intervals count
    calendar days on the clinic clock, so a DST change between sessions does not shift them."""
    tz = timezone.get_default_timezone()
    previous_day = timezone.localdate(previous_start)
    earliest = day_bounds(previous_day + course.min_interval, tz)[0]
    latest = day_bounds(previous_day + course.max_interval, tz)[1]
    return earliest, latest


def days_apart(first: datetime, second: datetime) -> int:
    """Calendar days between two sessions on the clinic clock, the unit of a course's intervals."""
    return abs((timezone.localdate(second) - timezone.localdate(first)).days)


def find_slots(
    *,
    start_date: date,
    days: int,
    length: timedelta | None = None,
    course=None,
    kind: str = Appointment.Kind.TREATMENT,
    practitioner: Practitioner | None = None,
    room: Room | None = None,
    device: LaserDevice | None = None,
    patient=None,
    condition=None,
    limit: int = 10,
    now: datetime | None = None,
    earliest: datetime | None = None,
    latest_start: datetime | None = None,  # exclusive
    ignore_appointment_ids=(),
) -> list[Slot]:
    """The first `limit` free starts, in time order, on the 15-minute grid of the local days
    `start_date` .. `start_date + days - 1`.

    A slot has a practitioner inside their working hours and not off, a room and (for a treatment)
    a laser suited to the course's condition, each free for the session plus its turnover buffer,
    on a day the clinic is open, while the patient has nothing else on. With a `course`, the length
    comes from its areas, the patient is its patient, the laser must suit its condition, and no
    slot starts before the previous session plus the course's minimum interval.
    """
    now = now or timezone.now()
    if kind == Appointment.Kind.TREATMENT and course is None and length is None:
        raise SchedulingError("Give a course or a duration to search for treatment slots.", field="duration")
    if course is not None:
        length = session_length(course)
        patient = course.patient
        condition = course.condition
        before = previous_session(course, exclude_ids=ignore_appointment_ids)
        if before is not None:
            earliest = max(earliest or before.start, interval_window(before.start, course)[0])
    if length is None:
        length = timedelta(minutes=DEFAULT_VISIT_MINUTES)
    if length <= timedelta(0):
        raise SchedulingError("The course has no treatment areas, so its session length is unknown.", field="course")

    tz = timezone.get_default_timezone()
    last_date = start_date + timedelta(days=days - 1)
    window_start = max(day_bounds(start_date, tz)[0], now, earliest or now)
    window_end = day_bounds(last_date, tz)[1]
    if latest_start is not None:
        window_end = min(window_end, latest_start + length - timedelta(seconds=1))
    if window_start >= window_end:
        return []
    window = (epoch(window_start), epoch(window_end))
    seconds = int(length.total_seconds())

    # The constant set of queries.
    hours = WorkingHours.objects.filter(practitioner__active=True).select_related("practitioner__user")
    if practitioner is not None:
        hours = hours.filter(practitioner=practitioner)
    rules_by_practitioner: dict[int, list] = {}
    practitioners: dict[int, Practitioner] = {}
    for rule in hours:
        practitioners[rule.practitioner_id] = rule.practitioner
        rules = rules_by_practitioner.setdefault(rule.practitioner_id, [])
        rules.append((rule.weekday, rule.start_time, rule.end_time))
    time_off = TimeOff.objects.filter(
        practitioner__in=list(practitioners), start__lt=window_end, end__gt=window_start
    ).values_list("practitioner_id", Epoch("start"), Epoch("end"))
    closed = closed_dates(start_date, last_date)
    rooms = list(Room.objects.filter(active=True, **({"pk": room.pk} if room else {})))
    devices: list[LaserDevice | None] = [None]
    if kind == Appointment.Kind.TREATMENT:
        candidates = suitable_devices(condition)
        devices = list(candidates.filter(pk=device.pk) if device else candidates)
    busy = (
        Appointment.objects.filter(
            status__in=Appointment.ACTIVE_STATUSES,
            start__lt=window_end,
            start__gt=window_start - LONGEST_HOLD,
            blocked_until__gt=window_start,
        )
        .exclude(pk__in=ignore_appointment_ids)
        .order_by("start")  # the index's order, and already sorted for merge()
        .values_list(
            "practitioner_id",
            "room_id",
            "device_id",
            "patient_id",
            Epoch("start"),
            Epoch("end"),
            Epoch("blocked_until"),
        )
    )

    people: dict[int, list[Interval]] = {pk: [] for pk in practitioners}
    for practitioner_id, off_start, off_end in time_off:
        people[practitioner_id].append((off_start, off_end))
    kit: dict[tuple[str, int], list[Interval]] = {}
    patient_busy: list[Interval] = []
    patient_id = patient.pk if patient is not None else None
    for practitioner_id, room_id, device_id, who, start, end, blocked_until in busy:
        if practitioner_id in people:
            people[practitioner_id].append((start, end))
        kit.setdefault(("room", room_id), []).append((start, blocked_until))
        if device_id is not None:
            kit.setdefault(("device", device_id), []).append((start, blocked_until))
        if who == patient_id:
            patient_busy.append((start, end))
    kit_index = {key: BusyIndex(merge(intervals)) for key, intervals in kit.items()}
    patient_index = BusyIndex(merge(patient_busy))

    open_days = [day for day in dates(start_date, last_date) if day not in closed]
    streams = []
    ordered = sorted(practitioners.values(), key=lambda p: (str(p), p.pk))
    for order, pr in enumerate(ordered):
        working = working_intervals(rules_by_practitioner[pr.pk], open_days, tz)
        free = subtract(clip(working, window), merge(people[pr.pk]))
        streams.append(_labelled(grid_starts(free, seconds), order, pr))

    slots: list[Slot] = []
    for start, _, pr in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        end = start + seconds
        if not patient_index.is_free(start, end):
            continue
        placed = _room_and_device(start, end, rooms, devices, kit_index)
        if placed is None:
            continue
        begins = instant(start)
        slot_room, slot_device = placed
        slots.append(
            Slot(begins, begins + length, pr, slot_room, slot_device, is_short_prep(kind=kind, start=begins, now=now))
        )
        if len(slots) >= limit:
            break
    return slots


def _labelled(starts, order, practitioner):
    for start in starts:
        yield start, order, practitioner


_ALWAYS_FREE = BusyIndex([])


def _room_and_device(start, end, rooms, devices, kit_index):
    """The first room and laser free from `start` until `end` plus the larger of their buffers."""
    for room in rooms:
        room_busy = kit_index.get(("room", room.pk), _ALWAYS_FREE)
        for device in devices:
            buffer = 60 * max(room.turnover_minutes, device.turnover_minutes if device else 0)
            if not room_busy.is_free(start, end + buffer):
                continue
            if device is not None and not kit_index.get(("device", device.pk), _ALWAYS_FREE).is_free(
                start, end + buffer
            ):
                continue
            return room, device
    return None
