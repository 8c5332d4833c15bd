"""The links in patient emails, pressed in a real Chromium (Debian's, through Playwright), as a
patient would: from a fresh browser, and from one that refuses every cookie."""

import json
import tempfile
from pathlib import Path

import pytest

from outbox.links import link_path, make_token
from scheduling.models import Appointment
from tests.browser import CHROMIUM
from tests.conftest import MONDAY_MORNING, book_treatment, local

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def treatment(clinic, time_machine):
    time_machine.move_to(MONDAY_MORNING, tick=True)
    return book_treatment(clinic, local(22, 10))


@pytest.fixture
def no_cookies_page(chromium):
    """A tab in a Chromium profile whose settings block all cookies (Settings, Privacy, "Block all
    cookies": `default_content_setting_values.cookies = 2`), as some patients' browsers do."""
    with tempfile.TemporaryDirectory() as profile:
        (Path(profile) / "Default").mkdir()
        preferences = {"profile": {"default_content_setting_values": {"cookies": 2}}}
        (Path(profile) / "Default" / "Preferences").write_text(json.dumps(preferences))
        context = chromium.browser_type.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
            locale="en-GB",
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        context.close()


def link(live_server, purpose, appointment):
    return live_server.url + link_path(purpose, make_token(purpose, appointment=appointment))


def confirm_then_ask_to_cancel(page, live_server, treatment):
    response = page.goto(link(live_server, "confirm", treatment))
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"  # the token stays out of other sites' logs
    page.click("button:has-text('Yes, I will come')")
    page.wait_for_selector("h1:has-text('Your appointment is confirmed')")
    assert Appointment.objects.get(pk=treatment.pk).status == "confirmed"

    page.goto(link(live_server, "cancel", treatment))
    page.click("button:has-text('Ask to cancel this appointment')")
    page.wait_for_selector("h1:has-text('We have your request to cancel')")
    assert Appointment.objects.get(pk=treatment.pk).cancel_requested_at is not None


def test_a_patient_confirms_and_asks_to_cancel_from_the_email_links_in_chromium(live_server, page, treatment):
    confirm_then_ask_to_cancel(page, live_server, treatment)


def test_the_links_work_in_a_browser_that_blocks_cookies(live_server, no_cookies_page, treatment):
    page = no_cookies_page
    # The profile really refuses cookies: the login page's CSRF cookie is not kept.
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.context.cookies() == []
    confirm_then_ask_to_cancel(page, live_server, treatment)
    assert page.context.cookies() == []


def test_a_staff_form_refused_by_the_csrf_check_shows_the_clinics_page(live_server, no_cookies_page, receptionist):
    """Without its cookie the login form fails the CSRF check: the answer is our page, saying what to do."""
    page = no_cookies_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "reception")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    heading = page.locator("h1")
    heading.wait_for()
    assert heading.inner_text() == "This form could not be sent"
    assert "cookies" in page.locator("main").inner_text()
    assert page.locator("nav .navbar-brand").inner_text() == "Pico Laser Clinic"
