"""The photo rules: which views an area offers, who may add photos (clinical consent, a session
under way or done), storing them, who sees them, and a patient's photos on export and erasure.

The files live in the "photos" storage (settings.STORAGES), under random names; the rows say
whose they are. Nothing here knows a URL: the photo view reads the bytes through the storage.
"""

import base64
import logging
import uuid
from dataclasses import dataclass, field

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from catalogue.models import TreatmentArea
from clinic.errors import SchedulingError
from clinical.services.consent import CLINICAL, MARKETING, photo_scopes
from photos.models import SessionPhoto
from photos.processing import PhotoRefused, clean_photo
from scheduling.models import Appointment

log = logging.getLogger(__name__)

View = SessionPhoto.View
# The standard views per area size: a small area (a fingertip tattoo, a freckle) is one front shot
# and a close-up; a large one (a back, both legs) has no close-up that tells anything; a medium
# one (a face, a forearm) all four. Areas named here override their size.
VIEWS_BY_SIZE = {
    TreatmentArea.Size.SMALL: (View.FRONT, View.CLOSE_UP),
    TreatmentArea.Size.MEDIUM: (View.FRONT, View.LEFT, View.RIGHT, View.CLOSE_UP),
    TreatmentArea.Size.LARGE: (View.FRONT, View.LEFT, View.RIGHT),
}
VIEWS_BY_AREA_NAME = {"face": (View.FRONT, View.LEFT, View.RIGHT, View.CLOSE_UP)}
DEFAULT_VIEWS = (View.FRONT, View.LEFT, View.RIGHT, View.CLOSE_UP)
TAKES_PHOTOS = (Appointment.Status.CHECKED_IN, Appointment.Status.COMPLETED)


def views_for(areas) -> tuple[str, ...]:
    """The standard views of a course's areas, in the order of View; all four when no area says."""
    wanted = set()
    for area in areas:
        wanted.update(VIEWS_BY_AREA_NAME.get(area.name.casefold()) or VIEWS_BY_SIZE.get(area.size, DEFAULT_VIEWS))
    return tuple(view for view in View.values if view in wanted) or tuple(DEFAULT_VIEWS)


def upload_blocker(*, appointment: Appointment) -> str | None:
    """Why no photo may be added to this visit now, or None: a treatment checked in or completed,
    and the patient's photo consent for the clinical record (read afresh, so a withdrawal counts)."""
    if appointment.kind != Appointment.Kind.TREATMENT:
        return "Photos belong to treatment sessions."
    if appointment.patient.erased_at is not None:
        return "This patient's records were erased."
    if appointment.status not in TAKES_PHOTOS:
        return "Photos can be added once the patient has been checked in."
    if CLINICAL not in photo_scopes(patient=appointment.patient):
        return (
            "The patient has not given photo consent for their clinical record (or has withdrawn it), "
            "so no photo can be added. Ask them to sign the photo consent first."
        )
    return None


@dataclass
class UploadResult:
    stored: list[SessionPhoto] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file name, the sentence why)


def photos_upload(*, appointment: Appointment, phase: str, files_by_view: dict[str, list], by) -> UploadResult:
    """Check, clean and store every file of one upload (`files_by_view`: a view to its uploaded files).

    Each file stands alone: a refused one is reported by its name and the others are stored. Each
    stored photo is its own transaction, so its files are deleted again if its row is not saved."""
    blocker = upload_blocker(appointment=appointment)
    if blocker:
        raise SchedulingError(blocker)
    if phase not in SessionPhoto.Phase.values:
        raise SchedulingError("Choose before or after the treatment.", field="phase")
    offered = views_for(appointment.course.areas.all()) if appointment.course_id else DEFAULT_VIEWS
    result = UploadResult()
    for view, files in files_by_view.items():
        if view not in offered:
            result.refused.extend((upload.name, "is for a view this area does not offer.") for upload in files)
            continue
        for upload in files:
            try:
                result.stored.append(_store(appointment=appointment, phase=phase, view=view, upload=upload, by=by))
            except PhotoRefused as refusal:
                result.refused.append((upload.name, str(refusal)))
    log.info(
        "appointment %s: %s photos stored, %s refused, by user %s",
        appointment.pk, len(result.stored), len(result.refused), getattr(by, "pk", None),
    )  # fmt: skip
    return result


def _store(*, appointment, phase, view, upload, by) -> SessionPhoto:
    limits = {"max_bytes": settings.PHOTO_MAX_BYTES, "max_pixels": settings.PHOTO_MAX_PIXELS}
    clean = clean_photo(upload, size=upload.size, **limits)
    storage = storages["photos"]
    key = uuid.uuid4()
    # Random names, two levels of folders from the key: no patient, date or visit in a path.
    stem = f"{key.hex[:2]}/{key.hex}"
    saved = []
    try:
        saved.append(storage.save(f"{stem}.jpg", ContentFile(clean.display)))
        saved.append(storage.save(f"{stem}-thumb.jpg", ContentFile(clean.thumbnail)))
        with transaction.atomic():
            return SessionPhoto.objects.create(
                key=key, appointment=appointment, phase=phase, view=view, image=saved[0], thumbnail=saved[1],
                width=clean.width, height=clean.height, bytes=len(clean.display), taken_at=_aware(clean.taken_at),
                uploaded_by=by,
            )  # fmt: skip
    except BaseException:
        _delete_files(saved)  # no file without its row
        raise


