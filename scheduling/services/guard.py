"""The database side of a booking: the locks, the opening check and the overlap check in one statement;
the one order in which every booking change takes its locks, and the one place that runs a
transaction again when the database broke a deadlock or a serialization failure.

The order of locks (see docs/architecture.md, "The order of locks"). A transaction that changes
bookings takes, and never the other way round:

1. the advisory locks of every practitioner, room, laser and patient it will touch, old and new,
   in ascending key order and in one statement (`lock_resources`, or `lock_and_check` for one
   booking): a plan of many sessions takes all of its locks before its first booking, a move takes
   the resources it leaves as well as those it takes;
2. the appointment rows it changes (`SELECT ... FOR UPDATE`), in id order;
3. the course's row (`course_rules`), last.

A status move that takes no advisory lock (confirm, check-in, cancel, ...) starts at step 2. A lock
already held is taken again at no cost, so a service called inside a plan's transaction finds its
locks held. Whatever still deadlocks (a lock outside this order, such as a foreign key's on the
patient's row) is broken by PostgreSQL, and `retrying` runs the whole transaction again.

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

import functools
import logging
import random
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import DatabaseError, IntegrityError, connection
from django.utils import timezone

from catalogue.models import ClinicClosure, LaserDevice, TimeOff, WorkingHours
from clinic.errors import Conflict, Contention
from clinic.sql import table
from clinical.models import SunExposure
from patients.models import Patient
from scheduling.models import Appointment

from .diary import LONGEST_HOLD

log = logging.getLogger(__name__)

# One advisory-lock namespace per kind of resource, in the high bits of the 64-bit key.
_LOCK_SPACES = {"practitioner": 1, "room": 2, "device": 3, "patient": 4}
# How often a transaction that the database stopped for contention is run in all.
ATTEMPTS = 4
# PostgreSQL's deadlock_detected, serialization_failure and lock_not_available.
_CONTENTION_STATES = {"40P01", "40001", "55P03"}

# Every active appointment of these resources that starts within the longest hold before the new
# one and is still held when it starts: the start index reads only that stretch. Whether it
# overlaps the people's time [start, end) is worked out here too; the kit's [start,
# blocked_until) overlap is the filter itself.
# A hold past its expiry is read too, marked `expired`: it holds nothing, and the booking releases it.
_HOLDERS_SQL = """
SELECT id, practitioner_id, patient_id, room_id, device_id, (start < %s AND "end" > %s) AS people,
    (hold_expires_at IS NOT NULL AND hold_expires_at <= %s) AS expired, start
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
    (SELECT MIN(id) FROM {sun_exposures} WHERE patient_id = %s AND first_day <= %s AND last_day >= %s),
    holders.id, holders.practitioner_id, holders.patient_id, holders.room_id, holders.device_id, holders.people,
    holders.expired
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
    sun_exposure_id: int | None  # planned sun exposure that keeps a treatment off the day (sun.py)
    conflicts: list[Conflict]  # what holds a resource then, as of the statement's start
    expired_holds: list[int]  # held consultations in the way whose hold has expired: to release


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
    sun_kept_off_since: date | None = None,
    now: datetime,
) -> Check:
    """Take the resources' locks (on PostgreSQL) and read the opening facts and the conflicts;
    with `sun_kept_off_since` (a treatment's day less the prep window), the patient's planned sun
    exposure that ended on or after it and began by `first_day`.

    The locks queue bookings that touch the same practitioner, room, laser or patient: without
    them two transactions could both insert and then wait on each other inside the exclusion
    constraints (a deadlock). They are transaction-scoped and always taken in key order. SQLite
    needs none: its IMMEDIATE transactions already run one writer at a time.
    """
    ops = connection.ops
    at = ops.adapt_datetimefield_value
    keys = resource_keys(practitioners=[practitioner_id], rooms=[room_id], devices=[device_id], patients=[patient_id])
    locks = _locks_sql(keys)
    holders_sql, holders_params = _holders(
        start=start, end=end, blocked_until=blocked_until, practitioner_id=practitioner_id, room_id=room_id,
        device_id=device_id, patient_id=patient_id, exclude_id=exclude_id, now=now,
    )  # fmt: skip
    sql = _CHECK_SQL.format(
        closures=table(ClinicClosure),
        time_off=table(TimeOff),
        device_conditions=table(LaserDevice.conditions.through),
        sun_exposures=table(SunExposure),
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
        patient_id if sun_kept_off_since else None,  # no exposure matches a NULL patient
        ops.adapt_datefield_value(first_day),
        ops.adapt_datefield_value(sun_kept_off_since or first_day),
        *keys,
        practitioner_id,
        first_day.weekday(),
        *holders_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    _, _, closed, away, suited, sun_exposure_id, *_ = rows[0]
    hours = dict.fromkeys((_time(row[0]), _time(row[1])) for row in rows if row[0] is not None)
    holders = dict.fromkeys(row[6:] for row in rows if row[6] is not None)
    return Check(
        hours=list(hours),
        closed=bool(closed),
        away=bool(away),
        device_suited=bool(suited),
        sun_exposure_id=sun_exposure_id,
        conflicts=_conflicts(
            holders, practitioner_id=practitioner_id, room_id=room_id, device_id=device_id, patient_id=patient_id
        ),
        expired_holds=[row[0] for row in holders if row[6]],
    )


def release_expired_holds(*, now: datetime, ids=None) -> list[int]:
    """Release the held consultations whose hold has expired by `now` (only those of `ids` when
    given): they free their time and plan no email. A booking calls it after its locks, for the
    expired holds in its way, before its insert, so an expired hold never blocks it; the periodic
    sweep (scheduling.tasks) calls it for all. The rows are locked and read as still held and
    expired, so a hold confirmed meanwhile is left alone. Inside the caller's transaction. Returns
    the ids released."""
    if ids is not None and not ids:
        return []  # the booking's usual case: nothing expired in its way, no statement
    expired = Appointment.objects.filter(status=Appointment.Status.HELD, hold_expires_at__lte=now)
    if ids is not None:
        expired = expired.filter(pk__in=ids)
    released = []
    # Row by row, locked, through save(): the audit trail records each release. Holds are few.
    for hold in expired.select_for_update().order_by("pk"):
        hold.status = Appointment.Status.RELEASED
        hold.save(update_fields=["status", "updated_at"])
        released.append(hold.pk)
    if released:
        log.info("holds released: %s", released)
    return released


def lock_key(kind: str, pk: int) -> int:
    """The advisory-lock key of one practitioner, room, device or patient."""
    return (_LOCK_SPACES[kind] << 48) | pk


def resource_keys(*, practitioners=(), rooms=(), devices=(), patients=()) -> list[int]:
    """The advisory-lock keys of these resources' ids (None skipped), in the order they are taken.

    On SQLite there are none: its IMMEDIATE transactions already run one writer at a time.
    """
    if connection.vendor != "postgresql":
        return []
    ids = {"practitioner": practitioners, "room": rooms, "device": devices, "patient": patients}
    return sorted({lock_key(kind, pk) for kind, pks in ids.items() for pk in pks if pk})


def lock_resources(**resources) -> None:
    """Take the advisory locks of every resource a transaction will touch, in key order, in one
    statement: step 1 of the order of locks, for a transaction that books or moves more than one
    appointment's worth (`resource_keys` takes the same arguments)."""
    keys = resource_keys(**resources)
    if keys:
        with connection.cursor() as cursor:
            cursor.execute(_locks_sql(keys), keys)


def _locks_sql(keys) -> str:
    # The target list is evaluated left to right, so the locks are taken in key order.
    if not keys:
        return "SELECT 1"
    return "SELECT " + ", ".join(f"pg_advisory_xact_lock(%s) AS lock{n}" for n in range(len(keys)))


def retrying(service):
    """Run a booking service's transaction again when the database stopped it for contention.

    A deadlock that PostgreSQL broke, a serialization failure or a lock timeout (`lock_timeout`, when
    set) rolls the whole transaction back,
    so running it again from the start loses nothing and, the other side being done, usually
    succeeds. Only the outermost transaction can start again: called inside a caller's transaction
    (a plan's booking, a test's), the service answers `Contention`, a BookingConflict, and the
    outermost `retrying` runs the caller's whole transaction again. After ATTEMPTS runs the answer
    is the conflict: pages show its message on the form, the API answers 409. Nothing else is run
    again: every other error, and every refusal of the rules, comes back at once.
    """

    @functools.wraps(service)
    def run(*args, **kwargs):
        if not connection.in_atomic_block:
            for attempt in range(1, ATTEMPTS):
                try:
                    return service(*args, **kwargs)
                except (Contention, DatabaseError) as error:
                    if not _contended(error):
                        raise
                log.info("%s stopped for contention (attempt %s of %s); running it again",
                         service.__name__, attempt, ATTEMPTS)  # fmt: skip
                clock.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311  # nosec B311 # a backoff, not a secret
        try:
            return service(*args, **kwargs)
        except DatabaseError as error:
            if _contended(error):
                raise Contention() from error
            raise

    return run


def _contended(error: Exception) -> bool:
    """Whether the database stopped the transaction for contention, not for a fault."""
    if isinstance(error, Contention):
        return True
    # On SQLite a writer waits out the busy timeout for the lock instead; "database is locked" after
    # it is not run again here (it would wait as long again, and again).
    cause = error.__cause__
    return (getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)) in _CONTENTION_STATES


