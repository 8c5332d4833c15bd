"""Slot search: where can a session of a given length go?

A `Calendar` holds what slot search weighs over a span of days, read in one round trip (on
PostgreSQL): the practitioners with their working hours and time off, the closures, rooms and
lasers, and a course's areas and latest session; then one query per window searched for its
appointments (a `Diary`). The rest is interval arithmetic in Python that walks the window day by
day and stops as soon as it has the slots asked for, reading the window's appointments only as far
as it gets and building a resource's busy index only when a candidate start asks about it. A
search of one practitioner reads only their appointments, the patient's and those of the first
room and laser it tries (the others' with one more query, if a start finds those taken).
"""

import heapq
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from itertools import islice
from typing import NamedTuple

from django.utils import timezone

from catalogue.models import LaserDevice, Practitioner, Room, TreatmentArea
from clinic.errors import SchedulingError
from scheduling.availability import (
    Interval,
    clip,
    dates,
    day_bounds,
    day_hours,
    epoch,
    grid_starts,
    instant,
    instants,
    merge,
    subtract,
    weekly_hours,
)
from scheduling.models import Appointment

from . import calendar_rows, test_patch
from .diary import Diary, Whose, busy_rows, window_spans
from .prep import PREP_WINDOW, is_short_prep, prep_begins  # noqa: F401  (imported from here too)
from .sun import kept_off_days

DEFAULT_VISIT_MINUTES = 30


class Slot(NamedTuple):
    """A free start and who and what the session would use. A named tuple, which builds in a
    third of a frozen dataclass's time: a search can return hundreds."""

    start: datetime
    end: datetime
    practitioner: Practitioner
    room: Room
    device: LaserDevice | None
    short_prep: bool


# A free start as the sweep finds it: epoch seconds, then who and what the session would use.
Opening = tuple[int, Practitioner, Room, LaserDevice | None]


def session_length(course, *, sizes: list[str] | None = None) -> timedelta:
    """The sum of its areas' times (small 30, medium 45, large 60 minutes); `sizes` if read already."""
    if "areas" in getattr(course, "_prefetched_objects_cache", {}):
        sizes = [area.size for area in course.areas.all()]
    elif sizes is None:
        sizes = calendar_rows.fetch(calendar_rows.area_sizes(course.pk))[0]
    return timedelta(minutes=sum(TreatmentArea.MINUTES[size] for size in sizes))  # each area's `minutes`


def course_sessions(course):
    """The course's treatment sessions that took or hold a place (reviews and consultations linked
    to a course are visits, not sessions: they have no number and do not count)."""
    return course.appointments.sessions()


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


def search_window(
    *,
    first: date,
    last: date,
    length: timedelta,
    now: datetime,
    earliest: datetime | None = None,
    latest_start: datetime | None = None,  # exclusive
) -> tuple[datetime, datetime] | None:
    """The stretch of time in which sessions searched for on local days `first` .. `last` must
    lie, or None when it is empty."""
    tz = timezone.get_default_timezone()
    window_start = max(day_bounds(first, tz)[0], now, earliest or now)
    window_end = day_bounds(last, tz)[1]
    if latest_start is not None:
        window_end = min(window_end, latest_start + length - timedelta(seconds=1))
    return (window_start, window_end) if window_start < window_end else None


def find_slots(*, limit: int = 10, **search) -> list[Slot]:
    """The first `limit` free starts, in time order, on the 15-minute grid of the local days
    `start_date` .. `start_date + days - 1`.

    A slot has a practitioner inside their working hours and not off, a room and (for a treatment)
    a laser suited to the course's condition, each free for the session plus its turnover buffer,
    on a day the clinic is open, while the patient has nothing else on. With a `course`, the length
    comes from its areas, the patient is its patient, the laser must suit its condition, and no
    slot starts before the previous session plus the course's minimum interval.

    The search terms are `open_slots`' (`start_date`, `days`, `length`, `course`, `kind`,
    `practitioner`, `room`, `device`, `patient`, `condition`, `now`, `earliest`, `latest_start`,
    `ignore_appointment_ids`).
    """
    return list(islice(open_slots(**search), limit))


