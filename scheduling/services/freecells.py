"""Free time that is really free: for one local day, whether a visit of a kind could be booked at
each 15-minute start, per practitioner, and if not, the part of the stack that is missing.

The day board asks this, not a practitioner's diary alone: a consultation needs the practitioner
and a room, a treatment a suitable laser too. It is the slot search's own reads (`Calendar`, five
queries with a treatment's lasers, four without, in one round trip on PostgreSQL, and one `Diary`
query for the day), so a day costs the same queries however full it is.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.utils import timezone

from scheduling.availability import GRID, clip, day_bounds, epoch, grid_starts, subtract, working_intervals
from scheduling.models import Appointment

from .slots import DEFAULT_VISIT_MINUTES, Calendar

BOOKABLE = "bookable"
CLOSED = "closed"
NOT_WORKING = "not working"
TOO_SHORT = "too little time before a break or the end of the day"
PAST = "past"
PRACTITIONER_BUSY = "practitioner busy"
PATIENT_BUSY = "patient has another visit"
NO_ROOM = "no room free"
NO_LASER = "no laser free"
NO_SUITABLE_LASER = "no suitable laser free"
NO_ROOM_AND_LASER = "no room and laser free together"
OFF_GRID = "not a quarter-hour start"
NOBODY = "no practitioner free with a room then"
NO_PRACTITIONER = "no practitioner free"
NOBODY_WORKING = "nobody working"
ROOM_BUSY = "room busy"
LASER_BUSY = "laser busy"
NOT_IN_USE = "not in use for this visit"

# The shortest visit of each kind the board offers: a consultation's 30 minutes, and a treatment
# of one small area (30 minutes); a longer course is checked again on its booking page.
BOARD_MINUTES = DEFAULT_VISIT_MINUTES


class _Day:
    """One local day's reads for the free cells: the slot search's calendar and diary, the grid
    starts (epoch seconds) with their aware instants, and who is at work for a visit's length."""

    def __init__(self, *, day, kind, condition, patient, length, now):
        now = now or timezone.now()
        self.day, self.now = day, epoch(now)
        self.seconds = int((length or timedelta(minutes=BOARD_MINUTES)).total_seconds())
        self.tz = timezone.get_default_timezone()
        first, last = day_bounds(day, self.tz)
        self.bounds = (epoch(first), epoch(last))
        self.calendar = Calendar.load(first=day, last=day, kind=kind, condition=condition)
        self.diary = self.calendar.diary((first, last), patient_id=patient.pk if patient is not None else None, now=now)
        self.diary.read_to(self.bounds[1])
        self.starts = range(self.bounds[0], self.bounds[1], GRID)
        self.at = {start: _at(start) for start in self.starts}  # every row is keyed by the same starts
        self.no_laser = NO_SUITABLE_LASER if condition is not None else NO_LASER
        self.working = {p.pk: p for p in self.calendar.practitioners}
        self.closed = day in self.calendar.closed

    def person(self, pk: int) -> dict[int, str]:
        """Each start with `BOOKABLE` if the practitioner (and the patient) could take the visit
        there, whatever the rooms and lasers, or the reason they could not."""
        at_work, some_work = set(), set()
        if pk in self.working:
            hours = clip(working_intervals(self.calendar.rules[pk], [self.day], self.tz), self.bounds)
            free = subtract(hours, self.calendar.time_off[pk])
            at_work, some_work = set(grid_starts(free, self.seconds)), set(grid_starts(free, GRID))
        row = {}
        for start in self.starts:
            end = start + self.seconds
            if start not in at_work:
                row[start] = TOO_SHORT if start in some_work else NOT_WORKING
            elif start < self.now:
                row[start] = PAST
            elif any(s < end and e > start for s, e in self.diary.sessions(pk, (start, end))):
                row[start] = PRACTITIONER_BUSY
            elif not self.diary.patient.is_free(start, end):
                row[start] = PATIENT_BUSY
            else:
                row[start] = BOOKABLE
        return row


