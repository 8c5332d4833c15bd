"""What the skin-check email says (outbox.emails renders it, `templates/emails/skin_check.*`) and
when it is no longer wanted (outbox.sending asks): both registered in AftercareConfig.ready.
outbox.planning plans it when a treatment is completed (`skin_check_due`)."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from aftercare.links import answer_url
from aftercare.models import SkinCheck
from outbox.models import Notification

SKIN_CHECK_KIND = Notification.Kind.SKIN_CHECK


def skin_check_context(notification, *, now: datetime) -> dict:
    appointment = notification.appointment
    return {
        "session_day": timezone.localtime(appointment.start).date(),
        "answers": [
            {"label": label, "url": answer_url(appointment, value), "primary": value == SkinCheck.Answer.SETTLED}
            for value, label in SkinCheck.Answer.choices
        ],
        "link_days": settings.SKIN_CHECK_LINK_DAYS,
    }


def skin_check_unwanted(notification, *, now: datetime) -> str:
    """The generic rules (outbox.sending) skip it without consent or address, or for a cancelled
    visit; here: an erased patient, and a session the patient has already told us about."""
    if notification.patient.erased_at is not None:
        return "The patient's details were erased."
    if SkinCheck.objects.filter(appointment=notification.appointment_id, answered_at__isnull=False).exists():
        return "The patient has already answered."
    return ""