def open_slots(
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
    now: datetime | None = None,
    earliest: datetime | None = None,
    latest_start: datetime | None = None,  # exclusive
    ignore_appointment_ids=(),
) -> Iterator[Slot]:
    """Every free start of `find_slots`, in time order, worked out as they are read. The checks of
    the arguments run at the first read."""
    now = now or timezone.now()
    if kind == Appointment.Kind.TREATMENT and course is None and length is None:
        raise SchedulingError("Give a course or a duration to search for treatment slots.", field="duration")
    patient_id = patient.pk if patient is not None else None
    last_date = start_date + timedelta(days=days - 1)
    reads = []  # a course's areas and latest session, a patient's sun exposure: in the calendar's round trip
    if course is not None:
        patient_id, condition = course.patient_id, course.condition_id
        reads += [calendar_rows.area_sizes(course.pk), calendar_rows.patch_facts(course.pk),
                  calendar_rows.latest_session_start(course.pk, ignore_ids=ignore_appointment_ids)]  # fmt: skip
    treatment = kind == Appointment.Kind.TREATMENT  # nothing else has a prep window, or is kept off the sun
    if treatment and patient_id is not None:
        reads.append(calendar_rows.sun_exposures(patient_id, first=start_date, last=last_date, prep=PREP_WINDOW))
    calendar = Calendar.load(
        first=start_date, last=last_date, kind=kind, condition=condition, practitioner=practitioner, room=room,
        device=device, also=tuple(reads),
    )  # fmt: skip
    kept_off = kept_off_days(calendar.also[-1]) if treatment and patient_id is not None else set()
    if course is not None and kind == Appointment.Kind.TEST_PATCH:
        length = test_patch.patch_length()
    elif course is not None:
        sizes, patch, previous_start = calendar.also[:3]  # the latest of `course_sessions(course)` not ignored
        length = session_length(course, sizes=sizes)
        if previous_start is not None:
            earliest = max(earliest or previous_start, interval_window(previous_start, course)[0])
        elif (ready := test_patch.first_session_earliest(course, step=patch)) is not None:  # the patch's wait
            earliest = max(earliest or ready, ready)
    if length is None:
        length = timedelta(minutes=DEFAULT_VISIT_MINUTES)
    if length <= timedelta(0):
        raise SchedulingError("The course has no treatment areas, so its session length is unknown.", field="course")
    window = search_window(
        first=start_date, last=last_date, length=length, now=now, earliest=earliest, latest_start=latest_start
    )
    if window is None:
        return
    diary = calendar.diary(
        window, patient_id=patient_id, ignore_ids=ignore_appointment_ids, narrow=practitioner is not None, now=now
    )
    searched = [day for day in dates(start_date, last_date) if day not in kept_off]
    starts = calendar.free_starts(diary, days=searched, window=window, length=length)
    to_instant = instants()
    treatment = kind == Appointment.Kind.TREATMENT  # nothing else has a prep window
    build = tuple.__new__  # what Slot(...) calls, without its Python-level __new__: a search builds hundreds
    for start, practitioner, room, device in calendar.place(diary, starts, length):
        begins = to_instant(start)
        short_prep = treatment and is_short_prep(kind=kind, start=begins, now=now)
        yield build(Slot, (begins, begins + length, practitioner, room, device, short_prep))


def make_slot(opening: Opening, *, length: timedelta, kind: str, now: datetime) -> Slot:
    start, practitioner, room, device = opening
    begins = instant(start)
    return Slot(begins, begins + length, practitioner, room, device, is_short_prep(kind=kind, start=begins, now=now))