def cell_states(
    *,
    day: date,
    kind: str = Appointment.Kind.CONSULTATION,
    condition=None,
    practitioner_ids: Iterable[int] = (),
    patient=None,
    length: timedelta | None = None,
    now: datetime | None = None,
) -> dict[int, dict[datetime, str]]:
    """For each of `practitioner_ids` (and everyone with working hours), each grid start of
    local `day` (as an aware datetime) with `BOOKABLE` or the reason it is not: `CLOSED`,
    `NOT_WORKING`, `TOO_SHORT` (at work, but not for `length`), `PAST`, `PRACTITIONER_BUSY`,
    `PATIENT_BUSY` (with a `patient`), `NO_ROOM`, `NO_LASER` (`NO_SUITABLE_LASER` for a
    `condition`) or `NO_ROOM_AND_LASER`. A treatment needs an active laser set up for `condition`
    (any active laser without one). Five queries, six for a treatment."""
    reads = _Day(day=day, kind=kind, condition=condition, patient=patient, length=length, now=now)
    return _practitioner_states(reads, practitioner_ids)


def _practitioner_states(reads: _Day, practitioner_ids: Iterable[int]) -> dict[int, dict[datetime, str]]:
    states: dict[int, dict[datetime, str]] = {}
    for pk in dict.fromkeys([*practitioner_ids, *reads.working]):
        if reads.closed:
            states[pk] = {reads.at[s]: CLOSED for s in reads.starts}
            continue
        row = {}
        for start, why in reads.person(pk).items():
            if why == BOOKABLE:
                why = _stack(reads.calendar, reads.diary, start, start + reads.seconds, reads.no_laser)
            row[reads.at[start]] = why
        states[pk] = row
    return states


def resource_cell_states(
    *,
    day: date,
    by: str,
    resource_ids: Iterable[int],
    kind: str = Appointment.Kind.CONSULTATION,
    condition=None,
    length: timedelta | None = None,
    now: datetime | None = None,
) -> dict[int, dict[datetime, str]]:
    """The free cells of a room's (`by="room"`) or a laser's (`by="device"`) column: each grid
    start of local `day` with `BOOKABLE` when a visit of `kind` could be booked there with that
    room or laser now, or what is missing: `CLOSED`, `PAST`, `NOBODY_WORKING`, `NO_PRACTITIONER`,
    `ROOM_BUSY` / `LASER_BUSY` (its own visit or turnover), `NOT_IN_USE` (inactive, or a laser
    not set up for `condition`), and the other part of the stack: `NO_LASER`
    (`NO_SUITABLE_LASER`) in a room's column for a treatment, `NO_ROOM` in a laser's (a
    consultation uses no laser: every laser is `NOT_IN_USE` for it). The queries of `cell_states`."""
    reads = _Day(day=day, kind=kind, condition=condition, patient=None, length=length, now=now)
    return _resource_states(reads, by, resource_ids)


def _resource_states(reads: _Day, by: str, resource_ids: Iterable[int]) -> dict[int, dict[datetime, str]]:
    people = [reads.person(pk) for pk in reads.working]
    nobody = {start: _someone(people, start) for start in reads.starts}  # the same in every column
    states: dict[int, dict[datetime, str]] = {}
    for pk in resource_ids:
        with_resource = _room_check(reads, pk) if by == "room" else _laser_check(reads, pk)
        row = {}
        for start in reads.starts:
            if reads.closed:
                why = CLOSED
            elif start < reads.now:
                why = PAST
            else:
                why = nobody[start] or with_resource(start, start + reads.seconds)
            row[reads.at[start]] = why
        states[pk] = row
    return states


