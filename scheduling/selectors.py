"""Reads about the schedule that several pages and the API share."""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db.models import CharField, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from catalogue.models import ClinicClosure, Condition, LaserDevice, Practitioner, Room, TimeOff, WorkingHours
from patients.models import Patient
from patients.selectors import SEARCH_LIMIT, patients_matching
from scheduling.availability import day_bounds
from scheduling.models import Appointment
from scheduling.services.moves import MOVABLE_STATUSES


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


# What the day board and the day list read of an appointment and what it is joined to. Only these
# are loaded: building each one's patient, user and course with every column (a dozen timestamps
# to parse) was most of the boards' reading time.
BOARD_FIELDS = (
    *("kind", "status", "start", "end", "notes", "short_prep_acknowledged_at", "cancel_requested_at"),
    "hold_expires_at",
    *("practitioner", "room", "device"),  # the ids
    *("patient__first_name", "patient__last_name", "patient__phone"),
    *("course__planned_sessions", "course__condition__name"),
)
RESOURCE_FIELDS = (
    *("practitioner__role", "practitioner__colour", "practitioner__active"),
    *("practitioner__user__first_name", "practitioner__user__last_name", "practitioner__user__username"),
    *("room__name", "device__name"),
)


def board_appointments(*, first: datetime, last: datetime, active_only: bool = False) -> list[Appointment]:
    """The appointments starting in [`first`, `last`), in time order, with everything a board card
    or the day list shows read along (patient, course, condition, practitioner, room, laser,
    `session_number`). One query, however many there are. (The week board reads plain rows
    instead, `week_appointments`.)"""
    appointments = Appointment.objects.filter(start__gte=first, start__lt=last)
    if active_only:
        appointments = appointments.filter(status__in=Appointment.ACTIVE_STATUSES)
    related = ["patient", "course__condition", "practitioner__user", "room", "device"]
    return list(
        appointments.select_related(*related)
        .only(*BOARD_FIELDS, *RESOURCE_FIELDS)
        .with_session_numbers()
        .order_by("start", "pk")
    )


class WeekAppointment(NamedTuple):
    """An active appointment as the week board reads it: its card's values, no model instances. A
    week holds some 800; building each one's appointment, patient, course and condition models was
    two thirds of reading them (bench clinic: 27 ms of CPU against 10 for these rows)."""

    pk: int
    kind: str
    status: str
    start: datetime
    notes: str
    short_prep_acknowledged_at: datetime | None
    practitioner_id: int
    room_id: int
    device_id: int | None
    first_name: str  # the patient's
    last_name: str
    course_id: int | None
    planned_sessions: int | None
    condition_id: int | None
    condition: str | None  # its name
    session_number: int | None
    hold_expires_at: datetime | None


WEEK_FIELDS = (
    *("pk", "kind", "status", "start", "notes", "short_prep_acknowledged_at"),
    *("practitioner_id", "room_id", "device_id", "patient__first_name", "patient__last_name"),
    *("course_id", "course__planned_sessions", "course__condition_id", "course__condition__name", "session_number"),
    "hold_expires_at",
)


def week_appointments(*, first: datetime, last: datetime) -> list[WeekAppointment]:
    """The active appointments starting in [`first`, `last`), in time order, as `WeekAppointment`
    rows: what `board_appointments` reads for a card, in one query, as plain values."""
    rows = (
        Appointment.objects.filter(start__gte=first, start__lt=last, status__in=Appointment.ACTIVE_STATUSES)
        .with_session_numbers()
        .order_by("start", "pk")
        .values_list(*WEEK_FIELDS)
    )
    return list(map(WeekAppointment._make, rows))


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


# --- The boards' colours ----------------------------------------------------------------------------
#
# A card's fill says its status, its left edge its course's condition (a palette of this many,
# `db-cond-N` in static/css/dayboard.css); the key on both boards names each condition's colour.
CONDITION_COLOURS = 6


def condition_colour(condition_id: int | None) -> str:
    """The palette entry of a condition's cards ("none" for a visit without a course)."""
    return "none" if condition_id is None else str(condition_id % CONDITION_COLOURS)


def card_css(appointment: Appointment) -> str:
    """The classes that colour a board card: its status fill and its condition's edge."""
    return card_classes(appointment.status, appointment.course.condition_id if appointment.course_id else None)


def card_classes(status: str, condition_id: int | None) -> str:
    """`card_css` from the values themselves (the week board reads rows, not models)."""
    return f"db-status-{status} db-cond-{condition_colour(condition_id)}"


@dataclass
class ColourKey:
    """What the key under a board explains: each status's fill and each condition's colour."""

    statuses: list[tuple[str, str]]
    conditions: list[tuple[str, str]]  # (name, palette entry)


