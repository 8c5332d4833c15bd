"""Consultations booked online by new patients: held until the patient confirms their address.

A hold is an appointment with status `held` and `hold_expires_at` (now + HOLD_MINUTES). While it
lasts it blocks its practitioner and room like any booking: the slot search, the guard's check and
the exclusion constraints count it as active. Once expired it holds nothing: the slot search and
the guard read past it, the booking that wants its time releases it inside its own transaction
before the insert (`guard.release_expired_holds`), and a periodic sweep releases the rest.

Who the hold is for. The details typed on the public page go into a record of their own, made
through `patients.services` (the staff form's rules), whether or not the address belongs to a
patient already: the answer never says which. Only when the link in the email to that address is
followed (`hold_confirm`) is the booking moved to the existing patient with that address, if one
exists, and the record made for the hold is deleted; the existing record's details are never
overwritten. A held or released visit plans no reminder: the hold's email is the only one, and a
confirmed hold is announced as a booking, which plans the usual confirmation.
"""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.errors import BookingConflict, IllegalTransition, SchedulingError
from patients.models import Patient
from patients.services import patient_create
from scheduling import events
from scheduling.models import Appointment

from . import guard
from .booking import appointment_book
from .slots import Slot, open_slots

log = logging.getLogger(__name__)
# Written on a held visit, for the desk: where it came from.
BOOKED_ONLINE = "Booked online by the patient."


class HoldNotConfirmable(IllegalTransition):
    """A hold that can no longer be confirmed: `reason` is "expired" or "used" (confirmed already)."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


def hold_length() -> timedelta:
    return timedelta(minutes=settings.HOLD_MINUTES)


@guard.retrying
def consultation_hold(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str,
    phone: str,
    email_consent: bool,
    start: datetime,
    practitioner,
    room,
    now: datetime | None = None,
) -> Appointment:
    """Hold a consultation for a person who booked online, until now + HOLD_MINUTES; the outbox
    plans the email with the confirmation link in the same transaction.

    Raises ValidationError (by field) for details the patient rules refuse, SchedulingError or
    BookingConflict for a time that cannot be had; nothing is saved then.
    """
    now = now or timezone.now()
    if start < now + hold_length():
        raise SchedulingError("That time is too soon to book online. Please choose a later one.", field="slot")
    if not email.strip():
        raise ValidationError({"email": ["We send the link to confirm your booking to this address."]})
    with transaction.atomic():
        applicant = patient_create(
            first_name=first_name, last_name=last_name, date_of_birth=date_of_birth, email=email, phone=phone,
            email_consent=email_consent,
        )  # fmt: skip
        appointment = appointment_book(
            patient=applicant, kind=Appointment.Kind.CONSULTATION, start=start, practitioner=practitioner,
            room=room, notes=BOOKED_ONLINE, now=now, hold_until=now + hold_length(),
        )  # fmt: skip
    log.info("consultation %s held until %s", appointment.pk, appointment.hold_expires_at.isoformat())
    return appointment


def consultation_slots_online(*, now: datetime | None = None, days: int = 21, limit: int = 30) -> list[Slot]:
    """The consultation times the public page offers: the slot search's, any practitioner, over the
    next `days`, one slot a start, from a hold's length ahead (a hold always ends before its visit)."""
    now = now or timezone.now()
    slots, starts = [], set()
    search = open_slots(
        kind=Appointment.Kind.CONSULTATION, start_date=timezone.localdate(now), days=days, now=now,
        earliest=now + hold_length(),
    )  # fmt: skip
    for slot in search:
        if slot.start not in starts:
            starts.add(slot.start)
            slots.append(slot)
            if len(slots) == limit:
                break
    return slots


def owner_of_address(email: str, *, besides: int) -> Patient | None:
    """The patient on file with this address (the earliest registered), leaving out `besides` and
    every record made for a hold: a record with a held or released visit was never confirmed."""
    holds = Appointment.objects.filter(status__in=(Appointment.Status.HELD, Appointment.Status.RELEASED))
    return (
        Patient.objects.filter(email__iexact=email.strip(), erased_at__isnull=True)
        .exclude(pk=besides)
        .exclude(pk__in=holds.values("patient_id"))
        .order_by("created_at", "pk")
        .first()
    )


@guard.retrying
def hold_confirm(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """Confirm a held consultation (its address is proven by the link): it becomes a booked one,
    announced as a booking, so the outbox plans the usual confirmation. For an address already on
    file, the booking moves to that patient and the hold's own record goes.

    Raises HoldNotConfirmable for a hold already confirmed or past its expiry (or released), and
    BookingConflict when the patient on file has another visit at that time.
    """
    now = now or timezone.now()
    with transaction.atomic():
        held = Appointment.objects.select_related("patient").get(pk=appointment.pk)
        owner = owner_of_address(held.patient.email, besides=held.patient_id)
        # The order of locks (guard.py): the resources, the hold's record's and the owner's, then the row.
        guard.lock_resources(
            practitioners=[held.practitioner_id], rooms=[held.room_id],
            patients=[held.patient_id, owner.pk if owner else None],
        )  # fmt: skip
        appointment.refresh_from_db(from_queryset=Appointment.objects.select_for_update())
        check_confirmable(appointment, now=now)
        applicant = appointment.patient
        if owner is not None:
            clashes = [
                c for c in guard.find_conflicts(**_as_owners(appointment, owner, now=now)) if c.resource == "patient"
            ]
            if clashes:
                raise BookingConflict(clashes, "You already have a visit with us at that time.")
            appointment.patient = owner
        appointment.status = Appointment.Status.BOOKED
        appointment.hold_expires_at = None
        appointment.save(update_fields=["patient", "status", "hold_expires_at", "updated_at"])
        if owner is not None:
            applicant.delete()  # only ever the hold's own record: the owner's details stay as they are
        events.announce(appointment, events.BOOKED, now=now)
    log.info("held consultation %s confirmed (patient %s)", appointment.pk, appointment.patient_id)
    return appointment


def check_confirmable(appointment: Appointment, *, now: datetime) -> None:
    """Raise HoldNotConfirmable unless the appointment is held and its hold has not expired by `now`."""
    if appointment.status == Appointment.Status.HELD and appointment.hold_expires_at > now:
        return
    if appointment.status in (Appointment.Status.HELD, Appointment.Status.RELEASED):
        raise HoldNotConfirmable(
            "This booking was held for you for a limited time, and that time has passed, so the slot has been "
            "freed. Please book again.",
            reason="expired",
        )
    if appointment.status in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED):
        raise HoldNotConfirmable("This booking is already confirmed: this link has been used.", reason="used")
    raise HoldNotConfirmable("This booking is no longer held. Please book again.", reason="expired")


def _as_owners(appointment: Appointment, owner: Patient, *, now: datetime) -> dict:
    return dict(
        start=appointment.start, end=appointment.end, blocked_until=appointment.blocked_until,
        practitioner_id=appointment.practitioner_id, room_id=appointment.room_id, device_id=None,
        patient_id=owner.pk, exclude_id=appointment.pk, now=now,
    )  # fmt: skip


def holds_release_expired(*, now: datetime | None = None) -> int:
    """The periodic sweep: release every hold past its expiry; how many."""
    with transaction.atomic():
        return len(guard.release_expired_holds(now=now or timezone.now()))
