"""A waitlist offer answered on a phone: Chromium at 390 px, the page's Content Security Policy
kept (the `page` fixture fails on any report), axe-core finding nothing serious."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from scheduling.models import Appointment
from scheduling.services import appointment_cancel
from tests.conftest import MONDAY_MORNING
from tests.test_accessibility import AXE_OPTIONS, _blocking
from tests.waitlist_helpers import booked_visit, waiting
from waitlist.links import offer_token
from waitlist.models import WaitlistOffer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_patient_accepts_an_offer_on_a_phone_and_the_next_reads_that_it_was_taken(
    live_server, page, clinic, time_machine
):
    time_machine.move_to(MONDAY_MORNING, tick=True)
    first, second = waiting(days_ago=2), waiting(days_ago=1)
    appointment_cancel(appointment=booked_visit(clinic))
    offers = {o.entry_id: o for o in WaitlistOffer.objects.all()}
    page.set_viewport_size({"width": 390, "height": 844})
    axe, found = Axe(), []

    page.goto(f"{live_server.url}/p/offer/{offer_token(offers[first.pk])}/")
    page.wait_for_selector("h1:has-text('A time has come free')")
    found += _blocking(axe.run(page, options=AXE_OPTIONS), "offer page")
    accept = page.locator("button:has-text('Accept this time')")
    assert accept.bounding_box()["width"] > 300  # a full-width button on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
    accept.click()
    page.wait_for_selector("h1:has-text('Your visit is booked')")
    found += _blocking(axe.run(page, options=AXE_OPTIONS), "offer accepted")

    page.goto(f"{live_server.url}/p/offer/{offer_token(offers[second.pk])}/")  # the slot is gone
    page.wait_for_selector("text=Another patient took this time first")
    assert page.locator("button:has-text('Accept this time')").count() == 0
    found += _blocking(axe.run(page, options=AXE_OPTIONS), "offer taken")
    assert found == []
    assert Appointment.objects.get(status="booked").patient_id == first.patient_id
