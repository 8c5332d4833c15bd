"""The matcher: a freed slot offered to the waiting patients it suits, oldest entry first.

It runs inside the transaction that freed the slot (a cancellation, the old time of a move: the
`scheduling.events.appointment_changed` receiver below), so a change rolled back offers nothing,
and from the sweep (`offers.sweep_offers`) when offers expire or are declined. It asks the database
a fixed number of questions whatever the length of the list: the candidates the SQL filters let
through (dates, weekday, time of day, what they wait for, an address to write to), at most
MATCH_BATCH of them, then their courses' sessions and areas, their other visits and their offers
of the day, each in one query; the rules run in Python on those rows. The booking service checks
everything again when a patient accepts, so an offer is a good guess, never a booking.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from catalogue.models import LaserDevice, TreatmentArea
from clinical.models import TreatmentCourse
from outbox.models import Notification
from scheduling import events
from scheduling.availability import day_bounds
from scheduling.models import Appointment
from scheduling.services.course_rules import takes_another_session
from scheduling.services.moves import MOVABLE_STATUSES, window_among
from scheduling.services.slots import DEFAULT_VISIT_MINUTES, is_short_prep
from waitlist.models import OFFER_KIND, WaitlistEntry, WaitlistOffer, time_of_day
from waitlist.services.entries import close_answered_entries

# The candidates the rules in Python look at for one slot: the first this many the SQL lets through.
MATCH_BATCH = 100
Want = WaitlistEntry.Want
MOVABLE = MOVABLE_STATUSES


@dataclass(frozen=True)
class FreeSlot:
    """A stretch of time a practitioner, a room and maybe a laser have free: [start, end)."""

    start: datetime
    end: datetime
    practitioner_id: int
    room_id: int
    device_id: int | None = None
    freed_by_id: int | None = None

    @classmethod
    def left_by(cls, placement: events.Placement, *, freed_by_id=None) -> "FreeSlot":
        p = placement
        return cls(p.start, p.end, p.practitioner_id, p.room_id, p.device_id, freed_by_id)


def offer_hours() -> timedelta:
    return timedelta(hours=settings.WAITLIST_OFFER_HOURS)


def offer_slot(*, slot: FreeSlot, now: datetime | None = None, passed_over=frozenset()) -> list[WaitlistOffer]:
    """Offer `slot` to up to WAITLIST_OFFERS_PER_SLOT waiting entries it suits (fewer when some of
    its offers are still open), oldest entry first, and plan their emails; returns the new offers.
    The patients in `passed_over` (ids) were just offered another time and are not offered this one."""
    now = now or timezone.now()
    if slot.start <= now:
        return []
    earlier = WaitlistOffer.objects.filter(start=slot.start, practitioner_id=slot.practitioner_id)
    statuses = list(earlier.values_list("entry_id", "status"))
    if any(status == WaitlistOffer.Status.ACCEPTED for _, status in statuses):
        return []
    room_left = settings.WAITLIST_OFFERS_PER_SLOT - sum(s == WaitlistOffer.Status.OFFERED for _, s in statuses)
    if room_left <= 0:
        return []
    expires_at = min(now + offer_hours(), slot.start)
    entries = _candidates(slot, exclude_ids={entry_id for entry_id, _ in statuses})
    if not entries:
        return []
    facts = _Facts.read(entries, slot=slot, now=now)
    chosen = []
    patients = set(passed_over)
    for entry in entries:
        if entry.patient_id in patients:
            continue
        end = slot.start + facts.length(entry)
        if facts.refusal(entry, start=slot.start, end=end, slot_end=slot.end, expires_at=expires_at) is None:
            chosen.append((entry, end))
            patients.add(entry.patient_id)
            if len(chosen) >= room_left:
                break
    return _plan(chosen, slot=slot, expires_at=expires_at, now=now)


_COURSE_FIELDS = ("status", "planned_sessions", "min_interval_days", "max_interval_days", "condition_id")
_CANDIDATE_FIELDS = (
    "patient_id",
    "wants",
    "course_id",
    "appointment_id",
    "created_at",
    *(f"course__{name}" for name in _COURSE_FIELDS),
    "appointment__start",
    "appointment__end",
    "appointment__kind",
    "appointment__status",
    "appointment__course_id",
    *(f"appointment__course__{name}" for name in _COURSE_FIELDS),
)


def _candidates(slot: FreeSlot, *, exclude_ids) -> list[WaitlistEntry]:
    """The first MATCH_BATCH waiting entries the slot's day, weekday, time of day and resources
    allow, oldest first, with their courses and sessions to move: one query."""
    local = timezone.localtime(slot.start)
    day = local.date()
    wants = Q(wants=Want.CONSULTATION) | Q(wants=Want.EARLIER, appointment__kind=Appointment.Kind.CONSULTATION)
    if slot.device_id is not None:  # a treatment needs a laser set up for its condition
        suited = LaserDevice.conditions.through.objects.filter(laserdevice_id=slot.device_id).values("condition_id")
        wants |= Q(
            wants=Want.NEXT_SESSION,
            course__status__in=TreatmentCourse.BOOKABLE_STATUSES,
            course__condition_id__in=suited,
        ) | Q(
            wants=Want.EARLIER,
            appointment__kind=Appointment.Kind.TREATMENT,
            appointment__course__condition_id__in=suited,
        )
    queryset = (
        WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING, earliest_date__lte=day, latest_date__gte=day)
        .annotate(
            on_day=F("weekdays").bitand(1 << day.weekday()),
            at_time=F("times_of_day").bitand(time_of_day(local.hour)),
        )
        .filter(on_day__gt=0, at_time__gt=0)
        .filter(wants)
        .filter(Q(appointment__isnull=True) | Q(appointment__start__gt=slot.start, appointment__status__in=MOVABLE))
        .filter(patient__erased_at__isnull=True, patient__email_consent=True)
        .exclude(patient__email="")
        .exclude(pk__in=exclude_ids)
        .select_related("course", "appointment__course")
        .only(*_CANDIDATE_FIELDS)  # what the rules read: a tenth of the columns, and of the time
        .order_by("created_at", "pk")
    )
    return list(queryset[:MATCH_BATCH])


@dataclass
class _Facts:
    """What the rules weigh about the candidates, read in one query each."""

    sessions: dict[int, list[datetime]]  # active treatment starts by course
    sizes: dict[int, list[str]]  # area sizes by course
    visits: dict[int, list[tuple[int, datetime, datetime]]]  # (id, start, end) by patient
    offers_today: Counter

    @classmethod
    def read(cls, entries, *, slot: FreeSlot, now: datetime) -> "_Facts":
        course_ids = {e.course_id or (e.appointment.course_id if e.appointment_id else None) for e in entries} - {None}
        patient_ids = {e.patient_id for e in entries}
        sessions, sizes, visits = defaultdict(list), defaultdict(list), defaultdict(list)
        for course_id, start in (
            Appointment.objects.sessions().filter(course_id__in=course_ids).values_list("course_id", "start")
        ):
            sessions[course_id].append(start)
        areas = TreatmentArea.objects.filter(courses__in=course_ids).values_list("courses", "size")
        for course_id, size in areas:
            sizes[course_id].append(size)
        # A visit as long as the longest a candidate could need: a day's end bounds every session.
        horizon = day_bounds(timezone.localdate(slot.start), timezone.get_default_timezone())[1]
        busy = Appointment.objects.filter(
            patient_id__in=patient_ids, status__in=Appointment.ACTIVE_STATUSES, start__lt=horizon, end__gt=slot.start
        ).values_list("patient_id", "pk", "start", "end")
        for patient_id, pk, start, end in busy:
            visits[patient_id].append((pk, start, end))
        tz = timezone.get_default_timezone()
        today = day_bounds(timezone.localdate(now), tz)
        offered = WaitlistOffer.objects.filter(
            entry__patient_id__in=patient_ids, created_at__gte=today[0], created_at__lt=today[1]
        ).values_list("entry__patient_id", flat=True)
        return cls(sessions, sizes, visits, Counter(offered))

    def length(self, entry: WaitlistEntry) -> timedelta:
        """How long the visit the entry would book lasts: its session's own length when moving it, a
        course session's from its areas, a consultation's default."""
        if entry.wants == Want.EARLIER:
            return entry.appointment.end - entry.appointment.start
        if entry.wants == Want.NEXT_SESSION:
            return timedelta(minutes=sum(TreatmentArea.MINUTES[size] for size in self.sizes[entry.course_id]))
        return timedelta(minutes=DEFAULT_VISIT_MINUTES)

    def refusal(self, entry, *, start, end, slot_end, expires_at) -> str | None:
        """Why the slot does not suit the entry, or None: each rule in turn."""
        if end > slot_end or end <= start:
            return "too short"
        if is_short_prep(kind=entry.kind, start=start, now=expires_at):
            return "inside the prep window"  # no short prep through an offer: 14 days from the answer
        own = entry.appointment_id
        if any(pk != own and s < end and start < e for pk, s, e in self.visits[entry.patient_id]):
            return "another visit"
        if self.offers_today[entry.patient_id] >= settings.WAITLIST_MAX_OFFERS_PER_DAY:
            return "offers today"
        course = entry.course if entry.wants == Want.NEXT_SESSION else (entry.appointment.course if own else None)
        if course is not None and entry.kind == Appointment.Kind.TREATMENT:
            starts = self.sessions[course.pk]
            if entry.wants == Want.NEXT_SESSION:
                if not takes_another_session(course, held=len(starts)):
                    return "no session left"
                window = window_among(start, starts, course)
            else:
                others = [s for s in starts if s != entry.appointment.start]
                window = window_among(entry.appointment.start, others, course)
            if (window.earliest and start < window.earliest) or (window.latest and start >= window.latest):
                return "outside the course window"
        return None


def _plan(chosen, *, slot: FreeSlot, expires_at, now) -> list[WaitlistOffer]:
    """The offers and their emails, two inserts; each email's key names its entry, slot and time."""
    if not chosen:
        return []
    stamp = int(now.timestamp())
    emails = [
        Notification(
            key=f"w{entry.pk}.s{int(slot.start.timestamp())}.p{slot.practitioner_id}.t{stamp}.{OFFER_KIND}",
            kind=OFFER_KIND,
            due_at=now,
            patient_id=entry.patient_id,
            course_id=entry.course_id,
        )
        for entry, _ in chosen
    ]
    emails = Notification.objects.bulk_create(emails)
    offers = [
        WaitlistOffer(
            entry=entry,
            start=slot.start,
            end=end,
            slot_end=slot.end,
            practitioner_id=slot.practitioner_id,
            room_id=slot.room_id,
            device_id=slot.device_id if entry.kind == Appointment.Kind.TREATMENT else None,
            freed_by_id=slot.freed_by_id,
            expires_at=expires_at,
            created_at=now,
            notification=email,
        )
        for (entry, end), email in zip(chosen, emails, strict=True)
    ]
    return WaitlistOffer.objects.bulk_create(offers)


def on_appointment_changed(sender, *, appointment, change, now, left=None, **kwargs) -> None:
    """The receiver of `scheduling.events.appointment_changed`: a cancelled visit's time, or the time a
    move left, is offered; a booking or cancellation closes the entries it answers."""
    close_answered_entries(appointment=appointment, change=change, now=now)
    if change == events.CANCELLED:
        offer_slot(slot=FreeSlot.left_by(events.Placement.of(appointment), freed_by_id=appointment.pk), now=now)
    elif change == events.RESCHEDULED and left is not None:
        offer_slot(slot=FreeSlot.left_by(left, freed_by_id=appointment.pk), now=now)
