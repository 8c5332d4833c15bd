"""Finding patients: the one search rule that the staff search, the live search, the visit finder
and the API share (the pages through `scheduling.selectors.patient_search`, which adds each one's
next visit)."""

import re
from datetime import date, datetime

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Replace, Substr

from patients.models import Patient
from patients.services import DATE_INPUT_FORMATS, MIN_PHONE_DIGITS

SEARCH_LIMIT = 50
SEARCH_MAX_LENGTH = 100
# Characters people type between the digits of a phone number; search ignores them on both sides.
_PHONE_SEPARATORS = (" ", "-", "(", ")", ".")
# How a UK number may begin, longest first: "+44 (0)20 …", "+44 20 …" and "020 …" are the same
# number, so search compares what follows the prefix, in the query and in the stored number.
_PHONE_PREFIXES = ("+440", "+44", "0")
_PHONE_QUERY = re.compile(r"\+?\d+")
MIN_PHONE_SEARCH_DIGITS = 3


def parse_search_date(text: str) -> date | None:
    """A date typed in one of the patient form's formats (`DATE_INPUT_FORMATS`), or None."""
    for date_format in DATE_INPUT_FORMATS:
        try:
            return datetime.strptime(text, date_format).date()  # noqa: DTZ007 (a calendar day, no time)
        except ValueError:
            continue
    return None


def national_phone(text: str) -> str:
    """A phone number as search compares it: no separators and no leading +44 or 0, so
    "+44 7700 900123", "07700 900123" and "7700900123" are all "7700900123"."""
    compact = "".join(c for c in text if c not in _PHONE_SEPARATORS)
    for prefix in _PHONE_PREFIXES:
        if compact.startswith(prefix):
            return compact[len(prefix) :]
    return compact


def _with_national_phone(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """`patients` with `phone_national`: `national_phone` of the stored number, in SQL."""
    compact = F("phone")
    for separator in _PHONE_SEPARATORS:
        compact = Replace(compact, Value(separator), Value(""))
    national = Case(
        *(
            When(phone_compact__startswith=prefix, then=Substr("phone_compact", len(prefix) + 1))
            for prefix in _PHONE_PREFIXES
        ),
        default=F("phone_compact"),
    )
    return patients.annotate(phone_compact=compact).annotate(phone_national=national)


def clean_query(query: str) -> str:
    """The query as searched: whitespace collapsed, NUL removed (PostgreSQL cannot take it, nobody
    means it), at most SEARCH_MAX_LENGTH characters."""
    return " ".join(query.replace("\x00", "").split())[:SEARCH_MAX_LENGTH]


def patients_matching(query: str) -> QuerySet[Patient]:
    """Patients matching `query`, in name order; none for an empty query.

    Every word must match part of the first or last name; or the whole query is part of the email,
    part of the phone number (spaces, dashes, parentheses, dots and a leading +44 or 0 ignored on
    both sides), or the date of birth in one of the patient form's formats.
    """
    query = clean_query(query)
    if not query:
        return Patient.objects.none()
    words = Q()
    for word in query.split():
        words &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    match = words | Q(email__icontains=query)
    patients = Patient.objects.all()
    compact = "".join(c for c in query if c not in _PHONE_SEPARATORS)
    phone = national_phone(query)
    if _PHONE_QUERY.fullmatch(compact) and len(phone) >= MIN_PHONE_SEARCH_DIGITS:
        patients = _with_national_phone(patients)
        match |= Q(phone_national__contains=phone)
    birth_date = parse_search_date(query)
    if birth_date is not None:
        match |= Q(date_of_birth=birth_date)
    return patients.filter(match).order_by("last_name", "first_name", "pk")


DUPLICATES_SHOWN = 10


def likely_duplicates(
    *, first_name: str, last_name: str, date_of_birth: date | None, email: str = "", phone: str = ""
) -> list[tuple[Patient, list[str]]]:
    """Patients on file who may be the person being registered, each with what they share: the same
    first and last name (any case) and date of birth, the same email (any case), or the same phone
    number as search compares phones (`national_phone`). Erased records are not offered."""
    first_name, last_name, email = first_name.strip(), last_name.strip(), email.strip()
    # Only a whole number is compared (the form accepts nothing shorter), not a fragment of one.
    phone = national_phone(phone.strip()) if sum(c.isdigit() for c in phone) >= MIN_PHONE_DIGITS else ""
    match = Q(pk__in=[])
    if first_name and last_name and date_of_birth:
        match |= Q(first_name__iexact=first_name, last_name__iexact=last_name, date_of_birth=date_of_birth)
    if email:
        match |= Q(email__iexact=email)
    patients = Patient.objects.filter(erased_at__isnull=True)
    if phone:
        patients = _with_national_phone(patients)
        match |= Q(phone_national=phone)
    found = []
    for patient in patients.filter(match).order_by("last_name", "first_name", "pk")[:DUPLICATES_SHOWN]:
        reasons = []
        if (patient.first_name.casefold(), patient.last_name.casefold(), patient.date_of_birth) == (
            first_name.casefold(),
            last_name.casefold(),
            date_of_birth,
        ):
            reasons.append("same name and date of birth")
        if email and patient.email.casefold() == email.casefold():
            reasons.append("same email")
        if phone and patient.phone and national_phone(patient.phone) == phone:
            reasons.append("same phone")
        found.append((patient, reasons))
    return found
