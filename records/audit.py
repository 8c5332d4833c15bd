"""Reading the audit trail: every audited record that concerns one patient, and what of an entry
a reader may see (the matrix keeps clinical values to `view_clinical`, here as on the pages)."""

import copy
from dataclasses import dataclass
from datetime import datetime

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from aftercare.models import SkinCheck
from clinical.models import Assessment, ConsentSignature, CourseDecision, SunExposure, TreatmentCourse
from patients.models import Patient
from photos.models import SessionPhoto
from scheduling.models import Appointment, SessionRecord

TRAIL_LENGTH = 50

# The audited models whose values are clinical, with the fields that are: None for a record that is
# clinical as a whole (an assessment, a session record: its description names the verdict too).
CLINICAL_VALUES = {
    Assessment: None,
    SessionRecord: None,
    SessionPhoto: None,
    CourseDecision: None,  # a results review: the course's score, the decision and its reason
    TreatmentCourse: TreatmentCourse.CLINICAL_FIELDS,
    SkinCheck: None,  # how the skin was after a treatment, in the patient's words
}
HIDDEN = "(clinical, hidden)"


def clinical_models() -> list[ContentType]:
    """The content types of the records that are clinical as a whole."""
    models = [model for model, fields in CLINICAL_VALUES.items() if fields is None]
    return list(ContentType.objects.get_for_models(*models).values())


def _clinical_fields(entry: LogEntry) -> tuple[str, ...] | None:
    model = entry.content_type.model_class()
    return CLINICAL_VALUES.get(model, ())


def entry_as_seen(entry: LogEntry, *, clinical: bool) -> LogEntry:
    """The entry as a reader sees it: without `clinical` (the `view_clinical` ability), the clinical
    fields' old and new values are replaced by a placeholder, and a clinical record's description by
    its kind and number. The stored entry is not touched; a copy is returned."""
    fields = _clinical_fields(entry)
    if clinical or fields == ():
        return entry
    seen = copy.copy(entry)
    changes = entry.changes_dict
    seen.changes = {
        name: _hidden(change) if fields is None or name in fields else change for name, change in changes.items()
    }
    seen.changes_text = ""
    if fields is None:
        seen.object_repr = f"{entry.content_type.name} {entry.object_id}"
    return seen


def _hidden(change):
    if isinstance(change, dict):  # a many-to-many change: {"type": "m2m", "operation": ..., "objects": [...]}
        return {**change, "objects": [HIDDEN]}
    return [HIDDEN for _ in change]


def patient_records(patient_id: int) -> dict[type, list[int]]:
    """The audited records about one patient: the patient, assessments, courses and their results
    reviews, appointments, session records, planned sun exposure, skin-check answers, photos and
    consent signatures, as lists of primary keys by model."""

    appointments = list(Appointment.objects.filter(patient_id=patient_id).values_list("pk", flat=True))
    return {
        Patient: [patient_id],
        Assessment: list(Assessment.objects.filter(patient_id=patient_id).values_list("pk", flat=True)),
        TreatmentCourse: list(TreatmentCourse.objects.filter(patient_id=patient_id).values_list("pk", flat=True)),
        CourseDecision: list(CourseDecision.objects.filter(course__patient_id=patient_id).values_list("pk", flat=True)),
        Appointment: appointments,
        SessionRecord: list(SessionRecord.objects.filter(appointment_id__in=appointments).values_list("pk", flat=True)),
        SunExposure: list(SunExposure.objects.filter(patient_id=patient_id).values_list("pk", flat=True)),
        SkinCheck: list(SkinCheck.objects.filter(appointment_id__in=appointments).values_list("pk", flat=True)),
        SessionPhoto: list(SessionPhoto.objects.filter(appointment_id__in=appointments).values_list("pk", flat=True)),
        ConsentSignature: list(ConsentSignature.objects.filter(patient_id=patient_id).values_list("pk", flat=True)),
    }


def entries_about(records: dict[type, list[int]]):
    """Every audit entry about these records, newest first, and the removals of their appointments'
    photos (a removed photo's id is no longer among them; its entry names the appointment)."""
    types = ContentType.objects.get_for_models(*records)
    match = Q(pk__in=[])
    for model, ids in records.items():
        if ids:
            match |= Q(content_type=types[model], object_id__in=ids)
    if records.get(Appointment) and SessionPhoto in types:
        match |= Q(
            content_type=types[SessionPhoto],
            action=LogEntry.Action.DELETE,
            additional_data__appointment__in=records[Appointment],
        )
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
