"""The day board: one local day as a grid of 15-minute rows, a column per practitioner, room or laser.

The page costs a fixed number of queries whatever the number of appointments: the day's
appointments with everything a card shows, the weekday's working hours, the day's closure, and the
rooms or lasers; and the slot search's reads of the day, which say whether each empty cell is
bookable for the kind of visit chosen with its practitioner, room or laser, or what is missing
(`freecells.cell_states`, `freecells.resource_cell_states`).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from catalogue.models import ClinicClosure, LaserDevice, Room, WorkingHours
from clinic.roles import ability_required, can
from scheduling.availability import day_bounds
from scheduling.forms import DayBoardForm
from scheduling.models import Appointment
from scheduling.selectors import board_appointments, board_token, card_css, colour_key
from scheduling.services import MOVABLE_STATUSES, freecells
from scheduling.services.freecells import cell_states, resource_cell_states
from scheduling.views.board import live_context
from scheduling.views.boardlinks import appointment_links, board_query, day_url, week_url
from scheduling.views.dayboard_html import column_html

ROW_MINUTES = 15
DAY_MINUTES = 24 * 60
# Enough classes in static/css/dayboard.css for this many resource columns.
MAX_COLUMNS = 60
# The reasons printed in a cell; the others (off hours, the past, the closed day the page names
# above the grid) are read out only, so the grid is not filled with the same words.
SHOWN_REASONS = {
    freecells.TOO_SHORT,
    freecells.PRACTITIONER_BUSY,
    freecells.NO_ROOM,
    freecells.NO_LASER,
    freecells.NO_SUITABLE_LASER,
    freecells.NO_ROOM_AND_LASER,
    freecells.NO_PRACTITIONER,
    freecells.ROOM_BUSY,
    freecells.LASER_BUSY,
}


@dataclass
class Card:
    appointment: Appointment
    row: int
    span: int
    css: str
    # Written once here: the time filter and {% url %} in the card template were a fifth of the page.
    href: str = ""
    start: str = ""  # local "09:30"
    end: str = ""
    movable: bool = False  # carries data-appointment and data-time for drag and drop


@dataclass
class Cell:
    row: int
    label: str
    href: str | None  # a bookable start links to booking; anything else does not
    why: str = ""  # what is missing when it is not bookable ("no room free", "not working")
    shown: bool = False  # the reason is printed in the cell, not only read out
    covered: bool = False  # under a card: drawn only as somewhere to drop another card
    drop: str = ""  # for those who may move cards: where one dropped here goes (static/js/board-dnd.js)


@dataclass
class Column:
    label: str
    index: int  # the grid column; the times take the first
    pk: int | None = None  # the practitioner, room or laser of the column
    colour: str = ""  # a practitioner's stripe
    cards: list[Card] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    html: str = ""  # the cells and cards as the page writes them (dayboard_html)


@ability_required("view_schedule")
def day_board(request, day: date | None = None):
    query = board_query(request)
    by, kind = query["by"], query["kind"]
    if by == "device":
        kind = Appointment.Kind.TREATMENT  # a laser's free time is a treatment's
    condition = query.get("condition") if kind == Appointment.Kind.TREATMENT else None
    offer = {"kind": kind, "condition": condition.pk if condition else None}
    if day is None:
        if query.get("date"):
            return redirect(day_url(query["date"], by, offer))
        day = timezone.localdate()
    board = _Board.load(day, by, kind=kind, condition=condition)
    can_book = can(request.user, "book")
    columns = board.columns(can_book=can_book)
    context = {
        "day": day,
        "by": by,
        "kind": kind,
        "form": DayBoardForm(initial={"date": day, "by": by, "kind": kind, "condition": condition}),
        "times": [
            Cell(row, _clock(minute), None) for row, minute in enumerate(board.minutes(), 1) if minute % 60 in (0, 30)
        ],
        "columns": columns[:MAX_COLUMNS],
        "hidden_columns": max(0, len(columns) - MAX_COLUMNS),
        "closure": board.closure,
        "inactive": board.inactive,
        "without_device": board.without_device,
        "previous_url": day_url(day - timedelta(days=1), by, offer),
        "next_url": day_url(day + timedelta(days=1), by, offer),
        "today_url": day_url(timezone.localdate(), by, offer),
        "views": [(value, label, day_url(day, value, offer)) for value, label in DayBoardForm.BY_CHOICES],
        "week_url": week_url(day, by),
        "key": colour_key(),
        "can_book": can_book,
        **live_context(first_day=day, days=1, token=board.fingerprint),
    }
    return render(request, "scheduling/day_board.html", context)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class _Board:
    """What one day holds, read in a fixed number of queries."""

    def __init__(self, day, by, appointments, hours, closure, resources, states=None, kind=None, fingerprint=""):
        self.day, self.by, self.kind = day, by, kind
        # The zone `timezone.localtime` would use, asked once: each call asks it again, and a day's
        # cards made some 800 of those calls.
        self.zone = timezone.get_current_timezone()
        self.states = states or {}  # per practitioner and start: bookable, or what is missing
        self.fingerprint = fingerprint  # what the page's poll compares with (scheduling.views.board.board_changes)
        self.active = [a for a in appointments if a.is_active]
        self.inactive = [a for a in appointments if not a.is_active]
        self.hours = hours
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
    def load(cls, day: date, by: str, *, kind: str = Appointment.Kind.CONSULTATION, condition=None) -> "_Board":
        first, last = day_bounds(day, timezone.get_default_timezone())
        # Read first: a change committed between the two reads makes the next poll fetch the board
        # once more, rather than leave the page showing the old day under the new token.
        token = board_token(first=first, last=last)
        appointments = board_appointments(first=first, last=last)
        hours = list(
            WorkingHours.objects.filter(weekday=day.weekday(), practitioner__active=True)
            .select_related("practitioner__user")
            .order_by("start_time")
        )
        closure = ClinicClosure.objects.filter(start_date__lte=day, end_date__gte=day).first()
        resources = []
        if by in ("room", "device"):
            model = Room if by == "room" else LaserDevice
            used = {getattr(a, f"{by}_id") for a in appointments if a.is_active}
            resources = list(model.objects.filter(active=True) | model.objects.filter(pk__in=used))
        # The slot search's own reads, whatever the columns: a fixed number of queries too.
        if by == "practitioner":
            shown = {h.practitioner_id for h in hours} | {a.practitioner_id for a in appointments if a.is_active}
            states = cell_states(day=day, kind=kind, condition=condition, practitioner_ids=sorted(shown))
        else:
            states = resource_cell_states(
                day=day, by=by, kind=kind, condition=condition, resource_ids=[r.pk for r in resources]
            )
        return cls(day, by, appointments, hours, closure, resources, states, kind, token)

    def minute_of(self, moment: datetime) -> int:
        """Minutes since local midnight of the board's day, clamped to the day."""
        local = moment.astimezone(self.zone)
        if local.date() != self.day:
            return 0 if local.date() < self.day else DAY_MINUTES
        return local.hour * 60 + local.minute

    def minutes(self) -> range:
        return range(self.first, self.last, ROW_MINUTES)

    def columns(self, *, can_book: bool) -> list[Column]:
        if self.by == "practitioner":
            practitioners = {h.practitioner_id: h.practitioner for h in self.hours}
            practitioners.update({a.practitioner_id: a.practitioner for a in self.active})
            keyed = sorted((str(p), p.pk, p.colour) for p in practitioners.values())
        else:
            keyed = [(str(r), r.pk, "") for r in self.resources]
        columns, link = [], appointment_links()
        by_column = defaultdict(list)  # each column's appointments, in time order
        for a in self.active:
            by_column[getattr(a, f"{self.by}_id")].append(a)
        for index, (label, pk, colour) in enumerate(keyed, 2):
            column = Column(label=label, index=index, pk=pk, colour=colour)
            column.cards = [self._card(a, link, can_book=can_book) for a in by_column[pk]]
            taken = {row for card in column.cards for row in range(card.row, card.row + card.span)}
            for row, minute in enumerate(self.minutes(), 1):
                if row not in taken:
                    cell = self._cell(row, minute, label, pk, can_book=can_book)
                elif can_book:  # a card may be dropped onto another's time too: the server says no
                    cell = Cell(row, f"{_clock(minute)} {label}", None, covered=True)
                else:
                    continue  # nothing to drop for those who cannot move cards
                if can_book:  # written here, not in the template: a full day has a thousand cells
                    start = f"{self.day.isoformat()}T{_clock(minute)}"
                    # An ISO date and time, a name from the form's choices and an id: nothing to escape.
                    cell.drop = f' data-drop-start="{start}" data-drop-{self.by}="{int(pk)}"'
                column.cells.append(cell)
            column.html = column_html(column, by=self.by)
            columns.append(column)
        return columns

    def _card(self, appointment: Appointment, link, *, can_book: bool) -> Card:
        start, end = self.minute_of(appointment.start), self.minute_of(appointment.end)
        row = (start - self.first) // ROW_MINUTES + 1
        span = max(1, -(-(end - self.first) // ROW_MINUTES) + 1 - row)
        local_start, local_end = appointment.start.astimezone(self.zone), appointment.end.astimezone(self.zone)
        return Card(
            appointment,
            row,
            span,
            card_css(appointment),
            link(appointment.pk),
            f"{local_start.hour:02d}:{local_start.minute:02d}",
            f"{local_end.hour:02d}:{local_end.minute:02d}",
            movable=can_book and appointment.status in MOVABLE_STATUSES,
        )

    def _cell(self, row: int, minute: int, label: str, pk: int, *, can_book: bool) -> Cell:
        """An empty cell: bookable now with its practitioner, room or laser for the kind of visit
        chosen, or what is missing (`cell_states`, `resource_cell_states`)."""
        text = f"{_clock(minute)} {label}"
        why = self.states.get(pk, {}).get(self._instant(minute), freecells.NOT_WORKING)
        if why == freecells.BOOKABLE:
            return Cell(row, text, self._booking_url(minute, pk) if can_book else None)
        return Cell(row, text, None, why=why, shown=why in SHOWN_REASONS)

    def _instant(self, minute: int) -> datetime:
        """The instant of `minute` on the board's day, worked out once for all its columns."""
        instants = self.__dict__.setdefault("_instants", {})
        if minute not in instants:
            instants[minute] = timezone.make_aware(datetime.combine(self.day, time(minute // 60, minute % 60)))
        return instants[minute]

    def _booking_url(self, minute: int, pk: int) -> str:
        """The booking page at this cell's time, kept to its column's practitioner, room or laser."""
        query = {"start": f"{self.day.isoformat()}T{_clock(minute)}", self.by: pk}
        if self.kind == Appointment.Kind.TREATMENT:
            query["kind"] = self.kind
        if "_book_visit" not in self.__dict__:  # reverse() once per board: a day has hundreds of free cells
            self._book_visit = reverse("scheduling:book_visit")
        return f"{self._book_visit}?{urlencode(query)}"
