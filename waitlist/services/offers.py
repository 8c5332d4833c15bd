"""A patient's answer to an offer, and the sweep of offers nobody answered.

The first patient to accept books the slot through the booking service (or moves the session they
asked an earlier time for); the others' offers become `taken` and their entries stay on the list.
Accepting follows the order of locks (scheduling/services/guard.py): first the advisory locks of
the slot's practitioner, room and laser and of the patient (and of what a moved session leaves),
which every acceptance of the same slot takes, so they queue there; then the offer rows of the
slot, then what the booking service locks. So ten patients accepting one slot at the same moment
end with one booking and nine answers that it was taken, on PostgreSQL as on SQLite.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from clinic.errors import BookingConflict, Contention, SchedulingError
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_reschedule, guard
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.services.entries import withdraw_offers
from waitlist.services.matching import FreeSlot, offer_slot

log = logging.getLogger(__name__)
Status = WaitlistOffer.Status
ANSWERED = {
    Status.ACCEPTED: "You accepted this time: it is booked for you.",
    Status.TAKEN: "Another patient took this time first. You stay on the waitlist, and we will write again.",
    Status.DECLINED: "You declined this time. You stay on the waitlist.",
    Status.EXPIRED: "This offer has expired. You stay on the waitlist, and we will write again.",
    Status.WITHDRAWN: "This offer no longer stands: you are no longer waiting for this visit.",
}


class OfferRefused(Exception):
    """The offer is not this patient's: the page answers as for a link that is not valid."""


@dataclass(frozen=True)
class Answer:
    status: str  # the offer's status after the answer
    message: str
    appointment: Appointment | None = None


def offer_for_patient(*, offer_id: int, patient_id: int) -> WaitlistOffer:
    """The patient's own offer, with what its page shows, or OfferRefused."""
    offer = (
        WaitlistOffer.objects.select_related("entry__patient", "entry__course__condition", "practitioner__user")
        .filter(pk=offer_id, entry__patient_id=patient_id)
        .first()
    )
    if offer is None:
        raise OfferRefused()
    return offer


@guard.retrying
def offer_accept(*, offer_id: int, patient_id: int, now: datetime | None = None) -> Answer:
    """Book the offered slot for the patient if nobody took it first; the answer says what happened."""
    now = now or timezone.now()
    offer = offer_for_patient(offer_id=offer_id, patient_id=patient_id)
    entry = offer.entry
    moving = entry.appointment if entry.wants == WaitlistEntry.Want.EARLIER else None
    with transaction.atomic():
        guard.lock_resources(
            practitioners=[offer.practitioner_id, moving and moving.practitioner_id],
            rooms=[offer.room_id, moving and moving.room_id],
            devices=[offer.device_id, moving and moving.device_id],
            patients=[patient_id],
        )
        slot = list(
            WaitlistOffer.objects.select_for_update()
            .filter(start=offer.start, practitioner_id=offer.practitioner_id)
            .order_by("pk")
        )
        mine = next(o for o in slot if o.pk == offer.pk)
        if mine.status != Status.OFFERED:
            return Answer(mine.status, ANSWERED[mine.status])
        if mine.expires_at <= now:
            return _close(mine, Status.EXPIRED, now=now)
        if any(o.status == Status.ACCEPTED for o in slot):
            return _close(mine, Status.TAKEN, now=now)
        try:
            booked = _book(mine, entry=entry, moving=moving, now=now)
        except Contention:
            raise  # the outermost `retrying` runs the whole answer again
        except BookingConflict:
            return _close(mine, Status.TAKEN, now=now)
        except SchedulingError as refusal:  # the time no longer suits (the rules changed since the offer)
            log.info("waitlist offer %s: the booking was refused (%s)", mine.pk, refusal.field)
            _close(mine, Status.TAKEN, now=now)
            return Answer(
                Status.TAKEN, f"This time can no longer be booked for you: {refusal.message} You stay on the waitlist."
            )
        mine.status, mine.answered_at, mine.booked = Status.ACCEPTED, now, booked
        mine.save(update_fields=["status", "answered_at", "booked"])
        others = [o.pk for o in slot if o.status == Status.OFFERED and o.pk != mine.pk]
        WaitlistOffer.objects.filter(pk__in=others).update(status=Status.TAKEN, answered_at=now)
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistEntry.Status.BOOKED, closed_at=now)
        withdraw_offers(entry_ids=[entry.pk], now=now, keep_id=mine.pk)
    return Answer(Status.ACCEPTED, ANSWERED[Status.ACCEPTED], booked)