def _aware(taken_at):
    if taken_at is None:
        return None
    try:
        return timezone.make_aware(taken_at)  # the camera's clock, taken as the clinic's
    except (ValueError, OverflowError):  # a wall-clock time that a DST change skipped
        return None


def may_show(*, photo: SessionPhoto, scope: str = CLINICAL) -> bool:
    """Whether a photo may be shown for `scope`. For the clinical record, always: a photo taken
    under clinical consent is part of the medical record, which the clinic must keep and its
    clinicians read; a withdrawal stops new photos, it does not unmake the record. For teaching or
    marketing, only while the patient's current consent gives that scope, so withdrawal hides it."""
    if scope == CLINICAL:
        return True
    return scope == MARKETING and MARKETING in photo_scopes(patient=photo.appointment.patient)


def record_photo_view(*, photo: SessionPhoto, by, size: str) -> LogEntry:
    """Write down that `by` saw `photo` (its display image or thumbnail), in the audit trail."""
    return LogEntry.objects.log_create(
        photo, action=LogEntry.Action.ACCESS, changes=None, force_log=True, actor=by,
        additional_data={"event": "photo viewed", "size": size, "appointment": photo.appointment_id},
    )  # fmt: skip


def photo_bytes(*, photo: SessionPhoto, size: str = "display") -> bytes:
    with storages["photos"].open(photo.thumbnail if size == "thumbnail" else photo.image, "rb") as stored:
        return stored.read()


def patient_photos(patient_id: int):
    return SessionPhoto.objects.filter(appointment__patient_id=patient_id).select_related("appointment")


def photos_for_export(*, patient_id: int) -> list[dict]:
    """A patient's photos for their data export: what each one is, and the image itself (the
    display size, base64 JPEG; the thumbnail is a smaller copy of it)."""
    return [
        {
            "id": str(photo.key),
            "appointment": photo.appointment_id,
            "session_date": photo.appointment.start,
            "phase": photo.phase,
            "view": photo.view,
            "width": photo.width,
            "height": photo.height,
            "taken_at": photo.taken_at,
            "uploaded_at": photo.uploaded_at,
            "content_type": photo.content_type,
            "image_base64": base64.b64encode(photo_bytes(photo=photo)).decode("ascii"),
        }  # fmt: skip
        for photo in patient_photos(patient_id).order_by("appointment__start", "pk")
    ]


def photos_erase(*, patient_id: int) -> int:
    """Delete a patient's photos: the rows now, the files and thumbnails once the caller's
    transaction commits (a rolled-back erasure keeps them). Returns how many photos."""
    photos = list(patient_photos(patient_id).values_list("pk", "image", "thumbnail"))
    names = [name for _, image, thumbnail in photos for name in (image, thumbnail)]
    SessionPhoto.objects.filter(pk__in=[pk for pk, *_ in photos]).delete()
    transaction.on_commit(lambda: _delete_files(names))
    return len(photos)


REMOVAL_REASON_MAX = 200


@transaction.atomic
def photo_remove(*, photo: SessionPhoto, by, reason: str) -> None:
    """Remove one photo taken by mistake (the wrong view, moment or patient, or unusable), with the
    reason: the row now, its files once the transaction commits. The audit trail keeps the removal,
    who did it and why, and the photo's appointment, so the patient's trail shows it once the photo
    is gone (`records.audit`); the image itself is not kept, as on erasure."""
    reason = (reason or "").strip()
    if not reason:
        raise SchedulingError("Say why the photo is removed.", field="reason")
    if len(reason) > REMOVAL_REASON_MAX:
        raise SchedulingError(f"Keep the reason under {REMOVAL_REASON_MAX} characters.", field="reason")
    names = [photo.image, photo.thumbnail]
    with disable_auditlog():  # one entry, written here with the reason, instead of auditlog's own
        LogEntry.objects.log_create(
            photo, action=LogEntry.Action.DELETE, changes=None, force_log=True, actor=by,
            additional_data={"event": "photo removed", "reason": reason, "appointment": photo.appointment_id},
        )  # fmt: skip
        SessionPhoto.objects.filter(pk=photo.pk).delete()
    transaction.on_commit(lambda: _delete_files(names))
    log.info("photo %s of appointment %s removed", photo.pk, photo.appointment_id)


def _delete_files(names) -> None:
    storage = storages["photos"]
    for name in names:
        if name:
            storage.delete(name)
