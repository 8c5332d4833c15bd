"""Booking, rescheduling, cancelling and the status moves of one appointment.

Every caller (API, staff pages, admin, planner) goes through these functions. Each change runs in
one transaction: the service checks the practitioner, room, device and patient for overlaps and
names the conflict; on PostgreSQL exclusion constraints are the last guard against a racing
transaction, and their violation comes back as the same conflict answer. Each takes its locks in
the one order guard.py describes, and a transaction the database stops for contention anyway is
run again (`guard.retrying`), or answered as a conflict.
"""

from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import formats, timezone

from catalogue.models import ClinicClosure, TimeOff
from catalogue.outcome import check_score
from clinic.errors import BookingConflict, Contention, IllegalTransition, SchedulingError
from scheduling import events
from scheduling.availability import epoch, working_intervals
from scheduling.models import Appointment, SessionRecord

from . import consent_gate, course_rules, guard, sun, test_patch
from .diary import LONGEST_HOLD
from .prep import PREP_WINDOW, is_short_prep
from .slots import DEFAULT_VISIT_MINUTES, session_length
from .transitions import status_move

BOOKING_HORIZON = timedelta(days=730)
# What a placement changes on an existing appointment.
_PLACEMENT_FIELDS = [
    "start", "end", "blocked_until", "practitioner", "room", "device", "status", "version",
    "short_prep_acknowledged_by", "short_prep_acknowledged_at", "sun_exposure_acknowledged_by",
    "sun_exposure_acknowledged_at", "cancel_requested_at", "updated_at",
]  # fmt: skip

# Refused to a booking for a patient whose details were erased on request.
ERASED = "This patient's details were erased on request; register them again."


@guard.retrying
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
    acknowledge_sun_exposure: bool = False,
    booked_by=None,
    notes: str = "",
    now: datetime | None = None,
    check_spacing: bool = True,
    hold_until: datetime | None = None,
) -> Appointment:
    """Book one appointment, or raise SchedulingError / BookingConflict saying why not.

    A treatment needs an approved course of the same patient and a laser suited to its condition;
    its length comes from the course's areas. A treatment less than 14 days away needs
    `acknowledge_short_prep`, one on a day the patient's planned sun exposure keeps off (see sun.py)
    `acknowledge_sun_exposure`, each recorded with who gave it. With `hold_until`, a consultation is
    held until then instead (scheduling.services.holds).
    """
    now = now or timezone.now()
    if kind not in Appointment.Kind.values:
        raise SchedulingError("Choose consultation, treatment, review or test patch.", field="kind")
    if hold_until is not None and (kind != Appointment.Kind.CONSULTATION or hold_until <= now):
        raise SchedulingError("Only a consultation is held, and until a time to come.", field="kind")
    if patient.erased_at is not None:
        raise SchedulingError(ERASED, field="patient")
    if kind in Appointment.LASER_KINDS:
        what = Appointment.Kind(kind).label.lower()
        if course is None:
            raise SchedulingError(f"A {what} is booked on a course.", field="course")
        if device is None:
            raise SchedulingError(f"A {what} needs a laser device.", field="device")
    if course is not None:
        if course.patient_id != patient.pk:
            raise SchedulingError("That course belongs to another patient.", field="course")
        course_rules.check_course_bookable(course)
    if kind == Appointment.Kind.TREATMENT:
        length = session_length(course)
        if not length:
            raise SchedulingError(
                "The course has no treatment areas, so its session length is unknown.", field="course"
            )
    elif kind == Appointment.Kind.TEST_PATCH:
        length = test_patch.patch_length()
    else:  # consultations and reviews, also those linked to a course, are visits of their own length
        length = _visit_length(duration_minutes)
    status = Appointment.Status.BOOKED if hold_until is None else Appointment.Status.HELD
    appointment = Appointment(
        kind=kind, patient=patient, course=course, booked_by=booked_by, notes=notes, status=status,
        hold_expires_at=hold_until,
    )  # fmt: skip
    with _booking_transaction(appointment):
        _place(
            appointment,
            start=start,
            length=length,
            practitioner=practitioner,
            room=room,
            device=device,
            acknowledge_short_prep=acknowledge_short_prep,
            acknowledge_sun_exposure=acknowledge_sun_exposure,
            by=booked_by,
            now=now,
            check_spacing=check_spacing,
        )
        events.announce(appointment, events.BOOKED if hold_until is None else events.HELD, now=now)
    return appointment


