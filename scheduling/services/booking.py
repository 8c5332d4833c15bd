"""Booking, rescheduling, cancelling and the status moves of one appointment.

Every caller (API, staff pages, admin, planner) goes through these functions. Each change runs in
one transaction: the service checks the practitioner, room, device and patient for overlaps and
names the conflict; on PostgreSQL exclusion constraints are the last guard against a racing
transaction, and their violation comes back as the same conflict answer.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Max, Q
from django.utils import formats, timezone

from scheduling.availability import epoch, working_intervals
from scheduling.models import Appointment, ClinicClosure, SessionRecord, TimeOff, TreatmentCourse, WorkingHours

from . import notifications
from .errors import BookingConflict, Conflict, IllegalTransition, SchedulingError
from .slots import (
    DEFAULT_VISIT_MINUTES,
    LONGEST_HOLD,
    course_sessions,
    days_apart,
    is_short_prep,
    session_length,
)

ACTIVE = Appointment.ACTIVE_STATUSES
BOOKING_HORIZON = timedelta(days=730)
BOOKABLE_COURSE_STATUSES = (TreatmentCourse.Status.APPROVED, TreatmentCourse.Status.ACTIVE)
# What a placement changes on an existing appointment; its sequence number belongs to _renumber.
_PLACEMENT_FIELDS = [
    "start", "end", "blocked_until", "practitioner", "room", "device", "status", "version",
    "short_prep_acknowledged_by", "short_prep_acknowledged_at", "cancel_requested_at", "updated_at",
]  # fmt: skip
# The sequence-number offset used while renumbering, above any real session number.
_RENUMBER_OFFSET = 1000


def appointment_book(
    *,
    patient,
    kind: str,
    start: datetime,
    practitioner,
    room,
    device=None,
    course=None,
    duration_minutes: int | None = None,
    acknowledge_short_prep: bool = False,
    booked_by=None,
    notes: str = "",
    now: datetime | None = None,
    check_spacing: bool = True,
) -> Appointment:
    """Book one appointment, or raise SchedulingError / BookingConflict saying why not.

    A treatment needs an approved course of the same patient and a laser suited to its condition;
    its length comes from the course's areas. A treatment less than 14 days away needs
    `acknowledge_short_prep`, recorded with who gave it.
    """
    now = now or timezone.now()
    if kind not in Appointment.Kind.values:
        raise SchedulingError("Choose consultation, treatment or review.", field="kind")
    if patient.erased_at is not None:
        raise SchedulingError("This patient's details were erased on request; register them again.", field="patient")
    if kind == Appointment.Kind.TREATMENT:
        if course is None:
            raise SchedulingError("A treatment is booked on a course.", field="course")
        if device is None:
            raise SchedulingError("A treatment needs a laser device.", field="device")
    if course is not None:
        if course.patient_id != patient.pk:
            raise SchedulingError("That course belongs to another patient.", field="course")
        _check_course_bookable(course)
    if kind == Appointment.Kind.TREATMENT:
        length = session_length(course)
        if not length:
            raise SchedulingError(
                "The course has no treatment areas, so its session length is unknown.", field="course"
            )
    else:  # consultations and reviews, also those linked to a course, are visits of their own length
        length = _visit_length(duration_minutes)
    appointment = Appointment(
        kind=kind, patient=patient, course=course, booked_by=booked_by, notes=notes, status=Appointment.Status.BOOKED
    )
    with transaction.atomic():
        _place(
            appointment,
            start=start,
            length=length,
            practitioner=practitioner,
            room=room,
            device=device,
            acknowledge_short_prep=acknowledge_short_prep,
            by=booked_by,
            now=now,
            check_spacing=check_spacing,
        )
        notifications.plan_for_booking(appointment, now=now)
    return appointment


def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime,
    practitioner=None,
    room=None,
    device=None,
    acknowledge_short_prep: bool = False,
    by=None,
    now: datetime | None = None,
    check_spacing: bool = True,
) -> Appointment:
    """Move a booked or confirmed appointment, keeping its length; it needs confirming again."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock and reread the row, so that a cancellation committed meanwhile is not overwritten.
        appointment.refresh_from_db(from_queryset=Appointment.objects.select_for_update())
        if appointment.status not in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED):
            raise IllegalTransition(f"A {appointment.get_status_display().lower()} appointment cannot be moved.")
        if appointment.course_id:
            _check_course_bookable(appointment.course)
        appointment.status = Appointment.Status.BOOKED
        appointment.cancel_requested_at = None  # a request to cancel the old time is answered by the move
        appointment.version += 1
        _place(
            appointment,
            start=start,
            length=appointment.end - appointment.start,
            practitioner=practitioner or appointment.practitioner,
            room=room or appointment.room,
            device=device or appointment.device,
            acknowledge_short_prep=acknowledge_short_prep,
            by=by,
            now=now,
            check_spacing=check_spacing,
        )
        notifications.plan_for_reschedule(appointment, now=now)
    return appointment


