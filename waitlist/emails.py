"""What an offer's email says (outbox.emails renders it, `templates/emails/waitlist_offer.*`) and when
it is no longer wanted (outbox.sending asks): both registered in WaitlistConfig.ready."""

from datetime import datetime

from django.utils import timezone

from outbox.emails import TITLES
from scheduling.models import Appointment
from waitlist.links import offer_url
from waitlist.models import WaitlistOffer


def _offer(notification) -> WaitlistOffer:
    return WaitlistOffer.objects.select_related("entry", "practitioner__user", "entry__appointment").get(
        notification=notification
    )


def offer_context(notification, *, now: datetime) -> dict:
    offer = _offer(notification)
    entry = offer.entry
    kind = entry.kind
    return {
        "visit": {
            "what": TITLES.get(kind, "Appointment").lower(),
            "title": TITLES.get(kind, "Appointment"),
            "start": timezone.localtime(offer.start),
            "end": timezone.localtime(offer.end),
            "minutes": int((offer.end - offer.start).total_seconds() // 60),
            "practitioner": str(offer.practitioner),
            "is_treatment": kind == Appointment.Kind.TREATMENT,
            "is_consultation": kind == Appointment.Kind.CONSULTATION,
        },
        "moves_from": timezone.localtime(entry.appointment.start) if entry.appointment_id else None,
        "offer_url": offer_url(offer),
        "expires_at": timezone.localtime(offer.expires_at),
    }


def offer_unwanted(notification, *, now: datetime) -> str:
    offer = WaitlistOffer.objects.filter(notification=notification).values_list("status", "expires_at").first()
    if offer is None:
        return "The offer is gone."
    status, expires_at = offer
    if status != WaitlistOffer.Status.OFFERED:
        return "The offer was answered or withdrawn before its email went out."
    if expires_at <= now:
        return "The offer had expired when its email was due to go out."
    return ""
