"""The printed day in a real Chromium: the day list on paper shows its rows and none of the screen's
navigation, buttons, forms or messages, on the day list as on any other page."""

import pytest

from clinic.roles import RECEPTION
from tests.browser import log_in
from tests.conftest import _in_group, local
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BOARD = "/day/2027-03-01/"
SCREEN_ONLY = "nav, form, button, input, select, textarea, .btn, [role=alert]"


@pytest.fixture
def day(db):
    _in_group(UserFactory(username="reception", first_name="Rita", last_name="Receptionist"), RECEPTION)
    room = RoomFactory(name="Room 1")
    for last_name, times in (("Aaron", (9, 11)), ("Zed", (10,))):
        practitioner = PractitionerFactory(user=UserFactory(first_name="Dana", last_name=last_name))
        for hour in times:
            patient = PatientFactory(first_name=f"Patient{hour}", last_name="Tester", phone=f"+44 7700 9001{hour}")
            AppointmentFactory(practitioner=practitioner, patient=patient, room=room, start=local(1, hour))
    AppointmentFactory(patient=PatientFactory(first_name="Emmy"), room=room, start=local(1, 12), status="cancelled")


def visible(page, selector):
    """The start of each element matching `selector` that shows, to name them in a failure."""
    return [e.evaluate("e => e.outerHTML.slice(0, 120)") for e in page.locator(selector).all() if e.is_visible()]


def test_the_day_list_prints_its_rows_and_nothing_of_the_screen(live_server, page, day):
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}{BOARD}")
    page.click("text=Print the day")
    page.wait_for_url(f"{live_server.url}{BOARD}list/")
    assert visible(page, "nav") and visible(page, "button:has-text('Print')")  # on screen they are there
    page.emulate_media(media="print")
    rows = page.locator(".day-list-table tbody tr")
    assert rows.count() == 3 and all(row.is_visible() for row in rows.all())
    assert "Patient9 Tester" in rows.nth(0).inner_text() and "+44 7700 90019" in rows.nth(0).inner_text()
    assert "Emmy" not in page.locator("main").inner_text()
    assert visible(page, SCREEN_ONLY) == []
    # Each practitioner's list starts on a new sheet.
    sections = page.locator(".day-list-practitioner")
    assert sections.count() == 2
    assert sections.nth(1).evaluate("element => getComputedStyle(element).breakBefore") == "page"
    assert sections.nth(0).evaluate("element => getComputedStyle(element).breakBefore") != "page"


def test_every_page_prints_without_navigation_buttons_forms_or_messages(live_server, page, day):
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}{BOARD}?by=nonsense")  # a wrong view: the page shows a message
    assert visible(page, "[role=alert]") and visible(page, "form")
    page.emulate_media(media="print")
    assert visible(page, SCREEN_ONLY) == []
    assert page.locator(".db-card").first.is_visible()  # the board itself still prints
