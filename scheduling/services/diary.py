"""The appointments that slot search and planning weigh: read in one query per window, as the
sweep needs them, into busy intervals by practitioner, room, laser and patient.

The query is SQL written once: slot search and planning run it for every window they search,
and building it through the ORM took longer than the database took to answer it.
"""

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import itemgetter

from django.db import connection
from django.utils import timezone

from clinic.sql import table
from scheduling.availability import BusyIndex, Interval, day_bounds
from scheduling.models import Appointment

# No appointment holds a resource longer than this (session plus turnover). Knowing it lets every
# overlap query bound `start` from both sides, so the start index reads only the window.
LONGEST_HOLD = timedelta(hours=24)
_LONGEST_HOLD_SECONDS = int(LONGEST_HOLD.total_seconds())

# A timestamp column as whole epoch seconds, in SQL for the query's placeholders (a literal % is
# doubled). On PostgreSQL, date_part() is a double precision, which casts to bigint several times
# faster than the numeric that EXTRACT returns: it halves the time spent on a window's rows.
EPOCH_SQL = {
    "postgresql": "CAST(date_part('epoch', {}) AS bigint)",
    "sqlite": "CAST(strftime('%%s', {}) AS integer)",
}

_BUSY_SQL = """
SELECT practitioner_id, room_id, device_id, patient_id, {start}, {end}, {blocked_until}
FROM {appointments}
WHERE status IN ({active}) AND (hold_expires_at IS NULL OR hold_expires_at > %s) AND {where}{not_ignored}
ORDER BY start
"""
# One span: the appointments that can hold anything in [span start, span end + turnover).
_SPAN_SQL = "(start < %s AND start > %s AND blocked_until > %s)"


def busy_rows(
    spans: list[tuple[datetime, datetime]],
    *,
    turnover: timedelta,
    ignore_ids=(),
    whose: "Whose | None" = None,
    now: datetime | None = None,
) -> Iterator[tuple[int, int, int | None, int, int, int, int]]:
    """Every active appointment that can hold a practitioner, room, laser or patient during the
    `spans` (a slot at a span's end still keeps its room and laser for `turnover`), or only those
    of `whose`, as (practitioner, room, device, patient, start, end, blocked until) in start order,
    with the times in epoch seconds; a hold expired by `now` (the search's, the present by
    default) holds nothing. The query runs when the first row is asked for; its cursor
    closes once the rows are all read or the iterator is dropped."""
    if not spans:
        return
    at = connection.ops.adapt_datetimefield_value
    epoch = EPOCH_SQL[connection.vendor]
    active = [str(status) for status in Appointment.ACTIVE_STATUSES]
    in_spans = " OR ".join([_SPAN_SQL] * len(spans))
    span_params = []
    for start, end in spans:
        span_params += [at(end + turnover), at(start - LONGEST_HOLD), at(start)]
    if whose is None:
        where, where_params = f"({in_spans})", span_params
    elif connection.vendor == "sqlite":
        where, where_params = whose.sql_with_spans(in_spans, span_params)
    else:
        where, where_params = f"({in_spans}) AND ({whose.sql()})", span_params + whose.params()
    sql = _BUSY_SQL.format(
        start=epoch.format("start"),
        end=epoch.format('"end"'),
        blocked_until=epoch.format("blocked_until"),
        appointments=table(Appointment),
        active=", ".join(["%s"] * len(active)),
        where=where,
        not_ignored=f" AND id NOT IN ({', '.join(['%s'] * len(ignore_ids))})" if ignore_ids else "",
    )
    params = [*active, at(now or timezone.now()), *where_params, *ignore_ids]  # a hold past its expiry holds nothing
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(500):
            yield from rows


@dataclass(frozen=True)
class Whose:
    """The appointments a search of a few practitioners needs read: theirs, the patient's, and
    those of the rooms and lasers it tries first. Other rooms and lasers are read only if asked
    about (see `Diary`)."""

    practitioner_ids: tuple[int, ...]
    patient_id: int | None
    room_ids: tuple[int, ...]
    device_ids: tuple[int, ...]

    def sql(self) -> str:
        terms = [f"{column} IN ({', '.join(['%s'] * len(ids))})" for column, ids in self._columns() if ids]
        return " OR ".join(terms) or "1 = 0"

    def params(self) -> list[int]:
        return [pk for _, ids in self._columns() for pk in ids]

    def sql_with_spans(self, spans: str, span_params: list) -> tuple[str, list]:
        """These appointments in the spans with each resource's terms beside the spans', so that
        SQLite reads each resource's rows from its own (resource, start) index (`ensure_sqlite_indexes`)
        instead of every row of the window: on the peer comparison's workload with 10,000
        appointments that halves the read, 1.1 to 0.5 ms. PostgreSQL plans `sql()` well."""
        columns = [(column, ids) for column, ids in self._columns() if ids]
        terms = [f"({column} IN ({', '.join(['%s'] * len(ids))}) AND ({spans}))" for column, ids in columns]
        return f"({' OR '.join(terms) or '1 = 0'})", [p for _, ids in columns for p in (*ids, *span_params)]

    def _columns(self):
        patients = (self.patient_id,) if self.patient_id is not None else ()
        return [("practitioner_id", self.practitioner_ids), ("patient_id", patients), ("room_id", self.room_ids),
                ("device_id", self.device_ids)]  # fmt: skip


