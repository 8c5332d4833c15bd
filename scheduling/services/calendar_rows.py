"""The catalogue rows slot search weighs: working hours with their practitioners, time off,
closures, rooms and lasers, for `slots.Calendar.load`; and a course's, for its next session: its
areas' sizes, its latest session's start and its test patch (test_patch.patch_step's answer).

The queries are SQL written once, as the diary's are: building these small queries through the
ORM took several times longer than the database took to answer them, and a one-practitioner
search spent most of its time there. Model instances are made with `Model.from_db`, so a field
a query does not read (a user's email, say) is deferred and loads if asked for, as with `only()`.

Each function returns a `Read`; `fetch` runs several in one round trip on PostgreSQL (the
statements joined, each result read in turn), one after the other on SQLite, which has no trip.
"""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection

from catalogue.models import (
    ClinicClosure,
    Condition,
    LaserDevice,
    Practitioner,
    Room,
    TimeOff,
    TreatmentArea,
    WorkingHours,
)
from clinic.sql import converted, converters, table
from clinical.models import Assessment, SunExposure, TreatmentCourse
from scheduling.availability import dates
from scheduling.models import Appointment

from . import test_patch
from .diary import EPOCH_SQL

_USER_FIELDS = ("id", "username", "first_name", "last_name")  # what a practitioner's name needs
# The fields each read loads, in the model's field order (`Model.from_db` takes them so); any other
# field of the model, one added later included, is deferred and loads if asked for.
_PRACTITIONER_FIELDS = ("id", "user_id", "role", "active", "colour")
_ROOM_FIELDS = ("id", "name", "turnover_minutes", "active")

_HOURS_SQL = """
SELECT h.practitioner_id, h.weekday, h.start_time, h.end_time, p.role, p.colour, {user_columns}
FROM {hours} h JOIN {practitioners} p ON p.id = h.practitioner_id JOIN {users} u ON u.id = p.user_id
WHERE p.active = %s{only_one}
"""
_TIME_OFF_SQL = (
    "SELECT practitioner_id, {start}, {end} FROM {time_off} WHERE start < %s AND {end_column} > %s{only_one}"
)
_CLOSURES_SQL = "SELECT start_date, end_date, reason FROM {closures} WHERE start_date <= %s AND end_date >= %s"
_ROOMS_SQL = "SELECT {columns} FROM {rooms} WHERE active = %s{only_one} ORDER BY name"
_LASERS_SQL = "SELECT {columns} FROM {lasers} d WHERE {terms} ORDER BY d.name"
_SET_UP_FOR_SQL = "d.id IN (SELECT {device} FROM {through} WHERE {condition} = %s)"
_AREA_SIZES_SQL = "SELECT a.size FROM {areas} a JOIN {through} c ON a.id = c.{area} WHERE c.{course} = %s"
# A course's sessions are those of `Appointment.objects.sessions()`: treatments of the course in an
# active status (tests/test_slots_course_reads.py holds the two to the same answers).
_LATEST_SESSION_SQL = (
    "SELECT MAX(start) FROM {appointments} WHERE course_id = %s AND kind = %s AND status IN ({active}){not_ignored}"
)
# What `test_patch.patch_step` reads: the condition's flag, the assessment's skin type and the course's
# latest test patch that happened or is to come.
_PATCH_SQL = """
SELECT c.test_patch_required, a.skin_type, p.id, p.start, p.status, p.patch_result
FROM {courses} t JOIN {conditions} c ON c.id = t.condition_id LEFT JOIN {assessments} a ON a.id = t.assessment_id
LEFT JOIN (SELECT id, start, status, patch_result FROM {appointments}
           WHERE course_id = %s AND kind = %s AND status IN ({held}) ORDER BY start DESC, id DESC LIMIT 1) p ON 1 = 1
WHERE t.id = %s
"""
# A patient's planned sun exposure whose days, or the prep window after them, reach the searched days.
_SUN_SQL = (
    "SELECT first_day, last_day, what FROM {exposures} WHERE patient_id = %s AND first_day <= %s AND last_day >= %s"
)


class Read(NamedTuple):
    sql: str
    params: list
    parse: Callable[[list[tuple]], object]  # the rows into what the caller wants


