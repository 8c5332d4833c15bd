"""The waitlist's reads for staff pages."""

from django.db.models import Count, Q

from waitlist.models import WaitlistEntry, WaitlistOffer

QUEUE_LENGTH = 100


def waiting_entries(*, patient_id: int | None = None):
    """Waiting entries, oldest first, with their open offers counted."""
    entries = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)
    if patient_id is not None:
        entries = entries.filter(patient_id=patient_id)
    return entries.select_related("patient", "course__condition", "appointment").annotate(
        open_offers=Count("offers", filter=Q(offers__status=WaitlistOffer.Status.OFFERED))
    )


def open_offers():
    """Offers waiting for an answer, soonest slot first."""
    return (
        WaitlistOffer.objects.filter(status=WaitlistOffer.Status.OFFERED)
        .select_related("entry__patient", "practitioner__user")
        .order_by("start", "pk")
    )
