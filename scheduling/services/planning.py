"""Course planning: propose times for the sessions still to come, and book a plan all at once."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain, islice

from django.db import transaction
from django.utils import formats, timezone

from scheduling.availability import dates
from scheduling.models import Appointment, TreatmentCourse

from .booking import appointment_book, appointment_reschedule
from .errors import PlanError, SchedulingError
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

# How far ahead the first session of a fresh course may go.
FIRST_SESSION_SEARCH_DAYS = 28
# Candidate slots weighed per session: enough to find the patient's usual weekday and time.
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

    One calendar of working hours, time off, closures, rooms and lasers serves the whole plan;
    each session then costs one query for the appointments of its window.
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
    preferred = anchor.practitioner if anchor else course.approved_by
    ignore = [a.pk for a in movable]
    plan: list[PlannedSession] = []
    calendar = None
    for index in range(remaining):
        sequence = len(fixed) + index + 1
        if anchor is None:
            # A fresh course starts after the two sun-free weeks of preparation unless asked otherwise.
            if start_date is None:
                earliest = now + PREP_WINDOW
            else:
                first_day = max(start_date, timezone.localdate(now))
                earliest = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
            latest = earliest + timedelta(days=FIRST_SESSION_SEARCH_DAYS)
        else:
            earliest, latest = interval_window(anchor.start, course)
            if index == 0 and start_date:
                earliest = max(earliest, timezone.make_aware(datetime.combine(start_date, datetime.min.time())))
        if calendar is None:
            # Each later session starts at most max_interval days after the one before.
            first_day = timezone.localdate(max(earliest, now))
            last_day = timezone.localdate(_last_moment(latest)) + course.max_interval * (remaining - 1)
            calendar = Calendar.load(first=first_day, last=last_day, kind=Appointment.Kind.TREATMENT,
                                     condition=course.condition)  # fmt: skip
        usual = timezone.localtime(anchor.start) if anchor is not None else None
        slot = _best_slot(calendar, course, preferred, usual, earliest, latest, now, ignore, length=length)
        if slot is None:
            raise PlanError(
                f"No free time for session {sequence} between {_day(earliest)} and {_day(_last_moment(latest))}. "
                "Try another start date, or change the course's interval.",
                field="start",
            )
        plan.append(PlannedSession(sequence, slot, earliest, latest, movable[index] if index < len(movable) else None))
        anchor = plan[-1]
        preferred = slot.practitioner
    return plan


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
    # Moves later in time go last-first and moves earlier go first-first, so that no session
    # lands on a time its neighbour still holds.
    moves = [s for s in sessions if s.get("appointment")]
    later = sorted((s for s in moves if s["start"] >= s["appointment"].start), key=lambda s: s["start"], reverse=True)
    earlier = sorted((s for s in moves if s["start"] < s["appointment"].start), key=lambda s: s["start"])
    new = sorted((s for s in sessions if not s.get("appointment")), key=lambda s: s["start"])
    booked = []
    with transaction.atomic():
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
    for appointment in booked:
        appointment.refresh_from_db(fields=["sequence", "status"])
    return booked


def _best_slot(calendar, course, preferred, usual, earliest, latest, now, ignore, *, length) -> Slot | None:
    """The preferred slot among the first CANDIDATES free ones in [earliest, latest): with the
    preferred practitioner if they have any, else with anyone."""
    if latest <= now:
        return None
    first_day = timezone.localdate(max(earliest, now))
    last_day = timezone.localdate(_last_moment(latest))
    window = search_window(first=first_day, last=last_day, length=length, now=now, earliest=earliest,
                           latest_start=latest)  # fmt: skip
    if window is None:
        return None
    diary = calendar.diary(window, patient_id=course.patient_id, ignore_ids=ignore)
    tz = timezone.get_current_timezone()

    def preference(opening):
        if usual is None:
            return (opening[0],)
        local = datetime.fromtimestamp(opening[0], tz)
        minutes_off = abs((local.hour * 60 + local.minute) - (usual.hour * 60 + usual.minute))
        return (local.weekday() != usual.weekday(), minutes_off, opening[0])

    for practitioners in ([calendar.only(preferred)] if preferred else []) + [None]:
        starts = calendar.free_starts(
            diary, days=dates(first_day, last_day), window=window, length=length, practitioners=practitioners
        )
        first = list(islice(starts, CANDIDATES + 1))
        if len(first) <= CANDIDATES:
            # Every free slot is a candidate, so the first that the patient, a room and a laser
            # allow, in order of preference, is the best: most starts are never checked.
            best = next(calendar.place(diary, sorted(first, key=preference), length), None)
        else:
            candidates = islice(calendar.place(diary, chain(first, starts), length), CANDIDATES)
            best = min(candidates, key=preference, default=None)
        if best is not None:
            return make_slot(best, length=length, kind=Appointment.Kind.TREATMENT, now=now)
    return None


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
