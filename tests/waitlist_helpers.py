"""What the waitlist's tests share: patients waiting, and a visit whose cancellation frees a slot."""

from datetime import date, timedelta

from django.utils import timezone

from scheduling.services import appointment_book
from tests.conftest import local
from tests.factories import PatientFactory
from waitlist.services.entries import waitlist_join

# The slot the tests free: Monday 22 March 2027, 10:00-10:30 (three weeks after the frozen clock).
SLOT_DAY = date(2027, 3, 22)


def waiting(wants="consultation", *, patient=None, days_ago=0, **terms):
    """A patient put on the waitlist `days_ago` days before now (older entries are offered first)."""
    now = timezone.now()
    arguments = dict(
        patient=patient or PatientFactory(),
        wants=wants,
        earliest_date=timezone.localdate(now),
        latest_date=SLOT_DAY + timedelta(days=30),
    )
    entry = waitlist_join(**arguments | terms)
    if days_ago:
        type(entry).objects.filter(pk=entry.pk).update(created_at=now - timedelta(days=days_ago))
        entry.refresh_from_db()
    return entry


def booked_visit(clinic, start=None, *, kind="consultation", patient=None, **extra):
    """A visit of another patient, booked through the booking service, to cancel."""
    return appointment_book(
        patient=patient or PatientFactory(),
        kind=kind,
        start=start or local(22, 10),
        practitioner=clinic.practitioner,
        room=clinic.room,
        **extra,
    )
