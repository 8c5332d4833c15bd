"""A patient's rights over their data: a copy of everything (export) and erasure on request.

Erasure anonymises the person and keeps the anonymous history (appointments, courses, settings)
for the clinic's statistics. Consent signatures are kept the same way, as the record of what the
treatments given were consented to (text, version, time, channel, scopes), without the typed name
and the client address; a standing photo consent is withdrawn. Both are recorded in the audit trail.
"""

import logging
from datetime import datetime

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Prefetch
from django.utils import timezone

from aftercare.models import SkinCheck
from clinical.models import Assessment, ConsentSignature, ConsentText, CourseDecision, SunExposure, TreatmentCourse
from outbox import planning
from outbox.models import Notification
from patients.models import Patient
from photos.services import photos_erase, photos_for_export
from records.audit import entries_about, patient_records
from scheduling.models import Appointment, SessionRecord
from scheduling.services import course_cancel, guard

log = logging.getLogger(__name__)

ERASED = "[erased]"
# Free text anywhere in a patient's records may name them (or where they holiday); erasure empties it.
FREE_TEXT = ("notes", "cancel_reason", "what", "text", "reason")  # "text": a skin-check answer's words
PERSONAL = ("first_name", "last_name", "date_of_birth", "email", "phone", "notes")
# A consent signature's own personal data: the name the patient typed and the address they signed from.
SIGNATURE_PERSONAL = ("typed_name", "client_address")


def _is_words(obj: models.Model, name: str) -> bool:
    """Whether `obj` has a field `name` of free text (a consent signature's `text` is its text's key)."""
    try:
        return not obj._meta.get_field(name).is_relation
    except FieldDoesNotExist:
        return False


def _row(obj: models.Model, *, skip=()) -> dict:
    """A record's own fields as JSON-ready values; a relation shows as its name."""
    row = {}
    for field in obj._meta.concrete_fields:
        if field.name in skip:
            continue
        if field.is_relation:
            related = getattr(obj, field.name)
            row[field.name] = str(related) if related is not None else None
        else:
            row[field.name] = field.value_from_object(obj)
    return row


def patient_export(*, patient: Patient, by, now: datetime | None = None) -> str:
    """Everything the clinic holds about `patient`, as one JSON document; recorded in the audit trail."""

    now = now or timezone.now()
    # Every relation a row names is read with it (and what that name is made of), so the export
    # costs the same few queries for one visit or a hundred.
    appointments = (
        Appointment.objects.filter(patient=patient)
        .select_related(
            "practitioner__user", "room", "device", "course__condition", "course__patient", "booked_by",
            "short_prep_acknowledged_by", "session_record__area", "session_record__recorded_by__user",
        )
        .order_by("start", "pk")
    )  # fmt: skip
    data = {
        "exported_at": now,
        "patient": _row(patient),
        "assessments": [
            _row(a, skip={"patient"}) | {"conditions": [str(c) for c in a.conditions.all()]}
            for a in patient.assessments.select_related("dermatologist__user", "created_by").prefetch_related(
                "conditions"
            )
        ],
        "courses": [
            _row(c, skip={"patient"})
            | {"areas": [str(area) for area in c.areas.all()]}
            | {"results_reviews": [_row(d, skip={"course"}) for d in c.decisions.all()]}
            for c in TreatmentCourse.objects.filter(patient=patient)
            .select_related("condition", "assessment__patient", "proposed_by__user", "approved_by__user")
            .prefetch_related("areas", Prefetch("decisions", CourseDecision.objects.select_related("decided_by__user")))
        ],
        "appointments": [_row(a, skip={"patient"}) | {"session_record": _session_record(a)} for a in appointments],
        "sun_exposures": [
            _row(e, skip={"patient"}) for e in SunExposure.objects.filter(patient=patient).select_related("recorded_by")
        ],
        "skin_checks": [
            _row(c)
            for c in SkinCheck.objects.filter(appointment__patient=patient).select_related(
                "appointment__patient", "handled_by"
            )
        ],
        # The photos themselves, as base64 JPEG in the document (photos.services.photos_for_export).
        "photos": photos_for_export(patient_id=patient.pk),
        "consent_signatures": [
            _row(s, skip={"patient"}) | {"text_version": s.text.version, "text_as_signed": s.text.body}
            for s in ConsentSignature.objects.filter(patient=patient).select_related("text", "witnessed_by")
        ],
        "emails": [
            _row(n, skip={"patient", "key"})
            for n in Notification.objects.filter(patient=patient).select_related(
                "appointment__patient", "course__condition", "course__patient"
            )
        ],
    }
    LogEntry.objects.log_create(
        patient, action=LogEntry.Action.ACCESS, changes=None, force_log=True, actor=by,
        additional_data={"event": "data export"},
    )  # fmt: skip
    log.info("patient %s: data exported by user %s", patient.pk, getattr(by, "pk", None))
    # Django's encoder writes dates, times and decimals as plain JSON values.
    return DjangoJSONEncoder(indent=2).encode(data)


def _session_record(appointment):
    try:
        record = appointment.session_record
    except appointment._meta.model.session_record.RelatedObjectDoesNotExist:
        return None
    return _row(record, skip={"appointment"})