@dataclass
class Calendar:
    """The practitioners (with working hours and time off), closures, rooms and lasers that slot
    search weighs over a span of local days; `diary` adds the appointments of a window."""

    practitioners: list[Practitioner]  # in the order that breaks ties between equal starts
    rules: dict[int, list[tuple[int, time, time]]]  # weekly working hours by practitioner
    time_off: dict[int, list[Interval]]
    closed: dict[date, str]
    rooms: list[Room]
    devices: list[LaserDevice | None]  # [None] when the session needs no laser
    also: list = field(default_factory=list)  # what `load`'s `also` reads gave, in their order

    @classmethod
    def load(
        cls,
        *,
        first: date,
        last: date,
        kind: str,
        condition=None,
        practitioner: Practitioner | None = None,
        room: Room | None = None,
        device: LaserDevice | None = None,
        also: tuple[calendar_rows.Read, ...] = (),
    ) -> "Calendar":
        """Five queries (four without lasers; one round trip on PostgreSQL, with the `also` reads),
        however many practitioners, days or appointments there are."""
        tz = timezone.get_default_timezone()
        one = practitioner.pk if practitioner else None
        reads = [
            calendar_rows.working_hours(practitioner_id=one),
            calendar_rows.time_off(
                starts_before=day_bounds(last, tz)[1], ends_after=day_bounds(first, tz)[0], practitioner_id=one
            ),
            calendar_rows.closed_dates(first, last),
            calendar_rows.rooms(room_id=room.pk if room else None),
            *also,
        ]
        if kind in Appointment.LASER_KINDS:
            condition_id = getattr(condition, "pk", condition)
            reads.append(calendar_rows.lasers(condition_id=condition_id, device_id=device.pk if device else None))
        (practitioners, rules), off, closed, rooms, *rest = calendar_rows.fetch(*reads)
        extra, lasers = rest[: len(also)], rest[len(also) :]
        devices: list[LaserDevice | None] = lasers[0] if lasers else [None]
        time_off: dict[int, list[Interval]] = {pk: [] for pk in practitioners}
        for practitioner_id, start, end in off:
            if practitioner_id in time_off:  # not an inactive practitioner's
                time_off[practitioner_id].append((start, end))
        return cls(
            practitioners=sorted(practitioners.values(), key=lambda p: (str(p), p.pk)),
            rules=rules,
            time_off={pk: merge(intervals) for pk, intervals in time_off.items()},
            closed=closed,
            rooms=rooms,
            devices=devices,
            also=extra,
        )

    def only(self, practitioner_id: int) -> list[Practitioner]:
        """The practitioner with this id if they can be booked at all, as a list to sweep."""
        return [p for p in self.practitioners if p.pk == practitioner_id]

    def diary(
        self,
        window: tuple[datetime, datetime],
        *,
        patient_id: int | None,
        ignore_ids=(),
        days: list | None = None,
        narrow: bool = False,
        now: datetime | None = None,
    ) -> Diary:
        """Who and what is busy during `window`, or only on those of its local `days` when given:
        one query, run when the diary is first read. `narrow` is for searching this calendar's
        practitioners when they are a few of the clinic's: the query reads only their and the
        patient's appointments and those of the first room and laser, and one more reads the other
        rooms' and lasers' only if a free start finds the first ones taken. Holds expired by `now` hold nothing."""
        # A slot ending at the window's end still keeps its room and laser for their turnover.
        turnover = timedelta(
            minutes=max(
                [r.turnover_minutes for r in self.rooms] + [d.turnover_minutes for d in self.devices if d], default=0
            )
        )
        spans = window_spans(window, days)
        seconds = int(turnover.total_seconds())

        def rows(whose: Whose | None = None):
            return busy_rows(spans, turnover=turnover, ignore_ids=ignore_ids, whose=whose, now=now)

        if not narrow:
            return Diary(rows(), patient_id=patient_id, turnover=seconds)
        whose = Whose(
            practitioner_ids=tuple(p.pk for p in self.practitioners),
            patient_id=patient_id,
            room_ids=tuple(r.pk for r in self.rooms[:1]),
            device_ids=tuple(d.pk for d in self.devices[:1] if d is not None),
        )
        return Diary(rows(whose), patient_id=patient_id, turnover=seconds, whose=whose, read_holds=rows)

    def free_starts(
        self,
        diary: Diary,
        *,
        days: Iterable[date],
        window: tuple[datetime, datetime],
        length: timedelta,
        practitioners: list[Practitioner] | None = None,
    ) -> Iterator[tuple[int, Practitioner]]:
        """Every grid start in `window` on `days` at which one of `practitioners` (all by default)
        is at work and free for `length`, in time order; equal starts go in the practitioners'
        order. Lazy: days after the last start read are never worked out."""
        bounds = (epoch(window[0]), epoch(window[1]))
        seconds = int(length.total_seconds())
        open_days = [day for day in days if day not in self.closed]
        searched = self.practitioners if practitioners is None else practitioners
        if len(searched) == 1:  # one practitioner's starts come in time order: no merge
            practitioner = searched[0]
            for starts in self._practitioner_days(practitioner, open_days, bounds, seconds, diary):
                for start in starts:
                    yield start, practitioner
            return
        streams = [_tagged(self._practitioner_days(pr, open_days, bounds, seconds, diary), order, pr)
                   for order, pr in enumerate(searched)]  # fmt: skip
        for start, _, pr in heapq.merge(*streams):  # (start, order) is unique: never compares practitioners
            yield start, pr

    def place(self, diary: Diary, starts: Iterable[tuple[int, Practitioner]], length: timedelta) -> Iterator[Opening]:
        """Those of `starts` (from `free_starts` on the same diary, which reads in the appointments
        they need) at which the patient is free too, with the first room and laser that are."""
        seconds = int(length.total_seconds())
        # Where the first room and laser were found free together, and the diary holds every row
        # (so a stretch seen free stays free), the next starts inside that stretch take them with
        # no look-up: most starts of a day, on a clinic whose first room is often free.
        free_from, free_until, first = 0, 0, self._first_stack
        for start, pr in starts:  # reading `starts` may read more rows in, and renew the indexes
            end = start + seconds
            if diary.patient_busy and not diary.patient.is_free(start, end):
                continue
            if free_from <= start and end + first[2] <= free_until:
                yield start, pr, first[0], first[1]
                continue
            placed = self._room_and_device(start, end, diary)
            if placed is None:
                continue
            yield start, pr, *placed
            if diary.all_read and placed[0] is first[0] and placed[1] is first[1]:
                free_from, free_until = self._first_free_stretch(start, end + first[2], diary)

    def _practitioner_days(self, practitioner, days, bounds, seconds, diary) -> Iterator[list[int]]:
        """The grid starts at which `practitioner` is at work and free, a day's list at a time."""
        tz = timezone.get_default_timezone()
        hours, time_off = weekly_hours(self.rules[practitioner.pk]), self.time_off[practitioner.pk]
        for day in days:
            free = subtract(clip(day_hours(hours, day, tz), bounds), time_off)
            if free:
                diary.read_to(free[-1][1])
                free = subtract(free, diary.sessions(practitioner.pk, (free[0][0], free[-1][1])))
            yield grid_starts(free, seconds)

    def _room_and_device(self, start, end, diary, stacks=None):
        """The first room and laser (of `stacks`, else `_stacks`) free to `end` plus the larger buffer."""
        for room, room_id, own_buffer, lasers in self._stacks if stacks is None else stacks:
            room_free = diary.rooms[room_id].is_free
            # A room not free even for its own buffer is not free with any laser.
            if not room_free(start, end + own_buffer):
                continue
            for device, device_id, buffer in lasers:
                if buffer != own_buffer and not room_free(start, end + buffer):
                    continue
                if device is not None and not diary.devices[device_id].is_free(start, end + buffer):
                    continue
                return room, device
        return None

    @cached_property
    def _first_stack(self):
        """The room and laser tried first, and the larger of their buffers (never met without)."""
        for room, _, _, lasers in self._stacks:
            for device, _, buffer in lasers[:1]:
                return room, device, buffer
        return None, None, math.inf

    def _first_free_stretch(self, start, end, diary):
        """How long around [start, end) the first room and laser stay free together."""
        room, device, _ = self._first_stack
        low, high = diary.rooms[room.pk].free_stretch(start, end)
        if device is not None:
            device_low, device_high = diary.devices[device.pk].free_stretch(start, end)
            low, high = max(low, device_low), min(high, device_high)
        return low, high

    @cached_property
    def _stacks(self):
        """Each room in order with its id and buffer, and each laser with its id and the larger
        of the two buffers, in seconds: worked out once, not at every start."""
        return [
            (room, room.pk, 60 * room.turnover_minutes,
             [(device, device.pk if device else None,
               60 * max(room.turnover_minutes, device.turnover_minutes if device else 0)) for device in self.devices])
            for room in self.rooms
        ]  # fmt: skip


def _tagged(days: Iterator[list[int]], order: int, practitioner: Practitioner) -> Iterator[tuple]:
    """A practitioner's starts, one by one, as (start, order, practitioner) for merging."""
    for starts in days:
        for start in starts:
            yield start, order, practitioner