def fetch(*reads: Read) -> list:
    """What each of `reads` gives, in their order, in one round trip on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            results = []
            for read in reads:
                cursor.execute(read.sql, read.params)
                results.append(cursor.fetchall())
        else:  # psycopg binds the parameters on the client, so one execute can carry every statement
            cursor.execute(";".join(read.sql for read in reads), [p for read in reads for p in read.params])
            results = [cursor.fetchall()]
            while cursor.nextset():
                results.append(cursor.fetchall())
    return [read.parse(rows) for read, rows in zip(reads, results, strict=True)]


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


# The statements depend only on the database and on which filters a read has, so each is
# written once per process: `connection` is a proxy whose every use costs a context-local look-up.
@cache
def _hours_sql(vendor: str, only_one: bool) -> str:
    return _HOURS_SQL.format(
        user_columns=", ".join(f"u.{_quote(name)}" for name in _USER_FIELDS),
        hours=table(WorkingHours),
        practitioners=table(Practitioner),
        users=table(get_user_model()),
        only_one=" AND h.practitioner_id = %s" if only_one else "",
    )


@cache
def _time_off_sql(vendor: str, only_one: bool) -> str:
    epoch = EPOCH_SQL[vendor]
    return _TIME_OFF_SQL.format(
        start=epoch.format("start"),
        end=epoch.format(_quote("end")),
        end_column=_quote("end"),
        time_off=table(TimeOff),
        only_one=" AND practitioner_id = %s" if only_one else "",
    )


@cache
def _closures_sql(vendor: str) -> str:
    return _CLOSURES_SQL.format(closures=table(ClinicClosure))


@cache
def _rooms_sql(vendor: str, only_one: bool) -> str:
    columns = ", ".join(_quote(Room._meta.get_field(name).column) for name in _ROOM_FIELDS)
    return _ROOMS_SQL.format(columns=columns, rooms=table(Room), only_one=" AND id = %s" if only_one else "")


@cache
def _lasers_sql(vendor: str, set_up_for: bool, only_one: bool) -> str:
    terms = ["d.active = %s"]
    if set_up_for:
        through = LaserDevice.conditions.through
        terms.append(
            _SET_UP_FOR_SQL.format(
                device=through._meta.get_field("laserdevice").column,
                through=table(through),
                condition=through._meta.get_field("condition").column,
            )
        )
    if only_one:
        terms.append("d.id = %s")
    return _LASERS_SQL.format(
        columns=", ".join(f"d.{_quote(f.column)}" for f in LaserDevice._meta.concrete_fields),
        lasers=table(LaserDevice),
        terms=" AND ".join(terms),
    )


@cache
def _area_sizes_sql(vendor: str) -> str:
    through = TreatmentCourse.areas.through
    return _AREA_SIZES_SQL.format(
        areas=table(TreatmentArea),
        through=table(through),
        area=_quote(through._meta.get_field("treatmentarea").column),
        course=_quote(through._meta.get_field("treatmentcourse").column),
    )


def working_hours(*, practitioner_id: int | None = None) -> Read:
    """Active practitioners with working hours (only the one with `practitioner_id` when given),
    their users loaded for their names, and their weekly `(weekday, start, end)` rules: a
    `({id: practitioner}, {id: rules})` pair."""
    user_model, alias = get_user_model(), connection.alias
    sql = _hours_sql(connection.vendor, practitioner_id is not None)
    params = [True] + ([practitioner_id] if practitioner_id is not None else [])

    def parse(rows):
        practitioners: dict[int, Practitioner] = {}
        rules: dict[int, list[tuple[int, time, time]]] = {}
        for pk, weekday, start, end, role, colour, *user in rows:
            if pk not in practitioners:
                practitioner = Practitioner.from_db(alias, _PRACTITIONER_FIELDS, [pk, user[0], role, True, colour])
                practitioner.user = user_model.from_db(alias, _USER_FIELDS, user)
                practitioners[pk] = practitioner
                rules[pk] = []
            rules[pk].append((weekday, start, end))
        return practitioners, rules

    return Read(sql, params, parse)


def time_off(*, starts_before: datetime, ends_after: datetime, practitioner_id: int | None = None) -> Read:
    """Time off overlapping (ends_after, starts_before), as (practitioner, start, end) in epoch
    seconds (only that of `practitioner_id` when given)."""
    sql = _time_off_sql(connection.vendor, practitioner_id is not None)
    at = connection.ops.adapt_datetimefield_value
    params = [at(starts_before), at(ends_after)] + ([practitioner_id] if practitioner_id is not None else [])
    return Read(sql, params, list)


def closed_dates(first: date, last: date) -> Read:
    """Closed local dates between `first` and `last` with the reason, a `{date: reason}`."""

    def parse(rows):
        closed = {}
        for start_date, end_date, reason in sorted(rows):
            for day in dates(max(first, start_date), min(last, end_date)):
                closed[day] = reason
        return closed

    at = connection.ops.adapt_datefield_value
    return Read(_closures_sql(connection.vendor), [at(last), at(first)], parse)


def rooms(*, room_id: int | None = None) -> Read:
    """Active rooms by name (only the one with `room_id` when given)."""
    sql, alias = _rooms_sql(connection.vendor, room_id is not None), connection.alias
    params = [True] + ([room_id] if room_id is not None else [])
    return Read(sql, params, lambda rows: [Room.from_db(alias, _ROOM_FIELDS, row) for row in rows])


def lasers(*, condition_id: int | None = None, device_id: int | None = None) -> Read:
    """Active lasers by name: those set up for `condition_id` (all without), only the one with
    `device_id` when given."""
    sql, alias = _lasers_sql(connection.vendor, condition_id is not None, device_id is not None), connection.alias
    params = [True] + [pk for pk in (condition_id, device_id) if pk is not None]
    return Read(sql, params, lambda rows: [LaserDevice.from_db(alias, None, row) for row in rows])


def area_sizes(course_id: int) -> Read:
    """The sizes of the course's treatment areas (small, medium, large), a list."""
    return Read(_area_sizes_sql(connection.vendor), [course_id], lambda rows: [size for (size,) in rows])


