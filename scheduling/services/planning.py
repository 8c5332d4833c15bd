"""Course planning: propose times for the sessions still to come, and book a plan all at once."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice

from django.db import transaction
from django.utils import formats, timezone

from clinic.errors import Contention, PlanError, SchedulingError
from clinical.models import TreatmentCourse
from scheduling.availability import dates, day_bounds
from scheduling.models import Appointment

from . import calendar_rows, guard, test_patch
from .booking import appointment_book, appointment_reschedule
from .slots import (
    PREP_WINDOW,
    Calendar,
    Slot,
    course_sessions,
    days_apart,
    interval_window,
    make_slot,
    search_window,
    session_length,
)
from .sun import kept_off_days

# How far ahead the first session of a fresh course may go.
FIRST_SESSION_SEARCH_DAYS = 28
# Free starts weighed at a time for a session: more than a practitioner's week holds.
CANDIDATES = 400


@dataclass(frozen=True)
class PlannedSession:
    sequence: int
    slot: Slot
    earliest: datetime
    latest: datetime
    appointment: Appointment | None = None  # an existing booking the plan moves

    @property
    def start(self):
        return self.slot.start


def course_plan(
    *, course: TreatmentCourse, start_date: date | None = None, reflow: bool = False, now: datetime | None = None
) -> list[PlannedSession]:
    """Propose a start for every session of `course` not yet booked, each inside
    [previous + min interval, previous + max interval].

    With `reflow`, booked sessions still to come are proposed again too (each names the
    appointment to move), so that after a cancellation or no-show the whole rest of the course
    keeps its intervals. Preferences, strongest first: the practitioner of the last session (or
    the approving dermatologist), the weekday and the time of day of the last session, then the
    earliest time. Raises PlanError when a session has no free slot in its window.

    No session goes on a day the patient's planned sun exposure keeps off (see sun.py); a session
    whose whole window it keeps off waits for the first day after, its window as wide as before.

    One calendar of working hours, time off, closures, rooms and lasers (with the patient's sun
    exposure, in its round trip) serves the whole plan, read again only if a wait for the sun
    takes the plan past its days; each session then costs one query for the appointments of its
    window, or only of the days on its usual weekday, and one more only when none of those has room.
    """
    now = now or timezone.now()
    if course.status not in (TreatmentCourse.Status.APPROVED, TreatmentCourse.Status.ACTIVE):
        raise PlanError("Only an approved course can be planned.", field="course")
    held = list(course_sessions(course).order_by("start"))
    movable = [a for a in held if reflow and a.status in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)]
    fixed = [a for a in held if a not in movable]
    remaining = course.planned_sessions - len(fixed)
    if remaining <= 0:
        return []

    length = session_length(course)
    anchor = fixed[-1] if fixed else None
    preferred = anchor.practitioner_id if anchor else course.approved_by_id  # ids, which need no query
    ignore = [a.pk for a in movable]
    plan: list[PlannedSession] = []
    calendar, kept_off, loaded_until = None, set(), None
    for index in range(remaining):
        sequence = len(fixed) + index + 1
        if anchor is None:
            # A fresh course starts after the two sun-free weeks of preparation unless asked otherwise.
            if start_date is None:
                earliest = now + PREP_WINDOW
            else:
                first_day = max(start_date, timezone.localdate(now))
                earliest = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
            # A course that needs a test patch starts no earlier than the patch's wait allows.
            ready = test_patch.first_session_earliest(course)
            if ready is not None and ready > earliest:
                earliest = ready
            latest = earliest + timedelta(days=FIRST_SESSION_SEARCH_DAYS)
        else:
            earliest, latest = interval_window(anchor.start, course)
            if index == 0 and start_date:
                earliest = max(earliest, timezone.make_aware(datetime.combine(start_date, datetime.min.time())))
        earliest, latest = _after_the_sun(earliest, latest, kept_off, now)
        if calendar is None or timezone.localdate(_last_moment(latest)) > loaded_until:
            # Each later session starts at most max_interval days after the one before.
            first_day = timezone.localdate(max(earliest, now))
            loaded_until = timezone.localdate(_last_moment(latest)) + course.max_interval * (remaining - 1 - index)
            sun = calendar_rows.sun_exposures(course.patient_id, first=first_day, last=loaded_until, prep=PREP_WINDOW)
            calendar = Calendar.load(first=first_day, last=loaded_until, kind=Appointment.Kind.TREATMENT,
                                     condition=course.condition_id, also=(sun,))  # fmt: skip
            kept_off = kept_off_days(calendar.also[0])
            earliest, latest = _after_the_sun(earliest, latest, kept_off, now)
        usual = timezone.localtime(anchor.start) if anchor is not None else None
        slot = _best_slot(calendar, course, preferred, usual, earliest, latest, now, ignore, length=length,
                          kept_off=kept_off)  # fmt: skip
        if slot is None:
            raise PlanError(
                f"No free time for session {sequence} between {_day(earliest)} and {_day(_last_moment(latest))}. "
                "Try another start date, or change the course's interval.",
                field="start",
            )
        plan.append(PlannedSession(sequence, slot, earliest, latest, movable[index] if index < len(movable) else None))
        anchor = plan[-1]
        preferred = slot.practitioner.pk
    return plan


@guard.retrying
def course_book_plan(
    *,
    course: TreatmentCourse,
    sessions: list[dict],
    acknowledge_short_prep: bool = False,
    booked_by=None,
    now: datetime | None = None,
) -> list[Appointment]:
    """Book (or, for entries naming an `appointment`, move) every session of a plan, or none.

    Each entry has `start`, `practitioner`, `room`, `device` and optionally `appointment`.
    """
    now = now or timezone.now()
    if not sessions:
        raise SchedulingError("The plan has no sessions.", field="sessions")
    booked = []
    with transaction.atomic():
        sessions = _lock_plan(course, sessions)
        # Moves later in time go last-first and moves earlier go first-first, so that no session
        # lands on a time its neighbour still holds.
        moves = [s for s in sessions if s.get("appointment")]
        later = sorted((s for s in moves if s["start"] >= s["appointment"].start), key=lambda s: s["start"],
                       reverse=True)  # fmt: skip
        earlier = sorted((s for s in moves if s["start"] < s["appointment"].start), key=lambda s: s["start"])
        new = sorted((s for s in sessions if not s.get("appointment")), key=lambda s: s["start"])
        for entry in later + earlier:
            if entry["appointment"].course_id != course.pk:
                raise SchedulingError("A session in the plan belongs to another course.", field="sessions")
            booked.append(
                appointment_reschedule(
                    appointment=entry["appointment"],
                    start=entry["start"],
                    practitioner=entry["practitioner"],
                    room=entry["room"],
                    device=entry["device"],
                    acknowledge_short_prep=acknowledge_short_prep,
                    by=booked_by,
                    now=now,
                    check_spacing=False,
                )
            )
        for entry in new:
            booked.append(
                appointment_book(
                    patient=course.patient,
                    kind=Appointment.Kind.TREATMENT,
                    course=course,
                    start=entry["start"],
                    practitioner=entry["practitioner"],
                    room=entry["room"],
                    device=entry["device"],
                    acknowledge_short_prep=acknowledge_short_prep,
                    booked_by=booked_by,
                    now=now,
                    check_spacing=False,
                )
            )
        _check_intervals(course)
    booked.sort(key=lambda a: a.start)
    # Each one's number and status now that the whole plan is in: one query for them all.
    now_held = Appointment.objects.filter(pk__in=[a.pk for a in booked]).with_session_numbers()
    fresh = {pk: (number, status) for pk, number, status in now_held.values_list("pk", "session_number", "status")}
    for appointment in booked:
        appointment.session_number, appointment.status = fresh[appointment.pk]
    return booked


def _lock_plan(course, sessions: list[dict]) -> list[dict]:
    """Take the whole plan's locks before its first booking, in the order of locks (guard.py).

    Booking by booking, a plan would take a practitioner's lock and then wait for the next
    session's, which a plan crossing it holds (X then Y against Y then X): a deadlock. So the
    advisory locks of every practitioner, room and laser of the plan, of those the moved sessions
    leave and of the patient come first, in one statement; then the moved sessions' rows, in id
    order. The entries come back with the moved appointments as they are now, locked.
    """
    moved = sorted({entry["appointment"].pk for entry in sessions if entry.get("appointment")})
    rows = Appointment.objects.filter(pk__in=moved).order_by("pk")
    held = list(rows.values_list("pk", "practitioner_id", "room_id", "device_id"))
    if len(held) != len(moved):
        raise SchedulingError("A session the plan moves no longer exists; plan the course again.", field="sessions")
    guard.lock_resources(
        practitioners=[e["practitioner"].pk for e in sessions] + [h[1] for h in held],
        rooms=[e["room"].pk for e in sessions] + [h[2] for h in held],
        devices=[e["device"].pk for e in sessions if e.get("device")] + [h[3] for h in held],
        patients=[course.patient_id],
    )
    locked = {a.pk: a for a in rows.select_for_update()}
    if [(a.pk, a.practitioner_id, a.room_id, a.device_id) for a in locked.values()] != held:
        raise Contention()  # a session moved or went meanwhile: start again from what is there now
    return [entry | {"appointment": locked[entry["appointment"].pk]} if entry.get("appointment") else entry
            for entry in sessions]  # fmt: skip


def _best_slot(calendar, course, preferred, usual, earliest, latest, now, ignore, *, length, kept_off) -> Slot | None:
    """The most preferred free slot in [earliest, latest). Preferences, strongest first: the
    preferred practitioner (else anyone), the weekday of `usual` (the last session's local time),
    the time of day nearest to it, the earliest.

    With a usual weekday, the days on it are searched first, with a diary of their own: a session
    that keeps its weekday, the common case, reads only those days' appointments, and the rest
    of the window is read (one more query) only when none of them has room.
    """
    if latest <= now:
        return None
    first_day = timezone.localdate(max(earliest, now))
    last_day = timezone.localdate(_last_moment(latest))
    window = search_window(first=first_day, last=last_day, length=length, now=now, earliest=earliest,
                           latest_start=latest)  # fmt: skip
    if window is None:
        return None
    days = [day for day in dates(first_day, last_day) if day not in kept_off]
    groups = [None]  # every day, in one diary
    if usual is not None:
        same = [day for day in days if day.weekday() == usual.weekday()]
        groups = [same, [day for day in days if day not in same]]
    diaries = {}
    for practitioners in ([calendar.only(preferred)] if preferred else []) + [None]:
        for index, group in enumerate(groups):
            if group == []:
                continue
            if index not in diaries:  # its query runs when the sweep first reads it
                diaries[index] = calendar.diary(
                    window, patient_id=course.patient_id, ignore_ids=ignore, days=group, now=now
                )
            diary = diaries[index]
            starts = calendar.free_starts(
                diary, days=days if group is None else group, window=window, length=length, practitioners=practitioners
            )
            best = _most_preferred(calendar, diary, starts, usual, length)
            if best is not None:
                return make_slot(best, length=length, kind=Appointment.Kind.TREATMENT, now=now)
    return None


def _most_preferred(calendar, diary, starts, usual, length):
    """Of `starts` (free for the practitioner, in time order), the first that the patient, a room
    and a laser allow, in order of preference: the same time of day as `usual`, or the nearest,
    then the earliest. Only the first CANDIDATES free starts are weighed at a time."""
    if usual is None:  # the earliest is the most preferred: place them in time order, as they come
        return next(calendar.place(diary, starts, length), None)
    tz = timezone.get_current_timezone()
    usual_minute = usual.hour * 60 + usual.minute

    def preference(start):
        local = datetime.fromtimestamp(start[0], tz)
        return (local.weekday() != usual.weekday(), abs(local.hour * 60 + local.minute - usual_minute), start[0])

    while batch := list(islice(starts, CANDIDATES)):
        best = next(calendar.place(diary, sorted(batch, key=preference), length), None)
        if best is not None:
            return best
    return None


def _after_the_sun(earliest, latest, kept_off, now) -> tuple[datetime, datetime]:
    """A session's window, or, when planned sun exposure keeps off every day of it, the window as
    many days wide from the first day after those: the course waits for the skin."""
    first, last = timezone.localdate(max(earliest, now)), timezone.localdate(_last_moment(latest))
    if not kept_off or first > last or any(day not in kept_off for day in dates(first, last)):
        return earliest, latest
    day = last + timedelta(days=1)
    while day in kept_off:
        day += timedelta(days=1)
    tz = timezone.get_default_timezone()
    width = (last - timezone.localdate(earliest)).days
    return day_bounds(day, tz)[0], day_bounds(day + timedelta(days=width), tz)[1]


def _check_intervals(course) -> None:
    """After a whole plan is in place, every pair of neighbouring sessions keeps the intervals."""
    held = course_sessions(course).order_by("start")
    starts = list(held.values_list("start", flat=True))
    for before, after in zip(starts, starts[1:], strict=False):
        if days_apart(before, after) < course.min_interval_days:
            raise SchedulingError(
                f"Sessions on {_day(before)} and {_day(after)} are closer than the course's "
                f"{course.min_interval_days}-day minimum interval.",
                field="sessions",
            )


def _last_moment(bound: datetime) -> datetime:
    """Windows end just before `bound`, which is the midnight after their last day."""
    return bound - timedelta(microseconds=1)


def _day(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "D j M Y")
