"""People who held a consultation online and never confirmed it: their details are not kept.

An online booking (`scheduling.services.holds`) makes a patient record for the applicant before
their address is proven. When the hold expires unconfirmed the slot is freed, but the record would
stay: a name, birth date, address and phone of someone who never became a patient, perhaps typed
by somebody else. An hourly sweep erases such records once `APPLICANT_KEEP_HOURS` (72) have passed since
the hold expired, through the same erasure as a patient's request (`privacy.patient_erase`), so the
audit trail keeps what happened and no longer who.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from clinical.models import Assessment, TreatmentCourse
from patients.models import Patient
from records.privacy import patient_erase
from scheduling.models import Appointment

log = logging.getLogger(__name__)
REASON = "An online booking that was never confirmed: the applicant's details are not kept."


def unconfirmed_applicants(*, now: datetime):
    """Patients not erased whose every visit is a hold released at least APPLICANT_KEEP_HOURS ago,
    with no assessment or course: the records online holds left behind."""
    cutoff = now - timedelta(hours=settings.APPLICANT_KEEP_HOURS)
    visits = Appointment.objects.filter(patient=OuterRef("pk"))
    released_long_ago = visits.filter(status=Appointment.Status.RELEASED, hold_expires_at__lte=cutoff)
    anything_else = visits.exclude(status=Appointment.Status.RELEASED, hold_expires_at__lte=cutoff)
    return (
        Patient.objects.filter(erased_at__isnull=True)
        .filter(Exists(released_long_ago))
        .exclude(Exists(anything_else))
        .exclude(Exists(Assessment.objects.filter(patient=OuterRef("pk"))))
        .exclude(Exists(TreatmentCourse.objects.filter(patient=OuterRef("pk"))))
    )


def forget_unconfirmed_applicants(*, now: datetime | None = None) -> int:
    """Erase the records of `unconfirmed_applicants`; how many. Each in its own transaction, so one
    refused (a visit booked for them meanwhile) leaves the others erased."""
    now = now or timezone.now()
    erased = 0
    for patient in unconfirmed_applicants(now=now).order_by("pk"):
        patient_erase(patient=patient, by=None, reason=REASON, now=now)
        erased += 1
    if erased:
        log.info("unconfirmed online applicants erased: %s", erased)
    return erased