def colour_key() -> ColourKey:
    """One query: the active conditions by name."""
    statuses = [(status, Appointment.Status(status).label) for status in Appointment.ACTIVE_STATUSES]
    conditions = [(c.name, condition_colour(c.pk)) for c in Condition.objects.filter(active=True).order_by("name")]
    return ColourKey(statuses=statuses, conditions=conditions + [("No course (consultation, review)", "none")])


# --- The week board -----------------------------------------------------------------------------------


@dataclass
class WeekCard:
    """A compact card, its words worked out once here: the week holds up to some 1,500 of them, and
    each filter or lookup in the template (a time format, a display label) costs per card."""

    pk: int  # the appointment's
    css: str
    movable: bool  # carries data-appointment and data-time for drag and drop
    time: str  # the local start, "09:30"
    patient: str
    what: str  # "Tattoo removal 3/8", "Consultation", "Acne scars · Review"
    status: str
    short_prep: bool  # booked inside the 14-day preparation, acknowledged
    flagged: bool  # the check-in questions flagged something
    href: str = ""  # the appointment's page, set by the page


@dataclass
class WeekDay:
    day: date
    closure: str | None = None  # the reason, when the clinic is closed that day
    url: str = ""  # its day board, set by the page

    def __post_init__(self):
        # Written once here, not by the date filter in each of the day's cells.
        self.iso = self.day.isoformat()
        self.label = f"{self.day:%a} {self.day.day} {self.day:%b}"  # "Mon 1 Mar"
        self.long = f"{self.day:%A} {self.day.day} {self.day:%B}"  # "Monday 1 March"


@dataclass
class WeekCell:
    """One practitioner (room, laser) on one day: their hours, time off, and the day's cards."""

    day: WeekDay
    hours: list[str] = field(default_factory=list)  # "09:00–17:00"
    time_off: list[str] = field(default_factory=list)  # "Off 13:00–17:00: training"
    cards: list[WeekCard] = field(default_factory=list)

    @property
    def working(self) -> bool:
        return bool(self.hours)


@dataclass
class WeekRow:
    label: str
    pk: int
    colour: str  # the practitioner's stripe ("" for none, and for rooms and lasers)
    cells: list[WeekCell] = field(default_factory=list)
    html: str = ""  # the cells and cards as the page writes them (views/weekboard_html), set by the page


@dataclass
class WeekBoard:
    monday: date
    by: str  # "practitioner", "room" or "device"
    days: list[WeekDay]
    rows: list[WeekRow]
    key: ColourKey
    without_device: int = 0  # by laser: active visits that use none, so are not shown


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_board(*, day: date, by: str = "practitioner", can_book: bool = False) -> WeekBoard:
    """The Monday-to-Sunday week holding `day`, a row per practitioner (room, laser) and a column
    per day the clinic opens: a day on which somebody works or something is booked (a closure day
    among them is shown closed, with its reason). Cancelled visits and no-shows are left out.

    A fixed number of queries whatever the week holds: the week's appointments (`week_appointments`),
    all working hours, the week's closures, the conditions for the key, and by practitioner the
    practitioners and their time off, by room or laser the rooms or lasers."""
    monday = week_monday(day)
    week = [monday + timedelta(days=offset) for offset in range(7)]
    zone = timezone.get_default_timezone()
    first, last = day_bounds(week[0], zone)[0], day_bounds(week[-1], zone)[1]
    active = week_appointments(first=first, last=last)
    hours = list(WorkingHours.objects.filter(practitioner__active=True).order_by("weekday", "start_time"))
    closures = list(ClinicClosure.objects.filter(start_date__lte=week[-1], end_date__gte=week[0]))
    # Each start's local time once (a week's 800 of them): its cell's day and the card's "09:30".
    local_starts = {a.pk: a.start.astimezone(zone) for a in active}
    booked_days = {local.date() for local in local_starts.values()}
    working_days = {h.weekday for h in hours}
    days = [
        WeekDay(d, closure=next((c.reason for c in closures if c.start_date <= d <= c.end_date), None))
        for d in week
        if d.weekday() in working_days or d in booked_days
    ]

    if by == "practitioner":
        shown = {d.day.weekday() for d in days}
        people = {h.practitioner_id for h in hours if h.weekday in shown} | {a.practitioner_id for a in active}
        # Always asked, even for nobody, so that the page's queries do not depend on the week.
        rows = [
            WeekRow(str(p), p.pk, p.colour)
            for p in Practitioner.objects.filter(pk__in=[*people, 0]).select_related("user")
        ]
        time_off = list(TimeOff.objects.filter(practitioner_id__in=[*people, 0], start__lt=last, end__gt=first))
    else:
        model = Room if by == "room" else LaserDevice
        used = {getattr(a, f"{by}_id") for a in active} - {None}
        rows = [WeekRow(str(r), r.pk, "") for r in model.objects.filter(Q(active=True) | Q(pk__in=used))]
        time_off = []
    rows.sort(key=lambda row: (row.label, row.pk))

    hours_of, time_off_of = defaultdict(list), defaultdict(list)
    for h in hours:
        hours_of[h.practitioner_id, h.weekday].append(h)
    for t in time_off:
        time_off_of[t.practitioner_id].append(t)
    for row in rows:
        for week_day in days:
            cell = WeekCell(week_day)
            if by == "practitioner":
                day_hours = hours_of[row.pk, week_day.day.weekday()]
                cell.hours = [f"{h.start_time:%H:%M}–{h.end_time:%H:%M}" for h in day_hours]
                texts = (_time_off_text(t, week_day.day, day_hours, zone) for t in time_off_of[row.pk])
                cell.time_off = [text for text in texts if text]
            row.cells.append(cell)
    cells = {(row.pk, cell.day.day): cell for row in rows for cell in row.cells}
    without_device = 0
    for appointment in active:
        local_start = local_starts[appointment.pk]
        cell = cells.get((getattr(appointment, f"{by}_id"), local_start.date()))
        if cell is None:  # by laser: a visit without one
            without_device += 1
            continue
        cell.cards.append(_week_card(appointment, local_start, can_book=can_book))
    return WeekBoard(monday, by, days, rows, colour_key(), without_device)


