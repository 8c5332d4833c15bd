"""The pure interval functions behind slot search."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.availability import (
    BusyIndex,
    clip,
    day_bounds,
    epoch,
    grid_ceil,
    grid_starts,
    instant,
    local_instant,
    merge,
    subtract,
    working_intervals,
)

LONDON = ZoneInfo("Europe/London")


def at(hour, minute=0, day=1):
    return epoch(datetime(2027, 3, day, hour, minute, tzinfo=UTC))


def test_merge_sorts_and_joins_overlapping_and_touching_intervals():
    assert merge([(at(12), at(13)), (at(9), at(10)), (at(10), at(11)), (at(12, 30), at(14)), (at(15), at(15))]) == [
        (at(9), at(11)),
        (at(12), at(14)),
    ]


def test_subtract_cuts_busy_time_out_of_free_time():
    free = [(at(9), at(12)), (at(13), at(17))]
    busy = [(at(8), at(9, 30)), (at(10), at(10, 30)), (at(11, 45), at(13, 15)), (at(16), at(18))]
    assert subtract(free, busy) == [
        (at(9, 30), at(10)),
        (at(10, 30), at(11, 45)),
        (at(13, 15), at(16)),
    ]


def test_busy_index_treats_intervals_as_half_open():
    index = BusyIndex(merge([(at(10), at(11)), (at(13), at(14))]))
    assert index.is_free(at(9), at(10))  # ends as the busy one starts
    assert index.is_free(at(11), at(13))
    assert not index.is_free(at(10, 59), at(11, 30))
    assert not index.is_free(at(9), at(15))
    assert BusyIndex([]).is_free(at(0), at(23))


def test_grid_starts_lie_on_quarter_hours_and_fit_the_length():
    free = [(at(9, 5), at(10, 20))]
    assert list(grid_starts(free, 30 * 60)) == [at(9, 15), at(9, 30), at(9, 45)]
    assert grid_ceil(at(9)) == at(9)


def test_clip_keeps_only_the_window():
    assert clip([(at(8), at(10)), (at(11), at(12)), (at(16), at(18))], (at(9), at(17))) == [
        (at(9), at(10)),
        (at(11), at(12)),
        (at(16), at(17)),
    ]


def test_working_hours_are_wall_clock_times_across_both_dst_changes():
    rules = [(6, time(9), time(17))]  # Sundays 09:00-17:00 in London
    spring = working_intervals(rules, [date(2027, 3, 28)], LONDON)  # clocks go forward this morning
    autumn = working_intervals(rules, [date(2027, 10, 31)], LONDON)  # clocks go back this morning
    winter = working_intervals(rules, [date(2027, 3, 21)], LONDON)
    assert winter == [(at(9, day=21), at(17, day=21))]
    assert spring == [(at(8, day=28), at(16, day=28))]
    assert autumn == [(epoch(datetime(2027, 10, 31, 9, tzinfo=UTC)), epoch(datetime(2027, 10, 31, 17, tzinfo=UTC)))]
    assert working_intervals(rules, [date(2027, 3, 29)], LONDON) == []  # a Monday


def test_local_days_are_23_and_25_hours_long_on_dst_changes():
    start, end = day_bounds(date(2027, 3, 28), LONDON)
    assert end - start == timedelta(hours=23)
    start, end = day_bounds(date(2027, 10, 31), LONDON)
    assert end - start == timedelta(hours=25)


def test_a_wall_clock_time_skipped_by_spring_forward_lands_after_the_gap():
    moment = local_instant(date(2027, 3, 28), time(1, 30), LONDON)
    assert moment.astimezone(LONDON).time() == time(2, 30)


def test_epoch_seconds_round_trip_to_aware_datetimes():
    moment = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert instant(epoch(moment)) == moment
    assert instant(epoch(moment)).astimezone(LONDON).time() == time(2, 30)


def test_busy_index_and_subtract_take_overlapping_intervals_in_start_order():
    # Appointments read in start order: a long one with a short one inside it, then one it overlaps.
    busy = [(at(9), at(12)), (at(10), at(10, 30)), (at(11, 30), at(13))]
    index = BusyIndex(busy)
    assert not index.is_free(at(10, 45), at(11))  # inside the long one, after the short one ended
    assert not index.is_free(at(12, 30), at(14))
    assert index.is_free(at(13), at(14))
    assert index.is_free(at(8), at(9))
    assert subtract([(at(8), at(14))], busy) == [(at(8), at(9)), (at(13), at(14))]
    assert subtract([(at(8), at(14))], busy) == subtract([(at(8), at(14))], merge(busy))
