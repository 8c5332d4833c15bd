"""A dermatologist's assessment of a patient: recording a consultation's outcome, and whether a
course can be proposed on it (proposing is clinical/services/courses.py)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalogue.models import Practitioner
from catalogue.permissions import is_dermatologist
from clinic.errors import SchedulingError
from clinical.models import Assessment, Contraindication
from patients.models import SkinType

NO_ASSESSMENT = (
    "No assessment of this patient has been recorded, so no course can be proposed: "
    "a dermatologist assesses the patient first."
)


def assessment_record(
    *,
    patient,
    dermatologist: Practitioner,
    skin_type: int,
    conditions=(),
    contraindications=(),
    candidate: bool,
    notes: str = "",
    now: datetime | None = None,
) -> Assessment:
    """Record a consultation's outcome and take its skin type onto the patient's file."""
    if not is_dermatologist(dermatologist):
        raise SchedulingError("Only a dermatologist can record an assessment.")
    if skin_type not in SkinType.values:
        raise SchedulingError("Choose a Fitzpatrick skin type from I to VI.", field="skin_type")
    unknown = set(contraindications) - set(Contraindication.values)
    if unknown:
        raise SchedulingError("Choose contraindications from the list.", field="contraindications")
    conditions = list(conditions)
    retired = [condition.name for condition in conditions if not condition.active]
    if retired:
        raise SchedulingError(f"{', '.join(retired)} is no longer offered.", field="conditions")
    # Keep the list's order, whatever order the boxes were ticked in, and each code once.
    codes = [code for code in Contraindication.values if code in set(contraindications)]
    with transaction.atomic():
        assessment = Assessment.objects.create(
            patient=patient,
            dermatologist=dermatologist,
            assessed_at=now or timezone.now(),
            skin_type=skin_type,
            contraindications=codes,
            candidate=candidate,
            notes=notes,
            created_by=dermatologist.user,
        )
        assessment.conditions.set(conditions)
        if patient.skin_type != skin_type:
            patient.skin_type = skin_type
            patient.save(update_fields=["skin_type", "updated_at"])
    return assessment


def assessment_blocker(assessment: Assessment) -> str | None:
    """Why no course can be proposed on this assessment, or None when one can."""
    if not assessment.candidate:
        return "The assessment found the patient not a good candidate, so no course can be proposed on it."
    if assessment.contraindications:
        found = ", ".join(label.lower() for label in assessment.get_contraindications_display())
        return f"Contraindications were found ({found}), so no course can be proposed on this assessment."
    return None


def assessment_for_proposal(*, patient, assessment: Assessment | None = None) -> Assessment:
    """The assessment a course for `patient` is proposed on: the one named, or else the patient's
    latest. Whether a course can be proposed on it is `course_propose`'s to say."""
    if assessment is not None:
        if assessment.patient_id != patient.pk:
            raise SchedulingError(
                "That assessment is of another patient, so no course can be proposed on it for this one.",
                field="assessment",
            )
        return assessment
    latest = patient.assessments.order_by("-assessed_at", "-pk").first()
    if latest is None:
        raise SchedulingError(NO_ASSESSMENT, field="assessment")
    return latest
