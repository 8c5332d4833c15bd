"""Patient records: the rules a patient's details keep.

Every way a patient is created or changed from the staff pages goes through `patient_create` and
`patient_update`, which check the details and raise a `ValidationError` keyed by field. The forms
call the same `check_*` functions so that all mistakes show at once, before the service runs.
"""

import logging
import re
from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import Patient

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "skin_type",
    "email_consent",
    "notes",
)
PHONE_CHARACTERS = re.compile(r"[0-9 +\-()]+")
# The ways staff type a date of birth, in the order tried: the patient form accepts these and the
# patient search finds a birth date typed in any of them.
DATE_INPUT_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 20
MAX_AGE_YEARS = 120


# Rules


def check_phone(value: str) -> None:
    """A phone number: digits, spaces, +, - and parentheses, with 7 to 20 digits."""
    if not value:
        return
    if not PHONE_CHARACTERS.fullmatch(value):
        raise ValidationError("Use only digits, spaces, +, - and parentheses.", code="phone_characters")
    digits = sum(c.isdigit() for c in value)
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        raise ValidationError(
            f"A phone number has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits.", code="phone_length"
        )


def earliest_birth_date(today: date) -> date:
    """The first date of birth accepted: MAX_AGE_YEARS before `today` (28 February for a 29th)."""
    year = today.year - MAX_AGE_YEARS
    try:
        return today.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def check_date_of_birth(value: date, *, today: date | None = None) -> None:
    """Not in the future (on the clinic's calendar) and not more than MAX_AGE_YEARS ago."""
    today = today or timezone.localdate()
    if value > today:
        raise ValidationError("The date of birth cannot be in the future.", code="future")
    if value < earliest_birth_date(today):
        raise ValidationError(f"The date of birth cannot be more than {MAX_AGE_YEARS} years ago.", code="too_old")


def _normalise(details: dict) -> dict:
    return {name: value.strip() if isinstance(value, str) else value for name, value in details.items()}


def _validate(patient: Patient, changed: set[str]) -> None:
    """Check the `changed` fields of `patient`: the model's own field rules, then the clinic's."""
    errors: dict[str, list] = {}
    unchanged = [f.name for f in Patient._meta.fields if f.name not in changed]
    try:
        patient.full_clean(exclude=unchanged, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.update(error.error_dict)
    rules = {"phone": check_phone, "date_of_birth": check_date_of_birth}
    for name, rule in rules.items():
        value = getattr(patient, name)
        if name in changed and name not in errors and value is not None:
            try:
                rule(value)
            except ValidationError as error:
                errors[name] = [error]
    if errors:
        raise ValidationError(errors)


def patient_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str = "",
    phone: str = "",
    skin_type: int | None = None,
    email_consent: bool = False,
    notes: str = "",
) -> Patient:
    """Register a patient, or raise ValidationError naming each field that breaks a rule."""
    details = _normalise(
        {
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "email": email,
            "phone": phone,
            "skin_type": skin_type,
            "email_consent": email_consent,
            "notes": notes,
        }
    )
    patient = Patient(**details)
    _validate(patient, set(details))
    patient.save()
    logger.info("patient %s created", patient.pk)
    return patient


def patient_update(*, patient: Patient, **changes) -> Patient:
    """Change some of a patient's details (any of EDITABLE_FIELDS), checking only what changes.

    Raises ValidationError keyed by field; nothing is saved then. `patient` is refreshed in place.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"patient_update() cannot change {', '.join(sorted(unknown))}")
    changes = _normalise(changes)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.erased_at is not None:
            raise ValidationError("This patient's details were erased on request and cannot be edited.")
        for name, value in changes.items():
            setattr(locked, name, value)
        _validate(locked, set(changes))
        locked.save(update_fields=[*changes, "updated_at"])
    for name in (*changes, "updated_at"):
        setattr(patient, name, getattr(locked, name))
    logger.info("patient %s updated: %s", patient.pk, ", ".join(sorted(changes)))
    return patient


def patient_account(*, patient: Patient):
    """The patient's own sign-in account (for their online pages), made the first time it is needed.

    Not a staff account: no password anyone could type (unusable), no groups, `is_staff` off, and no
    name or address of the patient's in it (its username is the patient's id), so the staff login,
    the admin and the API never accept it. Made under the patient's row lock, so two first requests
    at once make one."""
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.user_id is None:
            user = get_user_model()(username=f"patient:{locked.pk}", is_staff=False, is_superuser=False)
            user.set_unusable_password()
            user.save()
            locked.user = user
            locked.save(update_fields=["user", "updated_at"])
            logger.info("patient %s: sign-in account made", locked.pk)
    patient.user_id = locked.user_id
    return locked.user
