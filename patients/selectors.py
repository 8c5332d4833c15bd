"""Finding patients: the one search rule that the staff search, the live search, the visit finder
and the API share (through `scheduling.selectors.patient_search`, which adds each one's next visit)."""

import re
from datetime import date

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace

from patients.models import Patient
from patients.services import PHONE_CHARACTERS

SEARCH_LIMIT = 50
SEARCH_MAX_LENGTH = 100
# Characters people type between the digits of a phone number; search ignores them on both sides.
_PHONE_SEPARATORS = (" ", "-", "(", ")", ".")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_search_date(text: str) -> date | None:
    """A date typed as YYYY-MM-DD or DD/MM/YYYY, or None."""
    match = _DMY.fullmatch(text)
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        return None
    return None


def _compact_phone(expression):
    for separator in _PHONE_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def clean_query(query: str) -> str:
    """The query as searched: whitespace collapsed, NUL removed (PostgreSQL cannot take it, nobody
    means it), at most SEARCH_MAX_LENGTH characters."""
    return " ".join(query.replace("\x00", "").split())[:SEARCH_MAX_LENGTH]


def patients_matching(query: str) -> QuerySet[Patient]:
    """Patients matching `query`, in name order; none for an empty query.

    Every word must match the first or last name; or the whole query is part of the email, part
    of the phone number (spaces, dashes and parentheses ignored), or the date of birth.
    """
    query = clean_query(query)
    if not query:
        return Patient.objects.none()
    words = Q()
    for word in query.split():
        words &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    match = words | Q(email__icontains=query)
    compact = "".join(c for c in query if c not in _PHONE_SEPARATORS)
    if PHONE_CHARACTERS.fullmatch(query) and sum(c.isdigit() for c in compact) >= 3:
        match |= Q(phone_compact__contains=compact)
    birth_date = parse_search_date(query)
    if birth_date is not None:
        match |= Q(date_of_birth=birth_date)
    return (
        Patient.objects.annotate(phone_compact=_compact_phone(F("phone")))
        .filter(match)
        .order_by("last_name", "first_name", "pk")
    )
