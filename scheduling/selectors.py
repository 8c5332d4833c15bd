"""Reads about the schedule that several pages and the API share."""

from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from patients.models import Patient
from patients.selectors import SEARCH_LIMIT, patients_matching
from scheduling.models import Appointment


def patient_search(*, query: str, now: datetime | None = None, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Patients matching `query` (see `patients.selectors.patients_matching`), at most `limit` of them
    (ask for one more to know whether there are more). Each carries `next_appointment_id` and
    `next_appointment_start`: the next visit not yet over."""
    now = now or timezone.now()
    upcoming = Appointment.objects.filter(
        patient=OuterRef("pk"), status__in=Appointment.UPCOMING_STATUSES, end__gt=now
    ).order_by("start", "pk")
    patients = patients_matching(query).annotate(
        next_appointment_id=Subquery(upcoming.values("pk")[:1]),
        next_appointment_start=Subquery(upcoming.values("start")[:1]),
    )
    return list(patients[:limit])
