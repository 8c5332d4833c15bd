"""The signed link in an offer's email: outbox.links signs it (purpose `waitlist_offer`), carrying the
offer's and the patient's ids, and it holds for WAITLIST_OFFER_HOURS."""

from django.conf import settings
from django.urls import reverse

from outbox.links import LinkError, make_payload_token, read_payload
from waitlist.services.matching import offer_hours

PURPOSE = "waitlist_offer"


def offer_token(offer) -> str:
    return make_payload_token(PURPOSE, {"o": offer.pk, "p": offer.entry.patient_id})


def offer_url(offer) -> str:
    return settings.CLINIC_BASE_URL + reverse("waitlist_links:offer", args=[offer_token(offer)])


def read_offer_token(token: str) -> tuple[int, int]:
    """The (offer id, patient id) a link was made for, or LinkError."""
    payload = read_payload(PURPOSE, token, max_age=offer_hours())
    try:
        return int(payload["o"]), int(payload["p"])
    except (KeyError, TypeError, ValueError):
        raise LinkError(
            "This link is not valid. Please check that you copied the whole link from your email."
        ) from None