class Diary:
    """The busy intervals of a window, by practitioner, room and laser, and the patient's.

    `rows` are (practitioner, room, device, patient, start, end, blocked until) in start order, read
    in as the sweep moves on (a day past what it needs at first, twice as far at each later read), so
    a search that stops early reads few. A room's or laser's index is built from the rows read so
    far the first time the sweep asks about it after a read.

    With `whose`, `rows` are only those appointments: a search of one practitioner reads their
    own, the patient's and those of the first room and laser it tries, a tenth of a
    ten-practitioner window. The first time the sweep asks about another room or laser (the first
    ones were taken), `read_holds()` reads every room's and laser's appointments of the window."""

    def __init__(
        self,
        rows: Iterator[tuple],
        *,
        patient_id: int | None,
        turnover: int,
        whose: Whose | None = None,
        read_holds: Callable[[], Iterator[tuple]] | None = None,
    ):
        self._rows = rows
        self._patient_id = patient_id
        self._turnover = turnover  # seconds a room or laser can stay busy after a session ends
        self._read_to = -1  # every row starting before this instant has been read
        # How far past what the sweep needs the next read goes; a narrowed read is small: all at once.
        self._ahead = math.inf if whose else 24 * 3600
        self._by_practitioner: dict[int, list[tuple]] = defaultdict(list)
        self._by_room: dict[int, list[tuple]] = defaultdict(list)
        self._by_device: dict[int | None, list[tuple]] = defaultdict(list)
        self._patients: list[tuple] = []
        # The rooms and lasers whose appointments `rows` hold in full (None: every one).
        self._held = (set(whose.room_ids), set(whose.device_ids)) if whose else None
        self._read_holds = read_holds
        self._holds_from_rows = True  # until `read_holds` has read them all
        self._index()

    def read_to(self, moment: int) -> None:
        """Read in every appointment that can bear on a session ending by `moment`."""
        if moment + self._turnover < self._read_to:
            return
        self._read_to = moment + self._turnover + self._ahead
        self._ahead *= 2  # so a long sweep reads, and builds each index, a few times only
        holds = self._holds_from_rows
        for row in self._rows:
            self._by_practitioner[row[0]].append(row)
            if holds:
                self._by_room[row[1]].append(row)
                self._by_device[row[2]].append(row)
            if row[3] == self._patient_id:
                self._patients.append(row)
            if row[4] >= self._read_to:
                break
        else:
            self._read_to = math.inf
        self._index()

    @property
    def all_read(self) -> bool:
        """Whether the rows are all read in, so that the indexes no longer change (a narrowed
        read holds its first room and laser in full; the others are read all at once)."""
        return self._read_to == math.inf

    def _index(self):
        self.rooms = _BuiltOnUse(lambda pk: self._hold_index(pk, device=False))
        self.devices = _BuiltOnUse(lambda pk: self._hold_index(pk, device=True))
        self.patient = BusyIndex(_sessions(self._patients))
        self.patient_busy = bool(self._patients)  # whether the patient has anything else on at all

    def _hold_index(self, pk, *, device: bool) -> BusyIndex:
        if self._held is not None and pk not in self._held[device]:
            self._read_all_holds()
        return BusyIndex(_holds((self._by_device if device else self._by_room).get(pk, [])))

    def _read_all_holds(self) -> None:
        """Every room's and laser's appointments of the window, in place of the narrowed read's."""
        self._by_room, self._by_device = defaultdict(list), defaultdict(list)
        for row in self._read_holds():
            self._by_room[row[1]].append(row)
            self._by_device[row[2]].append(row)
        self._held, self._holds_from_rows = None, False
        self._index()

    def sessions(self, practitioner_id: int, span: Interval) -> list[Interval]:
        """The practitioner's sessions that may overlap `span` (read in), in start order."""
        rows = self._by_practitioner.get(practitioner_id, [])
        first = bisect_left(rows, span[0] - _LONGEST_HOLD_SECONDS, key=_START)
        return _sessions(rows[first : bisect_left(rows, span[1], key=_START)])


_START = itemgetter(4)


def _sessions(rows) -> list[Interval]:
    """When the practitioner and the patient are busy: the session itself."""
    return [(start, end) for _, _, _, _, start, end, _ in rows]


def _holds(rows) -> list[Interval]:
    """When the room and the laser are busy: the session and its turnover."""
    return [(start, blocked_until) for _, _, _, _, start, _, blocked_until in rows]


class _BuiltOnUse(dict):
    """A value per key, built by `build(key)` when first looked up."""

    def __init__(self, build: Callable):
        super().__init__()
        self._build = build

    def __missing__(self, key):
        value = self[key] = self._build(key)
        return value


def window_spans(window: tuple[datetime, datetime], days: list[date] | None) -> list[tuple[datetime, datetime]]:
    """The stretches of `window` on local `days` (all of it without), neighbouring days joined."""
    if days is None:
        return [window]
    tz = timezone.get_default_timezone()
    spans: list[tuple[datetime, datetime]] = []
    for day in sorted(days):
        start, end = day_bounds(day, tz)
        start, end = max(start, window[0]), min(end, window[1])
        if start >= end:
            continue
        if spans and spans[-1][1] >= start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


# On SQLite only, an index by practitioner, room and laser with start, for `Whose.sql_with_spans`.
# PostgreSQL does without: its exclusion constraints' GiST indexes serve those columns, and a booking
# there would pay for three more indexes on every write. So they are not in the model's state; and
# because SQLite rebuilds a table to alter it (dropping indexes the state does not know), they are
# made again after every `migrate` instead of once by a migration.
_SQLITE_INDEXES = ("practitioner_id", "room_id", "device_id")


def ensure_sqlite_indexes(*, using="default", **kwargs) -> None:
    from django.db import connections

    db = connections[using]
    if db.vendor != "sqlite":
        return
    with db.cursor() as cursor:
        for column in _SQLITE_INDEXES:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS appointment_{column}_start ON {table(Appointment)} ({column}, start)"
            )
