"""Reading the audit trail about one patient: every audited record that concerns them."""

from dataclasses import dataclass
from datetime import datetime

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from clinical.models import Assessment, TreatmentCourse
from patients.models import Patient
from scheduling.models import Appointment, SessionRecord

TRAIL_LENGTH = 50


def patient_records(patient_id: int) -> dict[type, list[int]]:
    """The audited records about one patient: the patient, assessments, courses, appointments and
    session records, as lists of primary keys by model."""

    appointments = list(Appointment.objects.filter(patient_id=patient_id).values_list("pk", flat=True))
    return {
        Patient: [patient_id],
        Assessment: list(Assessment.objects.filter(patient_id=patient_id).values_list("pk", flat=True)),
        TreatmentCourse: list(TreatmentCourse.objects.filter(patient_id=patient_id).values_list("pk", flat=True)),
        Appointment: appointments,
        SessionRecord: list(SessionRecord.objects.filter(appointment_id__in=appointments).values_list("pk", flat=True)),
    }


def entries_about(records: dict[type, list[int]]):
    """Every audit entry about these records, newest first."""
    types = ContentType.objects.get_for_models(*records)
    match = Q(pk__in=[])
    for model, ids in records.items():
        if ids:
            match |= Q(content_type=types[model], object_id__in=ids)
    return LogEntry.objects.filter(match).select_related("actor", "content_type").order_by("-timestamp", "-pk")


@dataclass(frozen=True)
class TrailRow:
    when: datetime
    who: str
    action: str
    record: str
    fields: list[str]  # names of the fields changed (values stay in the admin's audit log)
    note: str


def patient_audit_trail(*, patient_id: int, limit: int = TRAIL_LENGTH) -> list[TrailRow]:
    """The latest audit entries about a patient, for the manager's view on the patient page."""
    rows = []
    for entry in entries_about(patient_records(patient_id))[:limit]:
        extra = entry.additional_data or {}
        note = ", ".join(f"{key}: {value}" for key, value in extra.items())
        rows.append(
            TrailRow(
                when=entry.timestamp,
                who=entry.actor.get_full_name() or entry.actor.get_username() if entry.actor else "system or patient",
                action=entry.get_action_display(),
                record=f"{entry.content_type.name} {entry.object_id}",
                fields=sorted(entry.changes_dict) if entry.changes else [],
                note=note,
            )
        )
    return rows