def appointment_confirm(*, appointment: Appointment) -> Appointment:
    return _move(appointment, "confirm", Appointment.Status.CONFIRMED)


# How a session flagged for the dermatologist at check-in starts its line in `notes`.
CHECK_IN_FLAG = "Flagged at check-in"


def appointment_check_in(
    *, appointment: Appointment, flags=(), remarks: str = "", by=None, now: datetime | None = None
) -> Appointment:
    """Check a patient in; possible on the day of the appointment only.

    `flags` are what the re-screen found (sun exposure not ruled out, a new contraindication); they
    flag the session for the dermatologist, who decides whether to go ahead. They and any remarks
    are kept with the appointment, with who checked the patient in and when.
    """
    now = now or timezone.now()
    if timezone.localdate(appointment.start) != timezone.localdate(now):
        raise IllegalTransition("Patients are checked in on the day of their appointment.")
    with transaction.atomic():
        appointment = _move(appointment, "check_in", Appointment.Status.CHECKED_IN)
        if flags or remarks:
            when = formats.date_format(timezone.localtime(now), "j M Y H:i")
            who = (by.get_full_name() or by.get_username()) if by else "the desk"
            if flags:
                line = f"{CHECK_IN_FLAG} ({when}, {who}): {'; '.join(flags)}."
                line += f" Remarks: {remarks}" if remarks else ""
            else:
                line = f"Check-in remarks ({when}, {who}): {remarks}"
            appointment.notes = f"{appointment.notes}\n{line}".strip()
            appointment.save(update_fields=["notes", "updated_at"])
    return appointment


def appointment_complete(*, appointment: Appointment, record: dict | None = None) -> Appointment:
    """Complete a checked-in appointment. A treatment keeps a session record: pass its fields as
    `record` (wavelength_nm, fluence_j_cm2, spot_size_mm, pulses, skin_reaction, optional area and
    notes) unless one was recorded already."""
    with transaction.atomic():
        appointment = _move(appointment, "complete", Appointment.Status.COMPLETED)
        if appointment.kind == Appointment.Kind.TREATMENT:
            has_record = SessionRecord.objects.filter(appointment=appointment).exists()
            if record is None and not has_record:
                raise SchedulingError("Record the laser settings to complete a treatment.", field="record")
            if record is not None:
                if has_record:
                    raise SchedulingError("This session already has a record.", field="record")
                fields = dict(record)
                recorded_by = fields.pop("recorded_by", None) or appointment.practitioner
                area = fields.get("area")
                if area is not None and not appointment.course.areas.filter(pk=area.pk).exists():
                    raise SchedulingError(f"{area} is not an area of this course.", field="area")
                SessionRecord.objects.create(appointment=appointment, recorded_by=recorded_by, **fields)
        if appointment.course_id:
            _refresh_course(appointment.course)
        notifications.plan_for_completion(appointment, now=timezone.now())
    return appointment