def patient_erase(*, patient: Patient, by, reason: str, now: datetime | None = None) -> Patient:
    """Anonymise `patient` on their request: no name, birth date, email, phone or free text is
    left in their records or in the audit trail; the anonymous history stays for statistics.

    Refused while the patient has a visit still to come (cancel it first, so they hear of it).
    Their open courses are cancelled.
    """

    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why (e.g. the date of the patient's request)."})
    with transaction.atomic():
        # The order of locks (scheduling.services.guard): the patient's lock first, which every
        # booking for them takes, so none is under way while the visits still to come are counted.
        guard.lock_resources(patients=[patient.pk])
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if patient.erased_at is not None:
            raise ValidationError("This patient's details were already erased.")
        still_open = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED, Appointment.Status.CHECKED_IN)
        upcoming = Appointment.objects.filter(patient=patient, status__in=still_open, end__gt=now).count()
        if upcoming:
            raise ValidationError(
                f"The patient has {upcoming} visit{'s' if upcoming != 1 else ''} still to come. "
                "Cancel them first, so that the patient is told."
            )
        # Nobody will book an erased patient's course again: it leaves reception's unbooked queue
        # and the review queue, closed by the course rule (with no reason written into its notes).
        open_courses = TreatmentCourse.objects.filter(patient=patient).exclude(
            status__in=(TreatmentCourse.Status.COMPLETED, TreatmentCourse.Status.CANCELLED)
        )
        for course in open_courses.select_for_update():
            course_cancel(course=course)
        records = patient_records(patient.pk)
        # The audit entries are rewritten below; auditlog must not record the old values again.
        with disable_auditlog():
            patient.first_name, patient.last_name = "Erased", f"patient {patient.pk}"
            patient.date_of_birth = None
            patient.email = patient.phone = patient.notes = ""
            patient.email_consent = False
            patient.erased_at = now
            patient.save()
            for model, ids in records.items():
                if model is Patient:
                    continue
                for obj in model.objects.filter(pk__in=ids):
                    texts = [f for f in FREE_TEXT if _is_words(obj, f) and getattr(obj, f)]
                    for name in texts:
                        setattr(obj, name, "")
                    if texts:
                        obj.save(update_fields=texts)
            _erase_signatures(patient, now)
        planning.plan_for_erasure(patient)
        # The photos' rows go now, their files and thumbnails once this transaction commits.
        photos_erase(patient_id=patient.pk)
        _scrub_audit_trail(records)
        LogEntry.objects.log_create(
            patient, action=LogEntry.Action.UPDATE, changes={name: [ERASED, ERASED] for name in PERSONAL},
            force_log=True, actor=by, additional_data={"event": "erasure on request", "reason": reason},
        )  # fmt: skip
    log.info("patient %s: personal details erased by user %s", patient.pk, getattr(by, "pk", None))
    return patient


def _erase_signatures(patient: Patient, now: datetime) -> None:
    """Keep each signature without the name typed or the address; no photo consent stands any more."""
    for signature in ConsentSignature.objects.filter(patient=patient).select_related("text"):
        signature.typed_name, signature.client_address = "", None
        if signature.text.kind == ConsentText.Kind.PHOTO and signature.withdrawn_at is None:
            signature.withdrawn_at = now
        signature.save(update_fields=["typed_name", "client_address", "withdrawn_at"])


def _scrub_audit_trail(records: dict[type, list[int]]) -> None:
    """Keep who did what and when; drop the values that could name the patient."""
    names = _names_now(records)
    for entry in entries_about(records):
        model = entry.content_type.model_class()
        entry.object_repr = names.get((model, entry.object_id), f"{model._meta.verbose_name} {entry.object_id}")
        changes = entry.changes_dict
        if changes:
            personal = PERSONAL if model is Patient else FREE_TEXT + SIGNATURE_PERSONAL
            entry.changes = {name: [ERASED, ERASED] if name in personal else values for name, values in changes.items()}
        entry.changes_text = ""
        entry.serialized_data = None
        if isinstance(entry.additional_data, dict) and "reason" in entry.additional_data:  # a photo's removal, in words
            entry.additional_data = {**entry.additional_data, "reason": ERASED}
        entry.save(update_fields=["object_repr", "changes", "changes_text", "serialized_data", "additional_data"])
    types = ContentType.objects.get_for_models(*records)
    for model, ids in records.items():
        for entry in AdminLogEntry.objects.filter(content_type=types[model], object_id__in=[str(i) for i in ids]):
            entry.object_repr = names.get((model, int(entry.object_id)), "")[:200]
            entry.change_message = ""
            entry.save(update_fields=["object_repr", "change_message"])


def _names_now(records: dict[type, list[int]]) -> dict[tuple[type, int], str]:
    """How each record reads after the erasure, loaded a model at a time with the patient its name shows."""

    related = {Assessment: ["patient"], TreatmentCourse: ["patient", "condition"], Appointment: ["patient"],
               SessionRecord: ["appointment__patient"], SkinCheck: ["appointment__patient"],
               ConsentSignature: ["text"], CourseDecision: ["course__patient", "course__condition"]}  # fmt: skip
    names = {}
    for model, ids in records.items():
        rows = model.objects.select_related(*related.get(model, [])).in_bulk(ids)
        names.update({(model, pk): str(row) for pk, row in rows.items()})
    return names
