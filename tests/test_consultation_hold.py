"""Consultations held online until the patient confirms their address (scheduling.services.holds)."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from clinic.errors import BookingConflict
from outbox import sending
from outbox.models import Notification
from patients.models import Patient
from scheduling.models import Appointment
from scheduling.selectors import board_appointments, status_words
from scheduling.services import appointment_book, find_slots
from scheduling.services.holds import (
    HoldNotConfirmable,
    consultation_hold,
    consultation_slots_online,
    hold_confirm,
    owner_of_address,
)
from scheduling.tasks import release_expired_holds
from tests.conftest import local
from tests.factories import AppointmentFactory, PatientFactory

Kind = Notification.Kind


def hold(clinic, start=None, **details):
    """A consultation held through the service for a new person (Grace Hopper unless told)."""
    person = dict(
        first_name="Grace", last_name="Hopper", date_of_birth=date(1986, 12, 9), email="grace@example.com",
        phone="+44 7700 900123", email_consent=False,
    )  # fmt: skip
    return consultation_hold(
        **person | details, start=start or local(1, 10), practitioner=clinic.practitioner, room=clinic.room
    )


def consultation_starts(clinic, now=None):
    slots = find_slots(kind="consultation", start_date=date(2027, 3, 1), days=1, limit=40, now=now)
    return {slot.start for slot in slots if slot.practitioner == clinic.practitioner}


def book_other(clinic, start):
    return appointment_book(
        patient=PatientFactory(), kind="consultation", start=start, practitioner=clinic.practitioner, room=clinic.room
    )


# --- While held -----------------------------------------------------------------------------------


def test_a_hold_keeps_its_time_from_the_slot_search_and_from_other_bookings(clinic, frozen):
    assert local(1, 10) in consultation_starts(clinic)
    held = hold(clinic)
    assert held.status == "held" and held.hold_expires_at == frozen + timedelta(minutes=30)
    assert local(1, 10) not in consultation_starts(clinic)
    with pytest.raises(BookingConflict) as refusal:
        book_other(clinic, local(1, 10, 15))
    assert {c.resource for c in refusal.value.conflicts} >= {"practitioner", "room"}
    assert {c.appointment_id for c in refusal.value.conflicts} == {held.pk}


def test_a_hold_plans_only_its_link_email_which_goes_whatever_the_consent(clinic, frozen, mailoutbox):
    held = hold(clinic, email_consent=False)
    [row] = Notification.objects.filter(appointment=held)
    assert (row.kind, row.due_at) == (Kind.HOLD, frozen)
    [notification_id] = sending.claim_due()
    assert sending.send(notification_id) == "sent"
    [message] = mailoutbox
    assert message.to == ["grace@example.com"]
    assert "/book/confirm/" in message.body and "08:30" in message.body


def test_the_public_page_offers_no_time_that_a_hold_would_outlive(clinic, frozen):
    starts = [slot.start for slot in consultation_slots_online()]
    assert starts and min(starts) >= frozen + timedelta(minutes=30)
    assert len(starts) == len(set(starts))


def test_a_held_card_says_until_when_and_looks_distinct(clinic, frozen):
    hold(clinic)
    [card] = board_appointments(first=local(1, 0), last=local(2, 0))
    assert status_words(card.status, card.hold_expires_at) == "Held until 08:30"
    assert status_words("booked") == "Booked"


# --- Expiry ---------------------------------------------------------------------------------------


def test_the_sweep_releases_an_expired_hold_and_its_time_is_offered_again(clinic, frozen, time_machine):
    held = hold(clinic)
    time_machine.move_to(frozen + timedelta(minutes=29), tick=False)
    assert release_expired_holds() == 0
    time_machine.move_to(frozen + timedelta(minutes=30), tick=False)
    assert release_expired_holds() == 1
    held.refresh_from_db()
    assert held.status == "released"
    assert local(1, 10) in consultation_starts(clinic)
    assert not Notification.objects.filter(appointment=held).exclude(kind=Kind.HOLD).exists()


def test_an_expired_hold_is_offered_and_given_to_a_booking_before_any_sweep(clinic, frozen, time_machine):
    held = hold(clinic)
    time_machine.move_to(frozen + timedelta(minutes=31), tick=False)
    assert local(1, 10) in consultation_starts(clinic)
    visit = book_other(clinic, local(1, 10))
    held.refresh_from_db()
    assert (held.status, visit.status) == ("released", "booked")


def test_a_search_weighs_holds_as_of_its_own_now_not_the_wall_clock(clinic, frozen):
    hold(clinic)  # held until frozen + 30 minutes, on the wall clock too
    assert local(1, 10) not in consultation_starts(clinic, now=frozen + timedelta(minutes=29))
    assert local(1, 10) in consultation_starts(clinic, now=frozen + timedelta(minutes=30))


def test_the_link_email_of_a_released_hold_is_not_sent(clinic, frozen, time_machine):
    held = hold(clinic)
    row = Notification.objects.get(appointment=held)
    time_machine.move_to(frozen + timedelta(minutes=31), tick=False)
    assert sending.unwanted_reason(row) == "The booking is no longer held."


# --- Confirming -----------------------------------------------------------------------------------


def test_confirming_in_time_books_the_consultation_and_plans_its_confirmation(clinic, frozen, time_machine):
    held = hold(clinic)
    time_machine.move_to(frozen + timedelta(minutes=29), tick=False)
    confirmed = hold_confirm(appointment=held)
    assert (confirmed.status, confirmed.hold_expires_at) == ("booked", None)
    kinds = set(Notification.objects.filter(appointment=held).values_list("kind", flat=True))
    assert kinds == {Kind.HOLD, Kind.CONFIRMATION}
    assert confirmed.patient.first_name == "Grace"  # the record made for the hold is the patient's now
    time_machine.move_to(frozen + timedelta(hours=2), tick=False)
    assert release_expired_holds() == 0  # a confirmed hold is a booking: nothing to release
    assert Appointment.objects.get(pk=held.pk).status == "booked"


def test_a_hold_cannot_be_confirmed_once_expired_or_twice(clinic, frozen, time_machine):
    late, twice = hold(clinic), hold(clinic, local(1, 14), email="twice@example.com")
    hold_confirm(appointment=twice)
    time_machine.move_to(frozen + timedelta(minutes=30), tick=False)
    with pytest.raises(HoldNotConfirmable) as expired:
        hold_confirm(appointment=late)
    with pytest.raises(HoldNotConfirmable) as used:
        hold_confirm(appointment=twice)
    assert (expired.value.reason, used.value.reason) == ("expired", "used")
    assert Appointment.objects.get(pk=late.pk).status == "held"  # nothing changed: the sweep releases it


def test_a_known_address_is_linked_to_its_patient_only_on_confirming_and_their_details_stay(clinic, frozen):
    known = PatientFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+44 20 7946 0001")
    held = hold(clinic, first_name="Someone", last_name="Else", email="ADA@example.com", phone="0161 496 0000")
    assert held.patient_id != known.pk  # nothing of the known record is touched, or told, before the link
    applicant = held.patient_id
    hold_confirm(appointment=held)
    held.refresh_from_db()
    known.refresh_from_db()
    assert held.patient_id == known.pk
    assert (known.first_name, known.last_name, known.phone) == ("Ada", "Lovelace", "+44 20 7946 0001")
    assert not Patient.objects.filter(pk=applicant).exists()


def test_a_known_patient_with_a_visit_then_is_told_on_confirming(clinic, frozen):
    known = PatientFactory(email="ada@example.com")
    AppointmentFactory(
        patient=known, kind="consultation", start=local(1, 10), end=local(1, 10, 30), blocked_until=local(1, 10, 30)
    )
    # The other visit has another practitioner and room: only the patient clashes.
    held = hold(clinic, local(1, 10), email="ada@example.com")
    with pytest.raises(BookingConflict, match="already have a visit"):
        hold_confirm(appointment=held)
    assert Appointment.objects.get(pk=held.pk).status == "held"


def test_records_made_for_holds_are_never_taken_for_the_owner_of_an_address(clinic, frozen):
    first = hold(clinic, email="new@example.com")
    second = hold(clinic, local(1, 14), email="new@example.com")
    assert owner_of_address("new@example.com", besides=second.patient_id) is None
    hold_confirm(appointment=second)
    assert owner_of_address("new@example.com", besides=first.patient_id) == second.patient


def test_bad_details_save_nothing(clinic, frozen):
    with pytest.raises(Exception) as refusal:
        hold(clinic, phone="call me", date_of_birth=date(2030, 1, 1))
    assert set(refusal.value.message_dict) == {"phone", "date_of_birth"}
    assert not Appointment.objects.exists() and Patient.objects.filter(first_name="Grace").count() == 0


# --- The database's guard -------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's")
def test_postgresql_refuses_a_row_written_past_the_service_over_a_hold(clinic, frozen):
    hold(clinic)
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(
            kind="consultation", practitioner=clinic.practitioner, patient=PatientFactory(), start=local(1, 10, 15),
            end=local(1, 10, 45), blocked_until=local(1, 10, 45),
        )  # fmt: skip