def latest_session_start(course_id: int, *, ignore_ids=()) -> Read:
    """When the course's latest session (leaving out `ignore_ids`) starts, or None."""
    active = [str(status) for status in Appointment.ACTIVE_STATUSES]
    sql = _LATEST_SESSION_SQL.format(
        appointments=table(Appointment),
        active=", ".join(["%s"] * len(active)),
        not_ignored=f" AND id NOT IN ({', '.join(['%s'] * len(ignore_ids))})" if ignore_ids else "",
    )
    params = [course_id, str(Appointment.Kind.TREATMENT), *active, *ignore_ids]
    db = connection

    def parse(rows):
        (start,) = rows[0]
        if start is None:
            return None
        return converted(db, [start], converters(db.alias, Appointment, ("start",)))[0]

    return Read(sql, params, parse)


def patch_facts(course_id: int) -> Read:
    """The course's test patch step, a `test_patch.PatchStep`, as `test_patch.patch_step(course)` reads it."""
    held = [str(status) for status in test_patch.PATCH_STATUSES]
    sql = _PATCH_SQL.format(
        courses=table(TreatmentCourse), conditions=table(Condition), assessments=table(Assessment),
        appointments=table(Appointment), held=", ".join(["%s"] * len(held)),
    )  # fmt: skip
    db = connection

    def parse(rows):
        requires, skin_type, patch_id, start, status, result = rows[0]
        if start is not None:
            start = converted(db, [start], converters(db.alias, Appointment, ("start",)))[0]
        needed = test_patch.needs_test_patch(condition_requires=bool(requires), skin_type=skin_type)
        return test_patch.PatchStep(needed, patch_id, start, status or "", result or "")

    return Read(sql, [course_id, str(Appointment.Kind.TEST_PATCH), *held, course_id], parse)


def sun_exposures(patient_id: int, *, first: date, last: date, prep: timedelta) -> Read:
    """The patient's planned sun exposure that keeps treatments off a day of `first` .. `last`
    (its days and the `prep` after them), as (first day, last day, what) in order."""
    db = connection
    at = db.ops.adapt_datefield_value

    def parse(rows):
        columns = converters(db.alias, SunExposure, ("first_day", "last_day", "what"))
        return sorted(converted(db, row, columns) for row in rows)

    sql = _SUN_SQL.format(exposures=table(SunExposure))
    return Read(sql, [patient_id, at(last), at(first - prep)], parse)
