"""The skin check's answer links: outbox.links signs them (purpose `skin_check`), each carrying the
treatment's and the patient's ids and the answer it stands for. They work for SKIN_CHECK_LINK_DAYS
after the email was built. Opening one records nothing: it opens the answer page with that answer
chosen, and the page's button sends it (mail scanners follow links)."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from aftercare.models import SkinCheck
from outbox.links import LinkError, make_payload_token, read_payload
from scheduling.models import Appointment

PURPOSE = "skin_check"
NOT_VALID = "This link is not valid. Please check that you copied the whole link from your email."


def answer_token(appointment: Appointment, answer: str) -> str:
    return make_payload_token(PURPOSE, {"a": appointment.pk, "p": appointment.patient_id, "k": answer})


def answer_url(appointment: Appointment, answer: str) -> str:
    return settings.CLINIC_BASE_URL + reverse("aftercare_links:answer", args=[answer_token(appointment, answer)])


def read_answer_token(token: str) -> tuple[Appointment, str]:
    """The completed treatment a link was made for and the answer it stands for, or LinkError."""
    payload = read_payload(PURPOSE, token, max_age=timedelta(days=settings.SKIN_CHECK_LINK_DAYS))
    try:
        appointment_id, patient_id, answer = int(payload["a"]), int(payload["p"]), str(payload["k"])
    except (KeyError, TypeError, ValueError):
        raise LinkError(NOT_VALID) from None
    if answer not in SkinCheck.Answer.values:
        raise LinkError(NOT_VALID)
    appointment = (
        Appointment.objects.select_related("patient", "practitioner__user")
        .filter(pk=appointment_id, patient_id=patient_id, kind=Appointment.Kind.TREATMENT)
        .first()
    )
    if appointment is None or appointment.patient.erased_at is not None:
        raise LinkError("This link is no longer valid.", status=410)
    if appointment.status != Appointment.Status.COMPLETED:
        raise LinkError("This treatment was not completed, so this link no longer works.", status=410)
    return appointment, answer
