"""The staff app's live patient search in a real Chromium, at a common laptop width (1366 px)."""

import pytest

from clinic.roles import RECEPTION
from tests.browser import log_in
from tests.conftest import _in_group
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WIDTH = 1366


@pytest.fixture
def laptop(page):
    page.set_viewport_size({"width": WIDTH, "height": 768})
    return page


@pytest.fixture
def reception(db):
    _in_group(UserFactory(username="reception", first_name="Rita", last_name="Receptionist"), RECEPTION)
    PatientFactory(
        first_name="Augusta Ada", last_name="King-Noel, Countess of Lovelace", email="augusta.ada.king@example.com",
        phone="+44 7700 900123",
    )  # fmt: skip
    PatientFactory(first_name="Ada", last_name="Byron", email="ada.byron@example.com")


def open_dropdown(page, live_server, query="Ada"):
    log_in(page, live_server, "reception")
    page.fill("nav input[name=q]", query)
    dropdown = page.locator("#patient-search-results")
    dropdown.locator("a:has-text('Byron, Ada')").wait_for()
    return dropdown


def test_the_live_search_dropdown_fits_the_window(live_server, laptop, reception):
    dropdown = open_dropdown(laptop, live_server)
    box = dropdown.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    # Nothing inside it reaches past the window either: the page does not scroll sideways.
    assert laptop.evaluate("document.documentElement.scrollWidth") <= WIDTH
    for button in ("Book consultation", "Book review"):  # whole, not cut off by the dropdown's edge
        inner = dropdown.locator(f"a:has-text('{button}')").first.bounding_box()
        assert box["x"] <= inner["x"] and inner["x"] + inner["width"] <= box["x"] + box["width"], (button, inner)


def test_the_live_search_dropdown_closes_on_a_click_elsewhere_and_on_escape(live_server, laptop, reception):
    dropdown = open_dropdown(laptop, live_server)
    box = dropdown.bounding_box()
    assert box["y"] + box["height"] < 760  # the click below lands on the page, not on the results
    laptop.mouse.click(5, 760)
    dropdown.wait_for(state="hidden")
    laptop.locator("nav input[name=q]").click()  # back into the box: the results show again
    dropdown.wait_for(state="visible")
    laptop.keyboard.press("Escape")
    dropdown.wait_for(state="hidden")
    # Escape also empties a search box, and htmx asks again: that late answer must not reopen it.
    laptop.wait_for_timeout(800)
    assert not dropdown.is_visible()
    laptop.fill("nav input[name=q]", "Byron")
    dropdown.locator("a:has-text('Byron, Ada')").wait_for()
    dropdown.locator("a:has-text('Byron, Ada')").click()  # a click inside follows the link
    laptop.wait_for_url("**/patients/*/")
