"""What a patient may book and move online, on the engine's own rules.

The course's window, the free times and the booking itself are the slot search's, the move
search's and the booking service's (scheduling.services); this module only narrows their searches
to what the clinic lets patients do alone: a course's next session (never its first, which the
clinic books), at least the 14 days of prep ahead (PREP_WINDOW: no short prep online), and moves
or cancellations up to PORTAL_NOTICE_HOURS before a visit, PORTAL_MAX_MOVES times per visit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from clinic.errors import IllegalTransition
from clinical.models import TreatmentCourse
from scheduling.models import Appointment
from scheduling.services import MOVABLE_STATUSES, PREP_WINDOW, MoveWindow, Slot, find_move_slots, find_slots
from scheduling.services.course_rules import takes_another_session
from scheduling.services.moves import move_window
from scheduling.services.slots import interval_window

CALL_US = "Please call us on {phone} and reception will find a time with you."
SLOTS_SHOWN = 8
LONGEST_SEARCH_DAYS = 92  # a move of a visit with no window: the next three months


@dataclass(frozen=True)
class NextSession:
    """A course's next session as the patient may book it: its window [previous session + minimum
    interval, previous + maximum interval), from when online booking may start inside it, and why
    not (`refusal`, for the page) when it cannot be booked online."""

    course: TreatmentCourse
    previous: Appointment | None
    earliest: datetime | None
    latest: datetime | None
    online_from: datetime | None
    refusal: str = ""

    @property
    def last_day(self):
        return timezone.localdate(self.latest - timedelta(microseconds=1)) if self.latest else None


def next_session(course: TreatmentCourse, sessions: list[Appointment], *, now: datetime) -> NextSession | None:
    """The course's next session to book, or None when it has none unbooked (`sessions`: the course's
    sessions, `course_sessions`, in time order)."""
    held = len(sessions)
    if not takes_another_session(course, held=held):
        return None
    if any(session.status in Appointment.UPCOMING_STATUSES for session in sessions):
        return None  # the next one is booked
    if not sessions:
        return NextSession(course, None, None, None, None, "Your first session is booked with the clinic.")
    previous = sessions[-1]
    earliest, latest = interval_window(previous.start, course)
    online_from = max(earliest, now + PREP_WINDOW)
    refusal = ""
    if online_from >= latest:
        refusal = (
            "Your next session has to be within the next two weeks, which leaves less than the 14 days of sun-free "
            "preparation, so it cannot be booked online."
        )
    return NextSession(course, previous, earliest, latest, online_from, refusal)


def next_session_slots(plan: NextSession, *, now: datetime) -> list[Slot]:
    """Free starts for the next session inside its window and 14 days ahead: the usual
    practitioner's (the previous session's) first, then everyone else's."""
    if plan.refusal:
        return []
    start_date = timezone.localdate(plan.online_from)
    days = (plan.last_day - start_date).days + 1
    search = dict(course=plan.course, start_date=start_date, days=days, earliest=plan.online_from,
                  latest_start=plan.latest, now=now)  # fmt: skip
    usual = plan.previous.practitioner
    theirs = find_slots(limit=SLOTS_SHOWN, practitioner=usual, **search)
    others = [slot for slot in find_slots(limit=SLOTS_SHOWN * 3, **search) if slot.practitioner.pk != usual.pk]
    return theirs + others[:SLOTS_SHOWN]


def next_session_slot_at(plan: NextSession, *, start: datetime, practitioner, room, device, now) -> Slot | None:
    """The slot the patient chose, if the search still offers it (free, in the window, 14 days ahead)."""
    if plan.refusal or not plan.online_from <= start < plan.latest:
        return None
    found = find_slots(limit=1, course=plan.course, start_date=timezone.localdate(start), days=1,
                       practitioner=practitioner, room=room, device=device, earliest=start,
                       latest_start=start + timedelta(minutes=1), now=now)  # fmt: skip
    return found[0] if found and found[0].start == start else None


