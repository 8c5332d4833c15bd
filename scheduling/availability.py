"""Pure interval arithmetic for availability: no ORM, no clock, no settings.

An instant is a whole number of seconds since the Unix epoch (UTC): the slot sweep compares and
adds thousands of them, and integers do that several times faster than aware datetimes. Convert
with `epoch()` and `instant()` at the edges. An interval is a `(start, end)` pair, half-open:
`[start, end)`. Lists of intervals handed between these functions are sorted by start and do not
overlap ("normalised"), which `merge` produces from any list; busy lists given to `BusyIndex` and
`subtract` need only be sorted by start, as appointments read in start order are.
"""

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

Interval = tuple[int, int]

GRID = 15 * 60  # seconds


def epoch(moment: datetime) -> int:
    """An aware datetime as whole epoch seconds."""
    return int(moment.timestamp())


def instant(seconds: int) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)


# Every grid step of a day (100 of them: 25 hours on an autumn DST day), as durations to add.
_GRID_STEPS = tuple(timedelta(seconds=GRID * k) for k in range(100))


def instants() -> Callable[[int], datetime]:
    """A converter of epoch seconds to aware UTC datetimes, like `instant`, for a run of starts in
    time order: one conversion per day, then an addition per grid start (a fifth of the cost). A
    closure, not a class with `__call__`: a search calls it for every slot it returns."""
    origin, origin_instant, reach = 0, instant(0), GRID * len(_GRID_STEPS)

    def to_instant(seconds: int) -> datetime:
        nonlocal origin, origin_instant
        offset = seconds - origin
        if 0 <= offset < reach and not offset % GRID:
            return origin_instant + _GRID_STEPS[offset // GRID]
        origin, origin_instant = seconds, instant(seconds)
        return origin_instant

    return to_instant


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and join overlapping or touching intervals; drop empty ones."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(free: list[Interval], busy: list[Interval]) -> list[Interval]:
    """The parts of normalised `free` not covered by `busy`, in one sweep.

    `busy` need only be sorted by start: overlapping intervals (appointments read in start order)
    are fine, because the sweep carries the furthest end seen so far."""
    result: list[Interval] = []
    j = 0
    for start, end in free:
        while j < len(busy) and busy[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < len(busy) and busy[k][0] < end:
            if busy[k][0] > cursor:
                result.append((cursor, busy[k][0]))
            cursor = max(cursor, busy[k][1])
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


class BusyIndex:
    """Answers "is this resource free over [start, end)?" in O(log n) for non-empty busy intervals
    sorted by start. They may overlap, so appointments read in start order need no merging."""

    __slots__ = ("_reach", "_starts")

    def __init__(self, busy: list[Interval]):
        self._starts = [s for s, _ in busy]
        # The furthest any interval up to each position reaches.
        self._reach = list(accumulate((e for _, e in busy), max))

    def is_free(self, start: int, end: int) -> bool:
        # Of the intervals starting before `end`, one overlaps exactly when the furthest reaches past `start`.
        i = bisect_left(self._starts, end) - 1
        return i < 0 or self._reach[i] <= start

    def free_stretch(self, start: int, end: int) -> tuple[float, float] | None:
        """The whole free stretch around [start, end) as (from, until), or None if that is busy."""
        i = bisect_left(self._starts, end) - 1
        if i >= 0 and self._reach[i] > start:
            return None
        free_from = self._reach[i] if i >= 0 else -math.inf
        return free_from, self._starts[i + 1] if i + 1 < len(self._starts) else math.inf


def local_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The instant a wall clock in `tz` shows `clock` on `day`.

    A time skipped by a spring-forward change is read with the offset before the change, so it
    lands just after the gap (01:30 on the change day in London becomes 02:30 BST); a repeated
    autumn time takes its first occurrence.
    """
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants at which a local day starts and ends (23 or 25 hours long on DST days)."""
    return local_instant(day, time(0), tz), local_instant(day + timedelta(days=1), time(0), tz)


def dates(first: date, last: date) -> Iterator[date]:
    """Every date from `first` to `last`, inclusive."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def grid_ceil(moment: int, grid: int = GRID) -> int:
    """The first grid line at or after `moment`.

    The grid is laid in UTC from the epoch. Every time zone in use is offset from UTC by a whole
    number of quarter hours, so a 15-minute grid in UTC is also the :00/:15/:30/:45 grid on the
    clinic clock.
    """
    return -(-moment // grid) * grid


def grid_starts(free: list[Interval], length: int, grid: int = GRID) -> list[int]:
    """Every grid-aligned start at which `length` seconds fit inside one of the `free` intervals."""
    return [start for low, high in free for start in range(grid_ceil(low, grid), high - length + 1, grid)]


def weekly_hours(rules: Iterable[tuple[int, time, time]]) -> dict[int, list[tuple[time, time]]]:
    """Weekly `(weekday, start_time, end_time)` wall-clock rules grouped by weekday, once for a
    sweep that asks `day_hours` day after day."""
    by_weekday: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in rules:
        by_weekday.setdefault(weekday, []).append((start, end))
    return by_weekday


def day_hours(by_weekday: dict[int, list[tuple[time, time]]], day: date, tz: ZoneInfo) -> list[Interval]:
    """The instants `weekly_hours` cover on `day`, each wall-clock time read as `local_instant` reads it."""
    hours = by_weekday.get(day.weekday())
    if not hours:
        return []
    # An aware datetime's timestamp() is its UTC instant's: the same as local_instant's, one object fewer.
    at = datetime.combine
    return merge(
        (int(at(day, start, tzinfo=tz).timestamp()), int(at(day, end, tzinfo=tz).timestamp())) for start, end in hours
    )


def working_intervals(rules: Iterable[tuple[int, time, time]], days: Iterable[date], tz: ZoneInfo) -> list[Interval]:
    """The instants covered on `days` by weekly `(weekday, start_time, end_time)` wall-clock rules."""
    by_weekday = weekly_hours(rules)
    return merge(interval for day in days for interval in day_hours(by_weekday, day, tz))


def clip(intervals: list[Interval], bounds: Interval) -> list[Interval]:
    """The parts of normalised `intervals` inside `bounds`."""
    low, high = bounds
    return [(max(s, low), min(e, high)) for s, e in intervals if e > low and s < high]