@guard.retrying
def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime,
    practitioner=None,
    room=None,
    device=None,
    acknowledge_short_prep: bool = False,
    acknowledge_sun_exposure: bool = False,
    by=None,
    now: datetime | None = None,
    check_spacing: bool = True,
    caller_rule: Callable[[Appointment], None] | None = None,
) -> Appointment:
    """Move a booked or confirmed appointment, keeping its length; it needs confirming again (and
    acknowledging again, as a booking, inside the prep window or planned sun exposure).
    `caller_rule` (a patient's online limits, say) weighs the locked, reread row and raises a
    SchedulingError to refuse: checked under the locks, two moves at once cannot both pass it."""
    now = now or timezone.now()
    with _booking_transaction(appointment):
        # The order of locks (guard.py): the resources the move leaves and those it takes, then the
        # row, locked and reread, so that a cancellation committed meanwhile is not overwritten.
        held = Appointment.objects.values_list("practitioner_id", "room_id", "device_id").get(pk=appointment.pk)
        guard.lock_resources(
            practitioners=[held[0], _pk(practitioner)], rooms=[held[1], _pk(room)], devices=[held[2], _pk(device)],
            patients=[appointment.patient_id],
        )  # fmt: skip
        appointment.refresh_from_db(from_queryset=Appointment.objects.select_for_update())
        if (appointment.practitioner_id, appointment.room_id, appointment.device_id) != held:
            raise Contention()  # moved meanwhile off resources this one has not locked: start again
        if appointment.status not in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED):
            raise IllegalTransition(f"A {appointment.get_status_display().lower()} appointment cannot be moved.")
        if caller_rule is not None:
            caller_rule(appointment)
        if appointment.course_id:
            course_rules.check_course_bookable(appointment.course)
        left = events.Placement.of(appointment)
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
            acknowledge_sun_exposure=acknowledge_sun_exposure,
            by=by,
            now=now,
            check_spacing=check_spacing,
        )
        events.announce(appointment, events.RESCHEDULED, now=now, left=left)
    return appointment


@guard.retrying
def appointment_confirm(*, appointment: Appointment) -> Appointment:
    return status_move(appointment, "confirm", Appointment.Status.CONFIRMED)


def check_in_day(appointment: Appointment, *, now: datetime) -> bool:
    """Whether `now` falls on the appointment's day (clinic time): check-in is possible only then.
    The appointment page offers the button by this rule, and the service refuses by it."""
    return timezone.localdate(appointment.start) == timezone.localdate(now)


def no_show_due(appointment: Appointment, *, now: datetime) -> bool:
    """Whether the appointment has started, so that a no-show can be recorded."""
    return now >= appointment.start


@guard.retrying
def appointment_check_in(
    *, appointment: Appointment, flags=(), remarks: str = "", by=None, now: datetime | None = None
) -> Appointment:
    """Check a patient in; possible on the day of the appointment only.

    `flags` are what the re-screen found (sun exposure not ruled out, a new contraindication); they
    flag the session for the dermatologist, who decides whether to go ahead. They and any remarks
    are kept with the appointment, with who checked the patient in and when.
    """
    now = now or timezone.now()
    if not check_in_day(appointment, now=now):
        raise IllegalTransition("Patients are checked in on the day of their appointment.")
    test_patch.check_in_allowed(appointment)
    consent_gate.require_check_in_consent(appointment, now=now)  # a treatment needs its consent signed
    with transaction.atomic():
        appointment = status_move(appointment, "check_in", Appointment.Status.CHECKED_IN)
        if flags or remarks:
            when = formats.date_format(timezone.localtime(now), "j M Y H:i")
            who = (by.get_full_name() or by.get_username()) if by else "the desk"
            if flags:
                line = f"{Appointment.CHECK_IN_FLAG} ({when}, {who}): {'; '.join(flags)}."
                line += f" Remarks: {remarks}" if remarks else ""
            else:
                line = f"Check-in remarks ({when}, {who}): {remarks}"
            appointment.notes = f"{appointment.notes}\n{line}".strip()
            appointment.save(update_fields=["notes", "updated_at"])
    return appointment