def moves_by_patient(patient, appointment_ids) -> dict[int, int]:
    """How often the patient moved each of these visits themselves: their audit entries that changed
    its start (derived from the trail, so a move by reception does not use the patient's up)."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Appointment),
        object_id__in=list(appointment_ids),
        actor_id=patient.user_id,
        action=LogEntry.Action.UPDATE,
    ).values_list("object_id", "changes")
    counts: dict[int, int] = {}
    for object_id, changes in entries:
        if "start" in (changes or {}):
            counts[int(object_id)] = counts.get(int(object_id), 0) + 1
    return counts


def change_refusal(appointment: Appointment, *, now: datetime) -> str:
    """Why the patient may not move or cancel this visit online themselves, or ""."""
    if appointment.status not in MOVABLE_STATUSES:
        return "This visit can no longer be changed online."
    hours = settings.PORTAL_NOTICE_HOURS
    if appointment.start - now < timedelta(hours=hours):
        return f"Visits can be changed online up to {hours} hours before they begin."
    return ""


def move_refusal(appointment: Appointment, *, moves: int, now: datetime) -> str:
    """Why the patient may not move this visit online (after `moves` moves of theirs), or ""."""
    refusal = change_refusal(appointment, now=now)
    if refusal:
        return refusal
    if moves >= settings.PORTAL_MAX_MOVES:
        return f"A visit can be moved online {settings.PORTAL_MAX_MOVES} times; this one has been."
    return ""


def online_move_rule(patient, *, now: datetime):
    """`move_refusal` as the reschedule's `caller_rule`: the patient's moves are counted on the
    row the move has locked, so two moves of one visit at once cannot both take the last one left."""

    def check(appointment: Appointment) -> None:
        moves = moves_by_patient(patient, [appointment.pk]).get(appointment.pk, 0)
        refusal = move_refusal(appointment, moves=moves, now=now)
        if refusal:
            raise IllegalTransition(refusal)

    return check


def patient_move_window(appointment: Appointment, *, now: datetime) -> MoveWindow:
    """Where the visit may move online: its course's window (`move_window`), and for a treatment not
    inside the 14 days of prep from now."""
    window = move_window(appointment)
    earliest = window.earliest or now
    if appointment.kind == Appointment.Kind.TREATMENT:
        earliest = max(earliest, now + PREP_WINDOW)
    latest = window.latest or now + timedelta(days=LONGEST_SEARCH_DAYS)
    return MoveWindow(earliest, latest)


def move_slots(appointment: Appointment, *, now: datetime) -> list[Slot]:
    """Times the visit may move to online, its own practitioner's first."""
    window = patient_move_window(appointment, now=now)
    if window.empty:
        return []
    start_date = timezone.localdate(window.earliest)
    days = min((window.last_day - start_date).days + 1, LONGEST_SEARCH_DAYS)
    slots = find_move_slots(appointment=appointment, start_date=start_date, days=days, window=window,
                            spacing=timedelta(hours=1), per_day=6, limit=SLOTS_SHOWN * 3, now=now)  # fmt: skip
    own = [slot for slot in slots if slot.practitioner.pk == appointment.practitioner_id]
    return (own + [slot for slot in slots if slot.practitioner.pk != appointment.practitioner_id])[: SLOTS_SHOWN * 2]


def move_slot_at(appointment: Appointment, *, start: datetime, practitioner, room, device, now) -> Slot | None:
    """The time the patient chose to move to, if the move search still offers it."""
    window = patient_move_window(appointment, now=now)
    if window.empty or not window.earliest <= start < window.latest:
        return None
    narrow = MoveWindow(start, min(window.latest, start + timedelta(minutes=1)))
    found = find_move_slots(appointment=appointment, start_date=timezone.localdate(start), days=1,
                            practitioner=practitioner, room=room, device=device, window=narrow, limit=1,
                            now=now)  # fmt: skip
    return found[0] if found and found[0].start == start else None


def call_us() -> str:
    return CALL_US.format(phone=settings.CLINIC_PHONE)
