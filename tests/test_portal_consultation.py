"""The public pages where a new patient books a consultation (/book/, portal/consultation.py)."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from outbox.emails import build_message
from outbox.links import link_path, make_token
from outbox.models import Notification
from patients.models import Patient
from scheduling.models import Appointment
from scheduling.services.holds import consultation_slots_online
from tests.conftest import local
from tests.factories import AppointmentFactory, PatientFactory

BOOK = "/book/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()  # the throttle's counts live in the cache, which outlives a test's rollback
    yield
    cache.clear()


def details(**changes):
    person = {
        "first_name": "Grace", "last_name": "Hopper", "date_of_birth": "1986-12-09", "email": "grace@example.com",
        "phone": "+44 7700 900123", "email_consent": "on",
    }  # fmt: skip
    return person | changes


def first_slot(frozen) -> str:
    slot = consultation_slots_online(now=frozen)[0]
    return f"{int(slot.start.timestamp())}-{slot.practitioner.pk}-{slot.room.pk}"


def hold_link(appointment) -> str:
    """The link in the hold's email, as the outbox builds it."""
    row = Notification.objects.get(appointment=appointment, kind=Notification.Kind.HOLD)
    return re.search(r"http\S+/book/confirm/\S+/", build_message(row).body).group(0)


def test_the_page_offers_consultation_times_under_the_strict_policy(client, clinic, frozen):
    response = client.get(BOOK)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Monday 1 March" in html and 'value="' in html and "09:00" in html
    assert "<style" not in html and "style=" not in html and "<script>" not in html
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_booking_holds_the_time_and_sends_the_link_at_once(client, clinic, frozen):
    response = client.post(BOOK, details(slot=first_slot(frozen)))
    assert response.status_code == 302 and response["Location"] == reverse("consultation:held")
    held = Appointment.objects.get()
    assert (held.status, held.kind, held.start) == ("held", "consultation", local(1, 9))
    row = Notification.objects.get(appointment=held)
    assert (row.kind, row.due_at) == (Notification.Kind.HOLD, frozen)
    page = client.get(response["Location"]).content.decode()
    assert "Check your inbox" in page and "within 30 minutes" in page


def test_the_answer_does_not_say_whether_the_address_is_on_file(client, clinic, frozen):
    known = PatientFactory(email="ada@example.com", first_name="Ada", phone="+44 20 7946 0001")
    slots = consultation_slots_online(now=frozen)
    answers = []
    for email, slot in (("ada@example.com", slots[0]), ("nobody@example.com", slots[4])):  # an hour apart
        value = f"{int(slot.start.timestamp())}-{slot.practitioner.pk}-{slot.room.pk}"
        response = client.post(BOOK, details(email=email, slot=value), follow=True)
        answers.append((response.status_code, response.redirect_chain, response.content))
    assert answers[0] == answers[1]
    known.refresh_from_db()
    assert (known.first_name, known.phone) == ("Ada", "+44 20 7946 0001")
    assert not known.appointments.exists()  # linked only once the address is confirmed


def test_bad_input_is_refused_as_the_staff_form_refuses_it_and_nothing_is_lost(client, clinic, frozen):
    slot = first_slot(frozen)
    response = client.post(BOOK, details(slot=slot, phone="call me", date_of_birth="2099-01-01", email=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Use only digits, spaces, +, - and parentheses." in html  # patients.services.check_phone
    assert "The date of birth cannot be in the future." in html  # patients.services.check_date_of_birth
    assert "Nothing is booked yet" in html
    assert 'value="Grace"' in html and 'value="Hopper"' in html and 'value="call me"' in html
    assert f'value="{slot}" checked' in html
    assert not Appointment.objects.exists() and not Patient.objects.filter(first_name="Grace").exists()


def test_a_time_taken_meanwhile_is_refused_with_the_details_kept(client, clinic, frozen):
    slot = first_slot(frozen)
    AppointmentFactory(practitioner=clinic.practitioner, start=local(1, 9), end=local(1, 9, 30))
    response = client.post(BOOK, details(slot=slot))
    assert response.status_code == 400
    html = response.content.decode()
    assert "That time is no longer offered. Please choose another." in html and 'value="grace@example.com"' in html
    assert not Patient.objects.filter(first_name="Grace").exists()


def test_a_slot_value_that_was_never_offered_is_refused(client, clinic, frozen):
    response = client.post(BOOK, details(slot=f"{int(local(1, 3).timestamp())}-{clinic.practitioner.pk}-1"))
    assert response.status_code == 400
    assert "That time is no longer offered" in response.content.decode()


def test_the_link_shows_the_booking_and_its_button_confirms_it(client, clinic, frozen):
    client.post(BOOK, details(slot=first_slot(frozen)))
    held = Appointment.objects.get()
    link = hold_link(held).removeprefix("http://127.0.0.1:8000")
    page = client.get(link)
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    assert "Confirm my booking" in page.content.decode() and "until <strong>08:30" in page.content.decode()
    assert Appointment.objects.get().status == "held"  # a GET (a mail scanner) changes nothing
    confirmed = client.post(link)
    assert "Your consultation is booked" in confirmed.content.decode()
    assert Appointment.objects.get().status == "booked"
    assert Notification.objects.filter(appointment=held, kind=Notification.Kind.CONFIRMATION).exists()
    again = client.get(link)
    assert again.status_code == 410 and "already confirmed" in again.content.decode()


def test_an_expired_link_says_so_and_offers_to_book_again(client, clinic, frozen, time_machine):
    client.post(BOOK, details(slot=first_slot(frozen)))
    link = link_path("hold", make_token("hold", appointment=Appointment.objects.get()))
    time_machine.move_to(frozen + timedelta(minutes=30), tick=False)
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 410
        assert "Book a consultation again" in response.content.decode()
    assert Appointment.objects.get().status == "held"  # the sweep releases it


def test_a_tampered_link_is_refused(client, clinic, frozen):
    client.post(BOOK, details(slot=first_slot(frozen)))
    token = make_token("hold", appointment=Appointment.objects.get())
    response = client.post(link_path("hold", token[:-2] + ("AA" if not token.endswith("AA") else "BB")))
    assert response.status_code == 400 and "not valid" in response.content.decode()
    confirm_token = make_token("confirm", appointment=Appointment.objects.get())  # another purpose's token
    assert client.post(link_path("hold", confirm_token)).status_code == 400
    assert Appointment.objects.get().status == "held"


def test_bookings_are_throttled_per_client_address(client, clinic, frozen, settings):
    settings.ONLINE_BOOKING_RATE = "2/h"
    slots = consultation_slots_online(now=frozen)
    values = [f"{int(s.start.timestamp())}-{s.practitioner.pk}-{s.room.pk}" for s in slots[:12:4]]  # hours apart
    statuses = [client.post(BOOK, details(email=f"p{n}@example.com", slot=v)).status_code for n, v in enumerate(values)]
    assert statuses == [302, 302, 429]
    assert Appointment.objects.count() == 2
    other = client.post(BOOK, details(slot=values[2]), REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302
