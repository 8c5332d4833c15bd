"""Joining and leaving the waitlist. Staff call these today; the patient pages will call the same
services with the patient's own user as `by` and `source=PATIENT`."""

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.errors import SchedulingError
from clinical.models import TreatmentCourse
from patients.models import Patient
from scheduling import events
from scheduling.models import Appointment
from scheduling.services.moves import MOVABLE_STATUSES
from waitlist.models import ALL_DAYS, ALL_TIMES, WaitlistEntry, WaitlistOffer

Want = WaitlistEntry.Want
# How far ahead a patient may wait: the booking service books up to two years ahead.
LONGEST_WAIT_DAYS = 730


def waitlist_join(
    *,
    patient: Patient,
    wants: str,
    earliest_date: date,
    latest_date: date,
    course: TreatmentCourse | None = None,
    appointment: Appointment | None = None,
    weekdays: int = ALL_DAYS,
    times_of_day: int = ALL_TIMES,
    by=None,
    source: str = WaitlistEntry.Source.STAFF,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put a patient on the waitlist, or SchedulingError saying why not (tied to the field)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if patient.erased_at is not None:
        raise SchedulingError("This patient's details were erased on request.", field="patient")
    if wants not in Want.values:
        raise SchedulingError("Choose what the patient is waiting for.", field="wants")
    if wants == Want.NEXT_SESSION:
        appointment = None
        if course is None or course.patient_id != patient.pk:
            raise SchedulingError("Choose one of the patient's courses.", field="course")
        if course.status not in TreatmentCourse.BOOKABLE_STATUSES:
            raise SchedulingError("That course does not take bookings.", field="course")
    elif wants == Want.EARLIER:
        course = None
        if appointment is None or appointment.patient_id != patient.pk:
            raise SchedulingError("Choose one of the patient's booked visits.", field="appointment")
        if appointment.status not in MOVABLE_STATUSES or appointment.start <= now:
            raise SchedulingError("That visit can no longer be moved.", field="appointment")
        latest_date = min(latest_date, timezone.localdate(appointment.start))
    else:
        course = appointment = None
    if earliest_date < today:
        raise SchedulingError("The first day cannot be in the past.", field="earliest_date")
    if latest_date < earliest_date:
        raise SchedulingError("The last day comes on or after the first.", field="latest_date")
    if (latest_date - today).days > LONGEST_WAIT_DAYS:
        raise SchedulingError("The waitlist looks up to two years ahead.", field="latest_date")
    if not 0 < weekdays <= ALL_DAYS:
        raise SchedulingError("Choose at least one weekday.", field="weekdays")
    if not 0 < times_of_day <= ALL_TIMES:
        raise SchedulingError("Choose at least one time of day.", field="times_of_day")
    entry = WaitlistEntry(
        patient=patient,
        wants=wants,
        course=course,
        appointment=appointment,
        earliest_date=earliest_date,
        latest_date=latest_date,
        weekdays=weekdays,
        times_of_day=times_of_day,
        source=source,
        created_by=by,
        created_at=now,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:  # the partial unique constraints: one open entry per thing waited for
        raise SchedulingError("The patient is already on the waitlist for that.", field="wants") from None
    return entry


def waitlist_leave(*, entry: WaitlistEntry, by=None, now: datetime | None = None) -> WaitlistEntry:
    """Take an entry off the waitlist; its open offers are withdrawn."""
    now = now or timezone.now()
    with transaction.atomic():
        # Locked and saved, not update(): the audit trail records who took the entry off, and when.
        current = WaitlistEntry.objects.select_for_update().filter(pk=entry.pk, status=WaitlistEntry.Status.WAITING)
        for waiting in current:
            waiting.status, waiting.closed_at = WaitlistEntry.Status.LEFT, now
            waiting.save(update_fields=["status", "closed_at"])
            withdraw_offers(entry_ids=[entry.pk], now=now)
    entry.refresh_from_db()
    return entry


def withdraw_offers(*, entry_ids, now: datetime, keep_id: int | None = None) -> int:
    """The open offers of entries that no longer wait (booked or left) are withdrawn."""
    open_offers = WaitlistOffer.objects.filter(entry_id__in=entry_ids, status=WaitlistOffer.Status.OFFERED)
    return open_offers.exclude(pk=keep_id).update(status=WaitlistOffer.Status.WITHDRAWN, answered_at=now)


def close_answered_entries(*, appointment: Appointment, change: str, now: datetime) -> None:
    """A course's next session booked answers its entry; a session cancelled leaves nothing to move earlier."""
    if change == events.BOOKED and appointment.course_id and appointment.kind == Appointment.Kind.TREATMENT:
        answered = WaitlistEntry.objects.filter(
            course_id=appointment.course_id, wants=Want.NEXT_SESSION, status=WaitlistEntry.Status.WAITING
        )
        status = WaitlistEntry.Status.BOOKED
    elif change in (events.CANCELLED, events.NO_SHOW, events.COMPLETED):
        answered = WaitlistEntry.objects.filter(
            appointment_id=appointment.pk, wants=Want.EARLIER, status=WaitlistEntry.Status.WAITING
        )
        status = WaitlistEntry.Status.LEFT
    else:
        return
    ids = list(answered.values_list("pk", flat=True))
    if ids:
        WaitlistEntry.objects.filter(pk__in=ids).update(status=status, closed_at=now)
        withdraw_offers(entry_ids=ids, now=now)