@guard.retrying
def appointment_complete(*, appointment: Appointment, record: dict | None = None) -> Appointment:
    """Complete a checked-in appointment. A treatment keeps a session record: pass its fields as
    `record` (wavelength_nm, fluence_j_cm2, spot_size_mm, pulses, skin_reaction, optional area,
    outcome_score on the condition's scale and notes) unless one was recorded already."""
    with transaction.atomic():
        appointment = status_move(appointment, "complete", Appointment.Status.COMPLETED)
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
                check_score(condition=appointment.course.condition, score=fields.get("outcome_score"))
                SessionRecord.objects.create(appointment=appointment, recorded_by=recorded_by, **fields)
        if appointment.course_id:
            course_rules.refresh_course(appointment.course)
        events.announce(appointment, events.COMPLETED, now=timezone.now())
    return appointment


@guard.retrying
def appointment_no_show(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """Mark that the patient did not come; possible once the appointment has started."""
    now = now or timezone.now()
    if not no_show_due(appointment, now=now):
        raise IllegalTransition("A no-show can be recorded once the appointment has started.")
    with transaction.atomic():
        appointment = status_move(appointment, "no_show", Appointment.Status.NO_SHOW)
        if appointment.course_id:
            course_rules.refresh_course(appointment.course)
        events.announce(appointment, events.NO_SHOW, now=timezone.now())
    return appointment


@guard.retrying
def appointment_cancel(*, appointment: Appointment, reason: str = "") -> Appointment:
    """Cancel a booked or confirmed appointment; later sessions of its course move up a number
    (the numbers are counted, see scheduling.models, so nothing is renumbered)."""
    with transaction.atomic():
        appointment = status_move(appointment, "cancel", Appointment.Status.CANCELLED, reason=reason[:200])
        if appointment.course_id:
            course_rules.refresh_course(appointment.course)
        events.announce(appointment, events.CANCELLED, now=timezone.now())
    return appointment


def _pk(resource) -> int | None:
    return resource.pk if resource is not None else None


def _visit_length(duration_minutes) -> timedelta:
    minutes = DEFAULT_VISIT_MINUTES if duration_minutes is None else duration_minutes
    if not isinstance(minutes, int) or not 5 <= minutes <= 240 or minutes % 5:
        raise SchedulingError(
            "The duration is a whole number of minutes from 5 to 240, in fives.", field="duration_minutes"
        )
    return timedelta(minutes=minutes)


@contextmanager
def _booking_transaction(appointment):
    """The transaction of one booking change (a savepoint inside a caller's transaction).

    What the database refuses comes back, after the rollback, as the service's own answer: an
    overlap another transaction committed first as the conflict, naming what holds the time.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        constraint = guard.violated_constraint(error)
        if constraint and constraint.startswith("appointment_no_overlap"):
            raise BookingConflict(guard.find_conflicts(**_holdings(appointment))) from error
        raise


def _holdings(appointment) -> dict:
    """What the appointment would hold, as find_conflicts asks about it."""
    return dict(
        start=appointment.start,
        end=appointment.end,
        blocked_until=appointment.blocked_until,
        practitioner_id=appointment.practitioner_id,
        room_id=appointment.room_id,
        device_id=appointment.device_id,
        patient_id=appointment.patient_id,
        exclude_id=appointment.pk,
    )


def _place(appointment, *, start, length, practitioner, room, device, acknowledge_short_prep, acknowledge_sun_exposure,
           by, now, check_spacing):  # fmt: skip
    """Validate the time and resources, then save, inside the caller's booking transaction.

    One statement asks the database (see guard.py): the locks, whether the time is open and what
    holds the resources then. A treatment then locks its course to check that the session fits.
    """
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
    buffer = max(room.turnover_minutes, device.turnover_minutes if device else 0)
    blocked_until = end + timedelta(minutes=buffer)
    if blocked_until - start > LONGEST_HOLD:
        raise SchedulingError("An appointment with its turnover cannot last over 24 hours.", field="start")
    course = appointment.course if appointment.course_id else None
    day = timezone.localdate(start)
    check = guard.lock_and_check(
        practitioner_id=practitioner.pk,
        room_id=room.pk,
        device_id=device.pk if device else None,
        patient_id=appointment.patient_id,
        condition_id=course.condition_id if course else None,
        first_day=day,
        last_day=timezone.localdate(end),
        start=start,
        end=end,
        blocked_until=blocked_until,
        exclude_id=appointment.pk,
        sun_kept_off_since=day - PREP_WINDOW if appointment.kind == Appointment.Kind.TREATMENT else None,
        now=now,
    )
    guard.release_expired_holds(now=now, ids=check.expired_holds)  # they hold nothing: free their rows
    if guard.patient_erased(appointment.patient_id):
        # Read again under the patient's lock: an erasure may have committed since the caller looked.
        raise SchedulingError(ERASED, field="patient")
    if device is not None and course is not None and not check.device_suited:
        raise SchedulingError(f"{device} is not set up for {course.condition}.", field="device")
    _check_open(check, practitioner, day, start, end)
    short_prep = is_short_prep(kind=appointment.kind, start=start, now=now)
    if short_prep and not acknowledge_short_prep:
        raise SchedulingError(
            "This treatment is less than 14 days away, inside the sun-free prep window. Confirm that the "
            "patient has been told and can still prepare.",
            field="acknowledge_short_prep",
        )
    sun.keep_or_refuse(appointment, exposure_id=check.sun_exposure_id, acknowledged=acknowledge_sun_exposure, by=by,
                       now=now)  # fmt: skip
    test_patch.check_placement(appointment, start=start)
    if check.conflicts:
        raise BookingConflict(check.conflicts)
    appointment.start, appointment.end, appointment.blocked_until = start, end, blocked_until
    appointment.practitioner, appointment.room, appointment.device = practitioner, room, device
    # The acknowledgement describes the current time: a move out of the prep window drops it.
    appointment.short_prep_acknowledged_by = by if short_prep else None
    appointment.short_prep_acknowledged_at = now if short_prep else None
    if appointment.kind == Appointment.Kind.TREATMENT:
        course_rules.take_place_in_course(appointment, check_spacing=check_spacing)
    if appointment.pk is None:
        appointment.save()
    else:
        appointment.save(update_fields=_PLACEMENT_FIELDS)
    return appointment


def _check_open(opening, practitioner, day, start, end) -> None:
    """Refuse a time outside the practitioner's hours, on a closed day or during their time off.

    The reasons for a refusal are looked up only when there is one.
    """
    if opening.closed:
        closure = ClinicClosure.objects.filter(start_date__lte=timezone.localdate(end), end_date__gte=day).first()
        raise SchedulingError(f"The clinic is closed on {formats.date_format(day)} ({closure.reason}).", field="start")
    rules = [(day.weekday(), opens, closes) for opens, closes in opening.hours]
    intervals = working_intervals(rules, [day], timezone.get_default_timezone())
    if not any(s <= epoch(start) and epoch(end) <= e for s, e in intervals):
        raise SchedulingError(f"{practitioner} does not work at that time.", field="start")
    if opening.away:
        off = TimeOff.objects.filter(practitioner=practitioner, start__lt=end, end__gt=start).first()
        raise SchedulingError(f"{practitioner} is away then{f' ({off.reason})' if off.reason else ''}.", field="start")
