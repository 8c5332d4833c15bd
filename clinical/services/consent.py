"""Consent: which text a patient must sign, signing it, and the photo consent's scopes.

Request-free, with the acting user as `by`, so the patient's pages, the clinic's tablet at
check-in, the API and the admin call the same functions. The signature keeps the version signed,
the typed full name, the time and the client's address; a new version of a text asks again.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clinic.errors import SchedulingError
from clinical.models import ConsentSignature, ConsentText, TreatmentCourse

CLINICAL = "clinical"
MARKETING = "marketing"


def current_text(*, kind: str, condition=None, now: datetime | None = None) -> ConsentText | None:
    """The version patients sign now: the highest one published by `now`; None if the clinic has
    written no such text (then there is nothing to sign)."""
    now = now or timezone.now()
    texts = ConsentText.objects.filter(kind=kind, published_at__lte=now)
    if kind == ConsentText.Kind.TREATMENT:
        texts = texts.filter(condition=condition)
    return texts.order_by("-version").first()


def next_version(*, kind: str, condition=None) -> int:
    """The number a new version of the text takes: one more than the highest so far (1 for the first)."""
    texts = ConsentText.objects.filter(kind=kind)
    if kind == ConsentText.Kind.TREATMENT:
        texts = texts.filter(condition=condition)
    highest = texts.order_by("-version").values_list("version", flat=True).first()
    return (highest or 0) + 1


def is_signed(text: ConsentText) -> bool:
    """Whether anyone signed this version; a signed version never changes (a new wording is a new version)."""
    return text.pk is not None and ConsentSignature.objects.filter(text=text).exists()


def unsigned_treatment_text(*, patient, condition, now: datetime | None = None) -> ConsentText | None:
    """The current treatment consent for `condition` if `patient` has not signed that version;
    None when it is signed, or when the clinic has no text for the condition."""
    text = current_text(kind=ConsentText.Kind.TREATMENT, condition=condition, now=now)
    if text is None or ConsentSignature.objects.filter(patient=patient, text=text).exists():
        return None
    return text


def unsigned_photo_text(*, patient, now: datetime | None = None) -> ConsentText | None:
    """The current photo consent if the patient has not answered that version (given or refused)
    since they last withdrew; None otherwise."""
    text = current_text(kind=ConsentText.Kind.PHOTO, now=now)
    if text is None or ConsentSignature.objects.filter(patient=patient, text=text, withdrawn_at=None).exists():
        return None
    return text


def unsigned_texts(*, patient, now: datetime | None = None) -> list[ConsentText]:
    """What the patient has still to sign, for their pages and the clinic's tablet: the current
    treatment consent of each condition they have an approved or active course for, then the photo
    consent if they have not answered its current version."""
    conditions = (
        TreatmentCourse.objects.filter(patient=patient, status__in=TreatmentCourse.BOOKABLE_STATUSES)
        .select_related("condition")
        .order_by("condition__name")
    )
    texts = []
    for condition in dict.fromkeys(course.condition for course in conditions):
        text = unsigned_treatment_text(patient=patient, condition=condition, now=now)
        if text is not None:
            texts.append(text)
    photo = unsigned_photo_text(patient=patient, now=now)
    return [*texts, photo] if photo is not None else texts


def standing_photo_consents(patient):
    """The patient's photo consents not withdrawn, latest first: the first is the one that stands,
    whatever its version. `patient` may be an `OuterRef`, for a subquery over many patients."""
    return ConsentSignature.objects.filter(
        patient=patient, text__kind=ConsentText.Kind.PHOTO, withdrawn_at=None
    ).order_by("-signed_at", "-pk")


def photo_scopes(*, patient) -> frozenset[str]:
    """The photo scopes the patient has given (CLINICAL, MARKETING) by the photo consent that
    stands (`standing_photo_consents`); empty when they refused, withdrew or never answered. Read
    at every upload and every showing, so a withdrawal counts at once."""
    latest = standing_photo_consents(patient).values("photo_clinical", "photo_marketing").first()
    if latest is None:
        return frozenset()
    given = {CLINICAL: latest["photo_clinical"], MARKETING: latest["photo_marketing"]}
    return frozenset(scope for scope, yes in given.items() if yes)


def _same_name(typed: str, patient) -> bool:
    def words(name):
        return " ".join(name.casefold().split())

    return words(typed) == words(patient.full_name)


def consent_sign(
    *,
    patient,
    text: ConsentText,
    typed_name: str,
    channel: str,
    client_address: str | None,
    photo_clinical: bool | None = None,
    photo_marketing: bool | None = None,
    witnessed_by=None,
    now: datetime | None = None,
) -> ConsentSignature:
    """Sign `text` for `patient`. The typed name must be the patient's full name (case and spaces
    aside), the text the current version of its kind, and a photo consent answers both scopes."""
    now = now or timezone.now()
    if patient.erased_at is not None:
        raise SchedulingError("This patient's details were erased on request.", field="patient")
    if not _same_name(typed_name, patient):
        raise SchedulingError("Type your full name as the clinic has it, to sign.", field="typed_name")
    current = current_text(kind=text.kind, condition=text.condition, now=now)
    if current is None or current.pk != text.pk:
        raise SchedulingError("This consent text has a newer version; please read and sign that one.", field="text")
    if text.kind == ConsentText.Kind.PHOTO:
        if photo_clinical is None or photo_marketing is None:
            raise SchedulingError("Say yes or no to each use of photos.", field="photo_clinical")
    elif photo_clinical is not None or photo_marketing is not None:
        raise SchedulingError("A treatment consent has no photo scopes.", field="photo_clinical")
    with transaction.atomic():
        if text.kind == ConsentText.Kind.PHOTO:
            # The new answer replaces the old: only one photo consent stands at a time.
            _withdraw_photo_consent(patient, now)
        return ConsentSignature.objects.create(
            patient=patient,
            text=text,
            typed_name=" ".join(typed_name.split()),
            signed_at=now,
            client_address=client_address,
            channel=channel,
            witnessed_by=witnessed_by,
            photo_clinical=photo_clinical,
            photo_marketing=photo_marketing,
        )


def photo_consent_withdraw(*, patient, now: datetime | None = None) -> int:
    """Withdraw the patient's photo consent: no new photos and no marketing use from this moment.
    Returns how many standing signatures it withdrew (0 if none stood)."""
    with transaction.atomic():
        return _withdraw_photo_consent(patient, now or timezone.now())


def _withdraw_photo_consent(patient, now) -> int:
    # Saved one by one, not updated in bulk, so each withdrawal is in the audit trail.
    standing = ConsentSignature.objects.select_for_update().filter(
        patient=patient, text__kind=ConsentText.Kind.PHOTO, withdrawn_at=None
    )
    count = 0
    for signature in standing:
        signature.withdrawn_at = now
        signature.save(update_fields=["withdrawn_at"])
        count += 1
    return count