def appointment_no_show(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """Mark that the patient did not come; possible once the appointment has started."""
    now = now or timezone.now()
    if now < appointment.start:
        raise IllegalTransition("A no-show can be recorded once the appointment has started.")
    with transaction.atomic():
        appointment = _move(appointment, "no_show", Appointment.Status.NO_SHOW)
        if appointment.course_id:
            _renumber(appointment.course)
            _refresh_course(appointment.course)
        notifications.plan_for_no_show(appointment)
    return appointment


def appointment_cancel(*, appointment: Appointment, reason: str = "") -> Appointment:
    """Cancel a booked or confirmed appointment; later sessions of its course move up a number."""
    with transaction.atomic():
        appointment = _move(appointment, "cancel", Appointment.Status.CANCELLED, reason=reason[:200])
        if appointment.course_id:
            _renumber(appointment.course)
            _refresh_course(appointment.course)
        notifications.plan_for_cancellation(appointment, now=timezone.now())
    return appointment


def find_conflicts(
    *, start, end, blocked_until, practitioner_id, room_id, device_id, patient_id, exclude_id=None
) -> list[Conflict]:
    """Every active appointment that holds one of these resources in the time asked for, in one query.

    The query takes every active appointment of these resources that starts in the reach of the
    new one; the exact overlap rules (people over [start, end), kit over [start, blocked_until))
    are applied to that handful of rows here, which keeps the hot query simple to plan.
    """
    holders = Q(practitioner_id=practitioner_id) | Q(patient_id=patient_id) | Q(room_id=room_id)
    if device_id:
        holders |= Q(device_id=device_id)
    rows = (
        Appointment.objects.filter(holders, status__in=ACTIVE, start__gt=start - LONGEST_HOLD, start__lt=blocked_until)
        .exclude(pk=exclude_id or 0)
        .values_list("pk", "practitioner_id", "patient_id", "room_id", "device_id", "start", "end", "blocked_until")
        .order_by("start")
    )
    conflicts = []
    for pk, other_practitioner, other_patient, other_room, other_device, o_start, o_end, o_blocked in rows:
        if o_start < end and o_end > start:
            if other_practitioner == practitioner_id:
                conflicts.append(Conflict("practitioner", pk))
            if other_patient == patient_id:
                conflicts.append(Conflict("patient", pk))
        if o_start < blocked_until and o_blocked > start:
            if other_room == room_id:
                conflicts.append(Conflict("room", pk))
            if device_id and other_device == device_id:
                conflicts.append(Conflict("device", pk))
    return conflicts


def _visit_length(duration_minutes) -> timedelta:
    minutes = DEFAULT_VISIT_MINUTES if duration_minutes is None else duration_minutes
    if not isinstance(minutes, int) or not 5 <= minutes <= 240 or minutes % 5:
        raise SchedulingError(
            "The duration is a whole number of minutes from 5 to 240, in fives.", field="duration_minutes"
        )
    return timedelta(minutes=minutes)


def _check_course_bookable(course) -> None:
    if course.status == TreatmentCourse.Status.PROPOSED:
        raise SchedulingError(
            "This course has not been approved by a dermatologist yet, so its sessions cannot be booked.",
            field="course",
        )
    if course.status not in BOOKABLE_COURSE_STATUSES:
        raise SchedulingError(f"This course is {course.get_status_display().lower()}.", field="course")


def _place(appointment, *, start, length, practitioner, room, device, acknowledge_short_prep, by, now, check_spacing):
    """Validate the time and resources, then save inside one transaction with the conflict guard."""
    if timezone.is_naive(start):
        raise SchedulingError("Give the start time with its UTC offset.", field="start")
    if start <= now:
        raise SchedulingError("That time has already passed.", field="start")
    if start > now + BOOKING_HORIZON:
        raise SchedulingError("Bookings can be made up to two years ahead.", field="start")
    end = start + length
    for resource, field in ((practitioner, "practitioner"), (room, "room"), (device, "device")):
        if resource is not None and not resource.active:
            raise SchedulingError(f"{resource} is not in service.", field=field)
    if device is not None and appointment.course_id:
        if not device.conditions.filter(pk=appointment.course.condition_id).exists():
            raise SchedulingError(f"{device} is not set up for {appointment.course.condition}.", field="device")
    _check_open(practitioner, start, end)
    short_prep = is_short_prep(kind=appointment.kind, start=start, now=now)
    if short_prep and not acknowledge_short_prep:
        raise SchedulingError(
            "This treatment is less than 14 days away, inside the sun-free prep window. Confirm that the "
            "patient has been told and can still prepare.",
            field="acknowledge_short_prep",
        )
    buffer = max(room.turnover_minutes, device.turnover_minutes if device else 0)
    if end + timedelta(minutes=buffer) - start > LONGEST_HOLD:
        raise SchedulingError("An appointment with its turnover cannot last over 24 hours.", field="start")
    appointment.start, appointment.end = start, end
    appointment.blocked_until = end + timedelta(minutes=buffer)
    appointment.practitioner, appointment.room, appointment.device = practitioner, room, device
    # The acknowledgement describes the current time: a move out of the prep window drops it.
    appointment.short_prep_acknowledged_by = by if short_prep else None
    appointment.short_prep_acknowledged_at = now if short_prep else None
    resources = dict(
        start=start,
        end=end,
        blocked_until=appointment.blocked_until,
        practitioner_id=practitioner.pk,
        room_id=room.pk,
        device_id=device.pk if device else None,
        patient_id=appointment.patient_id,
        exclude_id=appointment.pk,
    )
    try:
        with transaction.atomic():
            _lock_resources(resources)
            conflicts = find_conflicts(**resources)
            if conflicts:
                raise BookingConflict(conflicts)
            if appointment.kind == Appointment.Kind.TREATMENT:
                course = TreatmentCourse.objects.select_for_update().get(pk=appointment.course_id)
                _check_course_capacity(course, appointment)
                if check_spacing:
                    _check_spacing(course, appointment)
                if appointment.sequence is None:
                    highest = course_sessions(course).aggregate(n=Max("sequence"))["n"]
                    appointment.sequence = (highest or 0) + 1
            if appointment.pk is None:
                appointment.save()
            else:
                appointment.save(update_fields=_PLACEMENT_FIELDS)
            if appointment.kind == Appointment.Kind.TREATMENT:
                _renumber(appointment.course)
                _refresh_course(appointment.course)
                appointment.refresh_from_db(fields=["sequence"])
    except IntegrityError as error:
        constraint = _violated_constraint(error)
        if constraint and constraint.startswith("appointment_no_overlap"):
            raise BookingConflict(find_conflicts(**resources)) from error
        if constraint == "one_active_appointment_per_course_sequence":
            raise SchedulingError("The course changed while booking; please try again.", field="course") from error
        raise
    return appointment


# One advisory-lock namespace per kind of resource, in the high bits of the 64-bit key.
_LOCK_SPACES = {"practitioner_id": 1, "room_id": 2, "device_id": 3, "patient_id": 4}


def _lock_resources(resources: dict) -> None:
    """On PostgreSQL, queue bookings that touch the same practitioner, room, device or patient.

    Without this, two transactions may both pass the overlap check, insert, and then wait on each
    other's rows inside the exclusion constraints (a deadlock). Transaction-scoped advisory locks,
    always taken in key order, make the check exact; the constraints stay as the last guard.
    SQLite needs none: its IMMEDIATE transactions already run one writer at a time.
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted((space << 48) | resources[field] for field, space in _LOCK_SPACES.items() if resources[field])
    calls = ", ".join(["pg_advisory_xact_lock(%s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", keys)  # noqa: S608 - only placeholders are interpolated


def _violated_constraint(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _check_open(practitioner, start, end) -> None:
    """Refuse a time outside the practitioner's hours, on a closed day or during their time off.

    The usual case, an open day inside working hours, costs one query; the reasons for a refusal
    are looked up only when there is one.
    """
    day = timezone.localdate(start)
    closures = ClinicClosure.objects.filter(start_date__lte=timezone.localdate(end), end_date__gte=day)
    time_off = TimeOff.objects.filter(practitioner=practitioner, start__lt=end, end__gt=start)
    rules = list(
        WorkingHours.objects.filter(practitioner=practitioner, weekday=day.weekday())
        .order_by()  # no join for the model's default ordering
        .annotate(closed=Exists(closures), away=Exists(time_off))
        .values_list("weekday", "start_time", "end_time", "closed", "away")
    )
    closure = closures.first() if not rules or rules[0][3] else None
    if closure:
        raise SchedulingError(f"The clinic is closed on {formats.date_format(day)} ({closure.reason}).", field="start")
    intervals = working_intervals([rule[:3] for rule in rules], [day], timezone.get_default_timezone())
    if not any(s <= epoch(start) and epoch(end) <= e for s, e in intervals):
        raise SchedulingError(f"{practitioner} does not work at that time.", field="start")
    if rules[0][4]:
        off = time_off.first()
        raise SchedulingError(f"{practitioner} is away then{f' ({off.reason})' if off.reason else ''}.", field="start")


def _check_course_capacity(course, appointment) -> None:
    taken = course_sessions(course).exclude(pk=appointment.pk).count()
    if taken >= course.planned_sessions:
        raise SchedulingError(
            f"All {course.planned_sessions} planned sessions of this course are booked or done.", field="course"
        )


def _check_spacing(course, appointment) -> None:
    """Sessions of a course keep at least its minimum interval, in calendar days, between them."""
    reach = course.min_interval + timedelta(days=1)
    neighbours = (
        course_sessions(course)
        .filter(start__gt=appointment.start - reach, start__lt=appointment.start + reach)
        .exclude(pk=appointment.pk)
        .order_by("start")
    )
    for other in neighbours:
        if days_apart(other.start, appointment.start) < course.min_interval_days:
            when = formats.date_format(timezone.localtime(other.start), "j M Y")
            raise SchedulingError(
                f"Sessions of this course are at least {course.min_interval_days} days apart; session "
                f"{other.sequence} is on {when}.",
                field="start",
            )


def _renumber(course) -> None:
    """Number the course's active sessions 1, 2, 3 … in time order.

    Two passes through numbers above any real one, so that no intermediate state repeats a number
    the database keeps unique.
    """
    sessions = list(course_sessions(course).order_by("start", "pk"))
    changed = [(a, n) for n, a in enumerate(sessions, 1) if a.sequence != n]
    for appointment, number in changed:
        appointment.sequence = _RENUMBER_OFFSET + number
        appointment.save(update_fields=["sequence"])
    for appointment, number in changed:
        appointment.sequence = number
        appointment.save(update_fields=["sequence"])


def _refresh_course(course) -> None:
    """An approved course becomes active with its first booking and completed with its last session."""
    if course.status not in BOOKABLE_COURSE_STATUSES:
        return
    counts = course_sessions(course).values_list("status", flat=True)
    done = sum(status == Appointment.Status.COMPLETED for status in counts)
    status = TreatmentCourse.Status.ACTIVE if counts else TreatmentCourse.Status.APPROVED
    if done >= course.planned_sessions:
        status = TreatmentCourse.Status.COMPLETED
    if status != course.status:
        course.status = status
        course.save(update_fields=["status"])


LEGAL_MOVES = {
    "confirm": (Appointment.Status.BOOKED,),
    "check_in": (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED),
    "complete": (Appointment.Status.CHECKED_IN,),
    "no_show": (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED),
    # A checked-in session can still be called off: the dermatologist defers it after the re-screen.
    "cancel": (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED, Appointment.Status.CHECKED_IN),
}


def _move(appointment, move: str, status: str, *, reason: str = "") -> Appointment:
    """Change the status if the row is still in a state that allows `move`, as one locked step."""
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if current.status not in LEGAL_MOVES[move]:
            label = move.replace("_", "-")
            raise IllegalTransition(f"A {current.get_status_display().lower()} appointment cannot be {_PAST[label]}.")
        current.status = status
        fields = ["status", "updated_at"]
        if move == "cancel":
            current.cancel_reason = reason
            current.version += 1
            fields += ["cancel_reason", "version"]
        current.save(update_fields=fields)
    appointment.refresh_from_db()
    return appointment


_PAST = {
    "confirm": "confirmed",
    "check-in": "checked in",
    "complete": "completed",
    "no-show": "marked a no-show",
    "cancel": "cancelled",
}
