"""What a patient can change about their emails: stopping them."""

import logging

from django.db import transaction

from patients.models import Patient

log = logging.getLogger(__name__)


def patient_unsubscribe(*, patient: Patient) -> bool:
    """Stop reminder and aftercare emails to the patient; True if they were on, False if already off.

    Emails already planned are skipped when their time comes, because sending checks the consent."""
    with transaction.atomic():
        current = Patient.objects.select_for_update().get(pk=patient.pk)
        changed = current.email_consent
        if changed:
            current.email_consent = False
            current.save(update_fields=["email_consent", "updated_at"])
    patient.email_consent = False
    if changed:
        log.info("patient %s unsubscribed from emails by link", patient.pk)
    return bool(changed)