def _time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def find_conflicts(
    *, start, end, blocked_until, practitioner_id, room_id, device_id, patient_id, exclude_id=None, now=None
) -> list[Conflict]:
    """Every active appointment that holds one of these resources in the time asked for, in one query.

    People are busy over [start, end), the room and the laser over [start, blocked_until).
    """
    sql, params = _holders(
        start=start, end=end, blocked_until=blocked_until, practitioner_id=practitioner_id, room_id=room_id,
        device_id=device_id, patient_id=patient_id, exclude_id=exclude_id, now=now or timezone.now(),
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY start, id", params)
        rows = cursor.fetchall()
    return _conflicts(
        [row[:7] for row in rows], practitioner_id=practitioner_id, room_id=room_id, device_id=device_id,
        patient_id=patient_id,
    )  # fmt: skip


def _holders(
    *, start, end, blocked_until, practitioner_id, room_id, device_id, patient_id, exclude_id, now
) -> tuple[str, list]:
    """The query of the active appointments that hold one of these resources then, and its parameters."""
    at = connection.ops.adapt_datetimefield_value
    active = [str(status) for status in Appointment.ACTIVE_STATUSES]
    sql = _HOLDERS_SQL.format(appointments=table(Appointment), active=", ".join(["%s"] * len(active)))
    params = [
        at(end), at(start), at(now),
        practitioner_id, patient_id, room_id, device_id,
        *active,
        at(start - LONGEST_HOLD), at(blocked_until), at(start), exclude_id or 0,
    ]  # fmt: skip
    return sql, params


def _conflicts(rows, *, practitioner_id, room_id, device_id, patient_id) -> list[Conflict]:
    """Name what each holding appointment clashes on."""
    conflicts = []
    for pk, other_practitioner, other_patient, other_room, other_device, people_overlap, expired in rows:
        if expired:
            continue
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


_ERASED_SQL = "SELECT 1 FROM {patients} WHERE id = %s AND erased_at IS NOT NULL"


def patient_erased(patient_id: int) -> bool:
    """Whether the patient's details were erased, as committed now: a booking asks after its locks,
    since an erasure takes the patient's lock too. SQL written once: the ORM's `exists()` took
    0.41-0.46 ms of CPU against 0.10-0.12 ms, on every booking."""
    with connection.cursor() as cursor:
        cursor.execute(_ERASED_SQL.format(patients=table(Patient)), [patient_id])
        return cursor.fetchone() is not None