# Labels by value, looked up per card: get_status_display() builds a hashable copy of the choices each time.
STATUS_LABELS = dict(Appointment.Status.choices)


def status_words(status: str, hold_expires_at: datetime | None = None) -> str:
    """What a card says of its status: the label, and for a held consultation until when
    ("Held until 14:35", clinic time) or that its hold has expired (until the sweep releases it)."""
    if status != Appointment.Status.HELD or hold_expires_at is None:
        return STATUS_LABELS[status]
    if hold_expires_at <= timezone.now():
        return STATUS_LABELS[Appointment.Status.RELEASED]
    return f"Held until {timezone.localtime(hold_expires_at):%H:%M}"


_KIND_LABELS = dict(Appointment.Kind.choices)


def card_what(appointment: Appointment) -> str:
    """What a board card says the visit is: "Tattoo removal 3/8", "Consultation", "Acne scars · Review"."""
    if not appointment.course_id:
        return card_words(appointment.kind)
    course = appointment.course
    return card_words(appointment.kind, course.condition.name, appointment.session_number, course.planned_sessions)


def card_words(
    kind: str, condition: str | None = None, session_number: int | None = None, planned_sessions: int | None = None
) -> str:
    """`card_what` from the values themselves: the visit's kind, and for a course its condition's name,
    the session's number and the course's planned sessions."""
    label = _KIND_LABELS[kind]
    if condition is None:
        return label
    what = condition
    if session_number:
        what += f" {session_number}/{planned_sessions}"
    if kind != Appointment.Kind.TREATMENT:
        what += f" · {label}"
    return what


def _week_card(appointment: WeekAppointment, local_start: datetime, *, can_book: bool) -> WeekCard:
    """The words of a day-board card (`views/dayboard_html.card_html`), compact: start, patient, course and
    session, status."""
    a = appointment
    return WeekCard(
        a.pk,
        css=card_classes(a.status, a.condition_id),
        movable=can_book and a.status in MOVABLE_STATUSES,
        time=f"{local_start.hour:02d}:{local_start.minute:02d}",
        patient=f"{a.first_name} {a.last_name}",
        what=card_words(a.kind, a.condition, a.session_number, a.planned_sessions),
        status=status_words(a.status, a.hold_expires_at),
        short_prep=a.short_prep_acknowledged_at is not None,
        flagged=Appointment.notes_flagged(a.notes),
    )


def _time_off_text(time_off: TimeOff, day: date, hours: list[WorkingHours], zone) -> str:
    """ "Off 13:00–17:00: training" for the part of `time_off` on the local `day`, "Off all day"
    when it covers the day's working hours (or the whole day), "" when it misses the day."""
    start, end = day_bounds(day, zone)
    start, end = max(start, time_off.start), min(end, time_off.end)
    if start >= end:
        return ""
    reason = f": {time_off.reason}" if time_off.reason else ""
    local_start, local_end = timezone.localtime(start, zone), timezone.localtime(end, zone)
    whole_day = end - start >= timedelta(hours=23) or (
        hours
        and all(
            local_start.time() <= h.start_time and (local_end.date() > day or h.end_time <= local_end.time())
            for h in hours
        )
    )
    if whole_day:
        return f"Off all day{reason}"
    until = "24:00" if local_end.date() > day else f"{local_end:%H:%M}"
    return f"Off {local_start:%H:%M}–{until}{reason}"
