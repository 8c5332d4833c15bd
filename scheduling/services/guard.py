"""The database side of a booking: the locks, the opening check and the overlap check in one statement.

Every booking asks the database one thing inside its transaction, as one statement: it takes the
transaction's advisory locks on the practitioner, room, laser and patient (PostgreSQL only), and
reads whether the time is open (the practitioner's working hours that weekday, a clinic closure,
their time off, whether the laser is set up for the course's condition) and which active
appointments hold any of those resources then.

Under READ COMMITTED the statement reads what was committed when it started, so a booking committed
by the transaction that held a lock before this one is not in its answer. The exclusion constraints
see it: the insert that follows fails, and the service names the conflict after the rollback (see
`find_conflicts`). The locks are what keep two such bookings from deadlocking inside the
constraints: the second waits until the first has finished.

It is SQL written once because a measurement pays for it: the same check through the ORM (the locks
as one SQL statement, then the working hours with the day's facts as Exists annotations and the
holders as a queryset: three statements) cost 7.9-8.2 ms of CPU in the booking's process a check
against 0.8 ms for this one statement, and halved the booking benchmark (62 and 63 bookings a second
against 120 and 142, alternating runs of bench/scheduling.py --only booking, December 2026).
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import IntegrityError, connection

from catalogue.models import ClinicClosure, LaserDevice, TimeOff, WorkingHours
from clinic.errors import Conflict
from clinic.sql import table
from scheduling.models import Appointment

from .diary import LONGEST_HOLD

# One advisory-lock namespace per kind of resource, in the high bits of the 64-bit key.
_LOCK_SPACES = {"practitioner": 1, "room": 2, "device": 3, "patient": 4}

# Every active appointment of these resources that starts within the longest hold before the new
# one and is still held when it starts: the start index reads only that stretch. Whether it
# overlaps the people's time [start, end) is worked out here too; the kit's [start,
# blocked_until) overlap is the filter itself.
_HOLDERS_SQL = """
SELECT id, practitioner_id, patient_id, room_id, device_id, (start < %s AND "end" > %s) AS people, start
FROM {appointments}
WHERE (practitioner_id = %s OR patient_id = %s OR room_id = %s OR device_id = %s)
    AND status IN ({active}) AND start > %s AND start < %s AND blocked_until > %s AND id <> %s
"""

# One row per (working hours, holder) pair: usually one row with no holder.
_CHECK_SQL = """
SELECT hours.start_time, hours.end_time,
    EXISTS (SELECT 1 FROM {closures} WHERE start_date <= %s AND end_date >= %s),
    EXISTS (SELECT 1 FROM {time_off} WHERE practitioner_id = %s AND start < %s AND "end" > %s),
    EXISTS (SELECT 1 FROM {device_conditions} WHERE laserdevice_id = %s AND condition_id = %s),
    holders.id, holders.practitioner_id, holders.patient_id, holders.room_id, holders.device_id, holders.people
