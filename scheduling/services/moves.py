"""Where an appointment can move: the free times offered to reschedule it, one rule for the
reschedule page and the API's availability alike.

A move keeps the appointment's length, kind and patient, may go to any practitioner who can be
booked for it (and, for a treatment, a laser set up for the course's condition), and never lands
on the time it already holds. The appointment's own time does not count against it: it is free
again once it moves. A course session stays inside its course's intervals to the sessions either
side of it, the session itself not counted.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from catalogue.models import LaserDevice, Practitioner, Room
from scheduling.availability import day_bounds
from scheduling.models import Appointment

from . import test_patch
from .slots import Slot, course_sessions, interval_window, open_slots

MOVABLE_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)
SLOTS_PER_DAY = 48  # a day's worth for three practitioners at half-hour steps


@dataclass(frozen=True)
class MoveWindow:
    """When a course session may move to: from `earliest` until just before `latest`, the
    midnight after the last allowed day (None: no bound on that side)."""

    earliest: datetime | None = None
    latest: datetime | None = None

    @property
    def last_day(self) -> date | None:
        """The last local day the session may move to."""
        return timezone.localdate(self.latest - timedelta(microseconds=1)) if self.latest else None

    @property
    def empty(self) -> bool:
        return self.earliest is not None and self.latest is not None and self.earliest >= self.latest


def move_window(appointment: Appointment) -> MoveWindow:
    """The course's window for a session: at least `min_interval_days` and at most
    `max_interval_days` (calendar days on the clinic clock) after the session before it, and the
    same before the session after it. The neighbours are the course's other sessions on either
    side of the session's present time; a visit, or a session alone in its course, has no window.
    A test patch stays the wait before the first session, and a first session the wait after its
    course's patch (test_patch.py); a first session whose patch forbids it has an empty window.
    """
    if appointment.kind == Appointment.Kind.TEST_PATCH and appointment.course_id:
        return MoveWindow(latest=test_patch.patch_latest(appointment.course))
    if not appointment.is_session:
        return MoveWindow()
    course = appointment.course
    others = list(course_sessions(course).exclude(pk=appointment.pk).values_list("start", flat=True))
    window = window_among(appointment.start, others, course)
    if any(start < appointment.start for start in others):
        return window
    try:
        ready = test_patch.first_session_earliest(course)
    except test_patch.SchedulingError:
        return MoveWindow(appointment.start, appointment.start)  # empty: nothing to offer
    if ready is not None and (window.earliest is None or ready > window.earliest):
        return MoveWindow(ready, window.latest)
    return window


def window_among(position: datetime, others, course) -> MoveWindow:
    """`move_window`'s rule on starts read already: the window of a session at `position` among the
    course's `others` (the sessions either side of it are its neighbours). The waitlist's matcher
    asks it for many courses at once."""
    before = max((start for start in others if start <= position), default=None)
    after = min((start for start in others if start > position), default=None)
    lows, highs = [], []
    if before is not None:
        earliest, latest = interval_window(before, course)
        lows.append(earliest)
        highs.append(latest)
    if after is not None:
        tz = timezone.get_default_timezone()
        day = timezone.localdate(after)
        lows.append(day_bounds(day - course.max_interval, tz)[0])
        highs.append(day_bounds(day - course.min_interval, tz)[1])
    return MoveWindow(max(lows, default=None), min(highs, default=None))


def find_move_slots(
    *,
    appointment: Appointment,
    start_date: date,
    days: int,
    practitioner: Practitioner | None = None,
    room: Room | None = None,
    device: LaserDevice | None = None,
    spacing: timedelta | None = None,
    per_day: int = SLOTS_PER_DAY,
    limit: int | None = None,
    window: MoveWindow | None = None,
    now: datetime | None = None,
) -> list[Slot]:
    """Free times to move `appointment` to on the local days `start_date` .. `start_date + days -
    1`, in time order: with any practitioner, room and laser (or only those given), every free start, or with
    `spacing` a practitioner's next start only that long after their last one offered (so a short
    list still spans each day), at most `per_day` on each day so that every day of the search shows
    some, and at most `limit` in all. Its own time with its own practitioner is not among them;
    nothing is offered for an appointment that cannot move.
    `window` is `move_window(appointment)`, worked out here unless the caller has it already.
    """
    if appointment.status not in MOVABLE_STATUSES:
        return []
    window = window or move_window(appointment)
    if window.empty:
        return []
    free = open_slots(
        start_date=start_date,
        days=days,
        length=appointment.end - appointment.start,
        kind=appointment.kind,
        practitioner=practitioner,
        room=room,
        device=device,
        patient=appointment.patient,
        condition=appointment.course.condition_id if appointment.course_id else None,
        now=now,
        earliest=window.earliest,
        latest_start=window.latest,
        ignore_appointment_ids=[appointment.pk],
    )
    offered: list[Slot] = []
    on_day: Counter[date] = Counter()
    last_offered: dict[int, datetime] = {}  # by practitioner
    for slot in free:
        if slot.start == appointment.start and slot.practitioner.pk == appointment.practitioner_id:
            last_offered[slot.practitioner.pk] = slot.start  # where it is now: the next times step from it
            continue
        day = timezone.localdate(slot.start)
        previous = last_offered.get(slot.practitioner.pk)
        if on_day[day] >= per_day or (spacing and previous and slot.start - previous < spacing):
            continue
        on_day[day] += 1
        last_offered[slot.practitioner.pk] = slot.start
        offered.append(slot)
        if limit is not None and len(offered) >= limit:
            break
    return offered


def stays_in_place(appointment: Appointment, *, start: datetime, practitioner=None, room=None, device=None) -> bool:
    """Whether moving `appointment` to `start` with these resources (None: the one it holds) leaves
    it where it is. That is no move: nothing to save, and nothing to ask the patient to confirm."""
    return (
        start == appointment.start
        and (practitioner is None or practitioner.pk == appointment.practitioner_id)
        and (room is None or room.pk == appointment.room_id)
        and (device is None or device.pk == appointment.device_id)
    )
