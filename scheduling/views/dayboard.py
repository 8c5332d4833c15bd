"""The day board: one local day as a grid of 15-minute rows, a column per practitioner, room or laser.

The page costs a fixed number of queries whatever the number of appointments: the day's
appointments with everything a card shows, the weekday's working hours, the day's time off and
closures, and the rooms or lasers.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from catalogue.models import ClinicClosure, LaserDevice, Room, TimeOff, WorkingHours
from clinic.roles import ability_required, can
from scheduling.availability import day_bounds
from scheduling.forms import DayBoardForm
from scheduling.models import Appointment

ROW_MINUTES = 15
DAY_MINUTES = 24 * 60
# Enough classes in static/css/dayboard.css for this many resource columns.
MAX_COLUMNS = 60
CONDITION_COLOURS = 6


@dataclass
class Card:
    appointment: Appointment
    row: int
    span: int
    css: str


@dataclass
class Cell:
    row: int
    label: str
    href: str | None  # a free slot links to booking; off hours and the past do not


@dataclass
class Column:
    label: str
    index: int  # the grid column; the times take the first
    cards: list[Card] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)


@ability_required("view_schedule")
def day_board(request, day: date | None = None):
    form = DayBoardForm(request.GET)
    if not form.is_valid():  # a wrong value falls back to its default
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    by = form.cleaned_data.get("by", "practitioner")
    if day is None:
        if form.cleaned_data.get("date"):
            return redirect(_board_url(form.cleaned_data["date"], by))
        day = timezone.localdate()
    board = _Board.load(day, by)
    can_book = can(request.user, "book")
    columns = board.columns(now=timezone.now(), can_book=can_book)
    context = {
        "day": day,
        "by": by,
        "form": DayBoardForm(initial={"date": day, "by": by}),
        "times": [
            Cell(row, _clock(minute), None) for row, minute in enumerate(board.minutes(), 1) if minute % 60 in (0, 30)
        ],
        "columns": columns[:MAX_COLUMNS],
        "hidden_columns": max(0, len(columns) - MAX_COLUMNS),
        "closure": board.closure,
        "inactive": board.inactive,
        "without_device": board.without_device,
        "previous_url": _board_url(day - timedelta(days=1), by),
        "next_url": _board_url(day + timedelta(days=1), by),
        "today_url": _board_url(timezone.localdate(), by),
        "views": [(value, label, _board_url(day, value)) for value, label in DayBoardForm.BY_CHOICES],
    }
    return render(request, "scheduling/day_board.html", context)


def _board_url(day: date, by: str) -> str:
    url = reverse("scheduling:day_board_date", kwargs={"day": day})
    return f"{url}?by={by}" if by != "practitioner" else url


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class _Board:
    """What one day holds, read in a fixed number of queries."""

    def __init__(self, day, by, appointments, hours, time_off, closure, resources):
        self.day, self.by = day, by
        self.active = [a for a in appointments if a.is_active]
        self.inactive = [a for a in appointments if not a.is_active]
        self.hours = hours
        self.time_off = time_off
        self.closure = closure
        self.resources = resources
        self.without_device = sum(1 for a in self.active if a.device_id is None) if by == "device" else 0
        spans = [
            (h.start_time.hour * 60 + h.start_time.minute, h.end_time.hour * 60 + h.end_time.minute) for h in hours
        ]
        spans += [(self.minute_of(a.start), self.minute_of(a.end)) for a in self.active]
        if spans:
            self.first = min(s for s, _ in spans) // ROW_MINUTES * ROW_MINUTES
            self.last = -(-max(e for _, e in spans) // ROW_MINUTES) * ROW_MINUTES
        else:
            self.first = self.last = 0

    @classmethod
    def load(cls, day: date, by: str) -> "_Board":
        first, last = day_bounds(day, timezone.get_default_timezone())
        appointments = list(
            Appointment.objects.filter(start__gte=first, start__lt=last)
            .select_related("patient", "course__condition", "practitioner__user", "room", "device")
            .with_session_numbers()
            .order_by("start", "pk")
        )
        hours = list(
            WorkingHours.objects.filter(weekday=day.weekday(), practitioner__active=True)
            .select_related("practitioner__user")
            .order_by("start_time")
        )
        time_off = list(TimeOff.objects.filter(start__lt=last, end__gt=first).order_by())
        closure = ClinicClosure.objects.filter(start_date__lte=day, end_date__gte=day).first()
        resources = []
        if by in ("room", "device"):
            model = Room if by == "room" else LaserDevice
            used = {getattr(a, f"{by}_id") for a in appointments if a.is_active}
            resources = list(model.objects.filter(active=True) | model.objects.filter(pk__in=used))
        return cls(day, by, appointments, hours, time_off, closure, resources)

    def minute_of(self, moment: datetime) -> int:
        """Minutes since local midnight of the board's day, clamped to the day."""
        local = timezone.localtime(moment)
        if local.date() != self.day:
            return 0 if local.date() < self.day else DAY_MINUTES
        return local.hour * 60 + local.minute

    def minutes(self) -> range:
        return range(self.first, self.last, ROW_MINUTES)

    def columns(self, *, now: datetime, can_book: bool) -> list[Column]:
        if self.by == "practitioner":
            practitioners = {h.practitioner_id: h.practitioner for h in self.hours}
            practitioners.update({a.practitioner_id: a.practitioner for a in self.active})
            keyed = sorted((str(p), p.pk) for p in practitioners.values())
        else:
            keyed = [(str(r), r.pk) for r in self.resources]
        columns = []
        for index, (label, pk) in enumerate(keyed, 2):
            column = Column(label=label, index=index)
            mine = [a for a in self.active if getattr(a, f"{self.by}_id") == pk]
            column.cards = [self._card(a) for a in mine]
            taken = {row for card in column.cards for row in range(card.row, card.row + card.span)}
            open_minutes = self._open_minutes(pk) if self.by == "practitioner" else None
            for row, minute in enumerate(self.minutes(), 1):
                if row in taken:
                    continue
                bookable = (
                    can_book
                    and self.closure is None
                    and (open_minutes is None or minute in open_minutes)
                    and self._instant(minute) > now
                )
                href = self._booking_url(minute, pk if self.by == "practitioner" else None) if bookable else None
                column.cells.append(Cell(row, f"{_clock(minute)} {label}", href))
            columns.append(column)
        return columns

    def _card(self, appointment: Appointment) -> Card:
        start, end = self.minute_of(appointment.start), self.minute_of(appointment.end)
        row = (start - self.first) // ROW_MINUTES + 1
        span = max(1, -(-(end - self.first) // ROW_MINUTES) + 1 - row)
        colour = appointment.course.condition_id % CONDITION_COLOURS if appointment.course_id else "none"
        return Card(appointment, row, span, f"db-status-{appointment.status} db-cond-{colour}")

    def _open_minutes(self, practitioner_id: int) -> set[int]:
        """The row starts at which the practitioner is at work and not away."""
        open_minutes = set()
        for rule in self.hours:
            if rule.practitioner_id == practitioner_id:
                start = rule.start_time.hour * 60 + rule.start_time.minute
                end = rule.end_time.hour * 60 + rule.end_time.minute
                open_minutes.update(m for m in self.minutes() if start <= m and m + ROW_MINUTES <= end)
        for off in self.time_off:
            if off.practitioner_id == practitioner_id:
                start, end = self.minute_of(off.start), self.minute_of(off.end)
                open_minutes.difference_update(m for m in self.minutes() if m < end and m + ROW_MINUTES > start)
        return open_minutes

    def _instant(self, minute: int) -> datetime:
        clock = time(minute // 60, minute % 60)
        return timezone.make_aware(datetime.combine(self.day, clock))

    def _booking_url(self, minute: int, practitioner_id: int | None) -> str:
        query = {"start": f"{self.day.isoformat()}T{_clock(minute)}"}
        if practitioner_id is not None:
            query["practitioner"] = practitioner_id
        return f"{reverse('scheduling:book_visit')}?{urlencode(query)}"