def _someone(people: list[dict[int, str]], start: int) -> str:
    """ "" when a practitioner could take a visit at `start`, else why nobody can."""
    reasons = {row[start] for row in people}
    if BOOKABLE in reasons:
        return ""
    return NO_PRACTITIONER if PRACTITIONER_BUSY in reasons else NOBODY_WORKING


def _room_check(reads: _Day, pk: int):
    """(start, end) -> whether room `pk` is free then with a laser (for a treatment), each kept
    free for the larger of their turnovers, or what is missing."""
    stacks = [stack for stack in reads.calendar._stacks if stack[1] == pk]
    if not stacks:
        return lambda start, end: NOT_IN_USE
    room_free, own_buffer = reads.diary.rooms[pk].is_free, stacks[0][2]

    def check(start: int, end: int) -> str:
        if not room_free(start, end + own_buffer):
            return ROOM_BUSY
        placed = reads.calendar._room_and_device(start, end, reads.diary, stacks)
        return BOOKABLE if placed is not None else reads.no_laser

    return check


def _laser_check(reads: _Day, pk: int):
    """(start, end) -> whether laser `pk` is free then in a room, or what is missing."""
    device = next((d for d in reads.calendar.devices if d is not None and d.pk == pk), None)
    if device is None:
        return lambda start, end: NOT_IN_USE
    laser_free, own_buffer = reads.diary.devices[pk].is_free, 60 * device.turnover_minutes
    stacks = [(room, room_id, buffer, [laser for laser in lasers if laser[1] == pk])  # every room, this laser
              for room, room_id, buffer, lasers in reads.calendar._stacks]  # fmt: skip

    def check(start: int, end: int) -> str:
        if not laser_free(start, end + own_buffer):
            return LASER_BUSY
        placed = reads.calendar._room_and_device(start, end, reads.diary, stacks)
        return BOOKABLE if placed is not None else NO_ROOM

    return check


def cell_state(
    *,
    start: datetime,
    practitioner_id: int | None = None,
    room_id: int | None = None,
    device_id: int | None = None,
    **terms,
) -> str:
    """`cell_states` for one start, with one practitioner or anyone: the booking page's "why not".
    With anyone, the reason they share, else `NOBODY` (`BOOKABLE` if one of them is free). With a
    `room_id` or `device_id` (a room's or laser's column), what `resource_cell_states` says of it
    once the practitioner and the patient are free."""
    terms = {"kind": Appointment.Kind.CONSULTATION, "condition": None, "patient": None, "length": None} | terms
    reads = _Day(day=timezone.localdate(start), now=terms.pop("now", None), **terms)
    states = _practitioner_states(reads, [practitioner_id] if practitioner_id else [])
    rows = [states[practitioner_id]] if practitioner_id else list(states.values())
    reasons = {row.get(start, OFF_GRID) for row in rows} or {NOT_WORKING}
    if BOOKABLE not in reasons:
        return reasons.pop() if len(reasons) == 1 else NOBODY
    if room_id or device_id:  # the patient is free then (above), with one practitioner at least
        by, pk = ("room", room_id) if room_id else ("device", device_id)
        return _resource_states(reads, by, [pk])[pk].get(start, OFF_GRID)
    return BOOKABLE


def _stack(calendar: Calendar, diary, start: int, end: int, no_laser: str) -> str:
    """Whether a room and (for a treatment) a laser are free together, or which is missing."""
    if calendar._room_and_device(start, end, diary) is not None:
        return BOOKABLE  # most cells: what is missing is worked out only when something is
    if not any(diary.rooms[r.pk].is_free(start, end + 60 * r.turnover_minutes) for r in calendar.rooms):
        return NO_ROOM
    lasers = [
        d for d in calendar.devices if d is None or diary.devices[d.pk].is_free(start, end + 60 * d.turnover_minutes)
    ]
    return no_laser if not lasers else NO_ROOM_AND_LASER


def _at(seconds: int) -> datetime:
    return timezone.localtime(datetime.fromtimestamp(seconds, tz=timezone.get_default_timezone()))