def _book(offer: WaitlistOffer, *, entry: WaitlistEntry, moving, now) -> Appointment:
    """The booking service's booking (or move) of the offered time; never with short prep."""
    with transaction.atomic():  # a refusal rolls back only this, and the offer's answer is kept
        if moving is not None:
            return appointment_reschedule(
                appointment=moving,
                start=offer.start,
                practitioner=offer.practitioner,
                room=offer.room,
                device=offer.device if moving.kind == Appointment.Kind.TREATMENT else None,
                now=now,
            )
        return appointment_book(
            patient=entry.patient,
            kind=entry.kind,
            start=offer.start,
            practitioner=offer.practitioner,
            room=offer.room,
            device=offer.device,
            course=entry.course,
            notes="Booked from a waitlist offer.",
            now=now,
        )


def _close(offer: WaitlistOffer, status: str, *, now) -> Answer:
    offer.status, offer.answered_at = status, now
    offer.save(update_fields=["status", "answered_at"])
    return Answer(status, ANSWERED[status])


def offer_decline(*, offer_id: int, patient_id: int, now: datetime | None = None) -> Answer:
    """The patient declines: they stay on the list, and the slot goes to the next in line."""
    now = now or timezone.now()
    offer = offer_for_patient(offer_id=offer_id, patient_id=patient_id)
    with transaction.atomic():
        declined = WaitlistOffer.objects.filter(pk=offer.pk, status=Status.OFFERED).update(
            status=Status.DECLINED, answered_at=now
        )
        offer.refresh_from_db()
        if declined:
            pass_on(_slot_of(offer), now=now)
    return Answer(offer.status, ANSWERED[offer.status])


def sweep_offers(*, now: datetime | None = None) -> dict[str, int]:
    """Expire offers past their time and offer each of their slots (still free, still ahead) to the
    next in line: the beat task's work. Rows an acceptance holds are left for the next sweep."""
    now = now or timezone.now()
    with transaction.atomic():
        due = WaitlistOffer.objects.filter(status=Status.OFFERED, expires_at__lte=now).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        expired = list(due)
        WaitlistOffer.objects.filter(pk__in=[o.pk for o in expired]).update(status=Status.EXPIRED, answered_at=now)
        slots = {_slot_of(o) for o in expired if o.start > now}
        offered = 0
        for slot in sorted(slots, key=lambda s: (s.start, s.practitioner_id)):
            offered += len(pass_on(slot, now=now))
    return {"expired": len(expired), "offered": offered}


def pass_on(slot: FreeSlot, *, now) -> list[WaitlistOffer]:
    """Offer a slot whose offers were declined or expired to the next in line, if it is still free."""
    return offer_slot(slot=slot, now=now) if _still_free(slot) else []


def _slot_of(offer: WaitlistOffer) -> FreeSlot:
    return FreeSlot(
        offer.start, offer.slot_end, offer.practitioner_id, offer.room_id, offer.device_id, offer.freed_by_id
    )


def _still_free(slot: FreeSlot) -> bool:
    """Whether nobody booked the practitioner, room or laser in the slot meanwhile (one query)."""
    return not guard.find_conflicts(
        start=slot.start,
        end=slot.end,
        blocked_until=slot.end,
        practitioner_id=slot.practitioner_id,
        room_id=slot.room_id,
        device_id=slot.device_id,
        patient_id=None,
    )
