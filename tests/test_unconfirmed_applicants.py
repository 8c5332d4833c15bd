"""The record an online hold makes for its applicant is erased when the hold expires unconfirmed
(records.applicants), and only then: confirmed bookings, patients with anything else, and holds
released too recently keep theirs."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry

from patients.models import Patient
from records.applicants import forget_unconfirmed_applicants
from records.tasks import forget_unconfirmed_applicants_task
from scheduling.models import Appointment
from scheduling.services.holds import hold_confirm
from scheduling.tasks import release_expired_holds
from tests.conftest import local
from tests.factories import PatientFactory
from tests.test_consultation_hold import hold

pytestmark = pytest.mark.django_db


def test_an_unconfirmed_applicants_details_go_three_days_after_the_hold_expired(clinic, frozen, time_machine):
    held = hold(clinic)
    applicant = held.patient
    regular = PatientFactory(last_name="Lovelace")
    time_machine.move_to(frozen + timedelta(minutes=31), tick=False)
    assert release_expired_holds() == 1
    time_machine.move_to(frozen + timedelta(hours=72), tick=False)
    assert forget_unconfirmed_applicants() == 0  # 71½ hours after the expiry: reception may still look
    time_machine.move_to(frozen + timedelta(hours=73), tick=False)
    assert forget_unconfirmed_applicants_task() == 1
    applicant.refresh_from_db()
    assert applicant.erased_at is not None
    assert (applicant.first_name, applicant.email, applicant.phone, applicant.date_of_birth) == ("Erased", "", "", None)
    held.refresh_from_db()
    assert held.status == Appointment.Status.RELEASED  # the anonymous history stays
    trail = LogEntry.objects.get_for_object(applicant).values_list("changes_text", "changes", "additional_data")
    assert "Grace" not in str(list(trail)) and "grace@example.com" not in str(list(trail))
    assert Patient.objects.get(pk=regular.pk).erased_at is None
    assert forget_unconfirmed_applicants() == 0  # erased once


def test_a_confirmed_hold_or_an_applicant_with_another_visit_keeps_the_record(clinic, frozen, time_machine):
    confirmed = hold_confirm(appointment=hold(clinic))
    other = hold(clinic, start=local(1, 11), email="ada@example.com", first_name="Ada")
    Appointment.objects.create(
        patient=other.patient, kind="consultation", practitioner=clinic.practitioner, room=clinic.room,
        start=local(8, 10), end=local(8, 10, 30), blocked_until=local(8, 10, 30), status="booked",
    )  # fmt: skip
    time_machine.move_to(frozen + timedelta(days=5), tick=False)
    release_expired_holds()
    assert forget_unconfirmed_applicants() == 0
    assert set(Patient.objects.filter(erased_at__isnull=False)) == set()
    assert confirmed.patient.first_name == "Grace"
