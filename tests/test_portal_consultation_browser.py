"""A new patient books a consultation on a phone-sized Chromium (390 px), from the page to the
emailed link, with axe-core on every page they see (no serious or critical violation)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from outbox.emails import build_message
from outbox.models import Notification
from scheduling.models import Appointment
from tests.browser import settle
from tests.conftest import MONDAY_MORNING
from tests.test_accessibility import AXE_OPTIONS, _blocking

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def check(page, axe, step) -> list[str]:
    settle(page)
    wider = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    return _blocking(axe.run(page, options=AXE_OPTIONS), step) + ([f"{step}: scrolls sideways"] if wider else [])


def test_a_new_patient_books_and_confirms_a_consultation_on_a_phone(live_server, page, clinic, time_machine):
    time_machine.move_to(MONDAY_MORNING, tick=True)
    page.set_viewport_size({"width": 390, "height": 844})
    axe, found = Axe(), []
    page.goto(f"{live_server.url}/book/")
    found += check(page, axe, "the booking page")

    page.click("button:has-text('Hold this time')")  # nothing chosen or typed: the server says what is missing
    page.wait_for_selector("text=Nothing is booked yet")
    found += check(page, axe, "the booking page with its errors")

    page.click("label[for^='slot-']:has-text('09:00')")
    page.fill("#id_first_name", "Grace")
    page.fill("#id_last_name", "Hopper")
    page.fill("#id_date_of_birth", "1986-12-09")
    page.fill("#id_email", "grace@example.com")
    page.fill("#id_phone", "+44 7700 900123")
    page.check("#id_email_consent")
    page.click("button:has-text('Hold this time')")
    page.wait_for_selector("h1:has-text('Check your inbox')")
    found += check(page, axe, "the held page")

    held = Appointment.objects.get(status="held")
    row = Notification.objects.get(appointment=held, kind=Notification.Kind.HOLD)
    link = re.search(r"http\S+/book/confirm/\S+/", build_message(row).body).group(0)
    page.goto(live_server.url + link.removeprefix("http://127.0.0.1:8000"))
    page.wait_for_selector("h1:has-text('Confirm your consultation')")
    found += check(page, axe, "the link's page")
    page.click("button:has-text('Confirm my booking')")
    page.wait_for_selector("h1:has-text('Your consultation is booked')")
    found += check(page, axe, "the confirmed page")

    page.goto(live_server.url + link.removeprefix("http://127.0.0.1:8000"))
    page.wait_for_selector("h1:has-text('Your booking is already confirmed')")
    found += check(page, axe, "the used link's page")
    assert Appointment.objects.get(pk=held.pk).status == "booked"
    assert found == [], "\n".join(found)
