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

# The shortest visit of each kind the board offers: a consultation's 30 minutes, and a treatment
# of one small area (30 minutes); a longer course is checked again on its booking page.
BOARD_MINUTES = DEFAULT_VISIT_MINUTES


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
    now = now or timezone.now()
    length = length or timedelta(minutes=BOARD_MINUTES)
    seconds = int(length.total_seconds())
    tz = timezone.get_default_timezone()
    first, last = day_bounds(day, tz)
    bounds = (epoch(first), epoch(last))
    calendar = Calendar.load(first=day, last=day, kind=kind, condition=condition)
    diary = calendar.diary((first, last), patient_id=patient.pk if patient is not None else None)
    diary.read_to(bounds[1])
    starts = range(bounds[0], bounds[1], GRID)
    at = {start: _at(start) for start in starts}  # each practitioner's row is keyed by the same starts
    no_laser = NO_SUITABLE_LASER if condition is not None else NO_LASER
    states: dict[int, dict[datetime, str]] = {}
    working = {p.pk: p for p in calendar.practitioners}
    for pk in dict.fromkeys([*practitioner_ids, *working]):
        if day in calendar.closed:
            states[pk] = {at[s]: CLOSED for s in starts}
            continue
        at_work, some_work = set(), set()
        if pk in working:
            hours = clip(working_intervals(calendar.rules[pk], [day], tz), bounds)
            free = subtract(hours, calendar.time_off[pk])
            at_work, some_work = set(grid_starts(free, seconds)), set(grid_starts(free, GRID))
        row = {}
        for start in starts:
            end = start + seconds
            if start not in at_work:
                row[at[start]] = TOO_SHORT if start in some_work else NOT_WORKING
            elif start < epoch(now):
                row[at[start]] = PAST
            elif any(s < end and e > start for s, e in diary.sessions(pk, (start, end))):
                row[at[start]] = PRACTITIONER_BUSY
            elif not diary.patient.is_free(start, end):
                row[at[start]] = PATIENT_BUSY
            else:
                row[at[start]] = _stack(calendar, diary, start, end, no_laser)
        states[pk] = row
    return states


def cell_state(*, start: datetime, practitioner_id: int | None = None, **terms) -> str:
    """`cell_states` for one start, with one practitioner or anyone: the booking page's "why not".
    With anyone, the reason they share, else `NOBODY` (`BOOKABLE` if one of them is free)."""
    states = cell_states(
        day=timezone.localdate(start), practitioner_ids=[practitioner_id] if practitioner_id else [], **terms
    )
    rows = [states[practitioner_id]] if practitioner_id else list(states.values())
    reasons = {row.get(start, OFF_GRID) for row in rows} or {NOT_WORKING}
    if BOOKABLE in reasons:
        return BOOKABLE
    return reasons.pop() if len(reasons) == 1 else NOBODY


def _stack(calendar: Calendar, diary, start: int, end: int, no_laser: str) -> str:
    """Whether a room and (for a treatment) a laser are free together, or which is missing."""
    rooms = [r for r in calendar.rooms if diary.rooms[r.pk].is_free(start, end + 60 * r.turnover_minutes)]
    if not rooms:
        return NO_ROOM
    if calendar._room_and_device(start, end, diary) is not None:
        return BOOKABLE
    lasers = [
        d for d in calendar.devices if d is None or diary.devices[d.pk].is_free(start, end + 60 * d.turnover_minutes)
    ]
    return no_laser if not lasers else NO_ROOM_AND_LASER


def _at(seconds: int) -> datetime:
    return timezone.localtime(datetime.fromtimestamp(seconds, tz=timezone.get_default_timezone()))