FROM ({locks}) AS locks
LEFT JOIN {hours} AS hours ON hours.practitioner_id = %s AND hours.weekday = %s
LEFT JOIN ({holders}) AS holders ON 1 = 1
ORDER BY hours.start_time, holders.start, holders.id
"""


@dataclass(frozen=True)
class Check:
    """What decides whether a practitioner can see a patient at a time."""

    hours: list[tuple[time, time]]  # their working hours on the day, wall-clock, in order
    closed: bool  # the clinic is closed on a day the visit touches
    away: bool  # they have time off overlapping the visit
    device_suited: bool  # the laser is set up for the condition asked about
    conflicts: list[Conflict]  # what holds a resource then, as of the statement's start


def lock_and_check(
    *,
    practitioner_id: int,
    room_id: int,
    device_id: int | None,
    patient_id: int,
    condition_id: int | None,
    first_day: date,
    last_day: date,
    start: datetime,
    end: datetime,
    blocked_until: datetime,
    exclude_id: int | None = None,
) -> Check:
    """Take the resources' locks (on PostgreSQL) and read the opening facts and the conflicts.

    The locks queue bookings that touch the same practitioner, room, laser or patient: without
    them two transactions could both insert and then wait on each other inside the exclusion
    constraints (a deadlock). They are transaction-scoped and always taken in key order. SQLite
    needs none: its IMMEDIATE transactions already run one writer at a time.
    """
    ops = connection.ops
    at = ops.adapt_datetimefield_value
    locks, keys = "SELECT 1", []
    if connection.vendor == "postgresql":
        ids = {"practitioner": practitioner_id, "room": room_id, "device": device_id, "patient": patient_id}
        keys = sorted((space << 48) | ids[kind] for kind, space in _LOCK_SPACES.items() if ids[kind])
        # The target list is evaluated left to right, so the locks are taken in key order.
        locks = "SELECT " + ", ".join(f"pg_advisory_xact_lock(%s) AS lock{n}" for n in range(len(keys)))
    holders_sql, holders_params = _holders(
        start=start, end=end, blocked_until=blocked_until, practitioner_id=practitioner_id, room_id=room_id,
        device_id=device_id, patient_id=patient_id, exclude_id=exclude_id,
    )  # fmt: skip
    sql = _CHECK_SQL.format(
        closures=table(ClinicClosure),
        time_off=table(TimeOff),
        device_conditions=table(LaserDevice.conditions.through),
        hours=table(WorkingHours),
        locks=locks,
        holders=holders_sql,
    )
    params = [
        ops.adapt_datefield_value(last_day),
        ops.adapt_datefield_value(first_day),
        practitioner_id,
        at(end),
        at(start),
        device_id,
        condition_id,
        *keys,
        practitioner_id,
        first_day.weekday(),
        *holders_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    _, _, closed, away, suited, *_ = rows[0]
    hours = dict.fromkeys((_time(row[0]), _time(row[1])) for row in rows if row[0] is not None)
    holders = dict.fromkeys(row[5:] for row in rows if row[5] is not None)
    return Check(
        hours=list(hours),
        closed=bool(closed),
        away=bool(away),
        device_suited=bool(suited),
        conflicts=_conflicts(
            holders, practitioner_id=practitioner_id, room_id=room_id, device_id=device_id, patient_id=patient_id
        ),
    )


def _time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def find_conflicts(
    *, start, end, blocked_until, practitioner_id, room_id, device_id, patient_id, exclude_id=None
) -> list[Conflict]:
    """Every active appointment that holds one of these resources in the time asked for, in one query.

    People are busy over [start, end), the room and the laser over [start, blocked_until).
    """
    sql, params = _holders(
        start=start, end=end, blocked_until=blocked_until, practitioner_id=practitioner_id, room_id=room_id,
        device_id=device_id, patient_id=patient_id, exclude_id=exclude_id,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY start, id", params)
        rows = cursor.fetchall()
    return _conflicts(
        [row[:6] for row in rows], practitioner_id=practitioner_id, room_id=room_id, device_id=device_id,
        patient_id=patient_id,
    )  # fmt: skip


def _holders(
    *, start, end, blocked_until, practitioner_id, room_id, device_id, patient_id, exclude_id
) -> tuple[str, list]:
    """The query of the active appointments that hold one of these resources then, and its parameters."""
    at = connection.ops.adapt_datetimefield_value
    active = [str(status) for status in Appointment.ACTIVE_STATUSES]
    sql = _HOLDERS_SQL.format(appointments=table(Appointment), active=", ".join(["%s"] * len(active)))
    params = [
        at(end), at(start),
        practitioner_id, patient_id, room_id, device_id,
        *active,
        at(start - LONGEST_HOLD), at(blocked_until), at(start), exclude_id or 0,
    ]  # fmt: skip
    return sql, params


def _conflicts(rows, *, practitioner_id, room_id, device_id, patient_id) -> list[Conflict]:
    """Name what each holding appointment clashes on."""
    conflicts = []
    for pk, other_practitioner, other_patient, other_room, other_device, people_overlap in rows:
        if people_overlap:
            if other_practitioner == practitioner_id:
                conflicts.append(Conflict("practitioner", pk))
            if other_patient == patient_id:
                conflicts.append(Conflict("patient", pk))
        if other_room == room_id:
            conflicts.append(Conflict("room", pk))
        if device_id and other_device == device_id:
            conflicts.append(Conflict("device", pk))
    return conflicts


def violated_constraint(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)
