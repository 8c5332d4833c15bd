"""The day board on a tablet at the desk (768 px) and on a phone (390 px), in a real Chromium: the
menu folds behind a button, no card's text is cut off, the page never scrolls sideways, and a phone
shows one column at a time, chosen above the grid."""

from datetime import timedelta

import pytest

from clinic.roles import RECEPTION
from tests.browser import log_in
from tests.conftest import _in_group, local
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    TreatmentCourseFactory,
    UserFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BOARD = "/day/2027-03-01/"
# Every card whose text does not fit its box (a cut-off line or word), by its text.
CLIPPED_CARDS = """() => [...document.querySelectorAll('.db-card')]
    .filter(card => card.scrollWidth > card.clientWidth + 1 || card.scrollHeight > card.clientHeight + 1)
    .map(card => card.innerText)"""
PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def busy_day(db):
    _in_group(UserFactory(username="reception"), RECEPTION)
    names = ("Bartholomew-Fitzwilliam", "Okonkwo-Abernathy", "Lee", "Vasquez-Delacroix-Hernandez")
    room = RoomFactory(name="Treatment room with a long name")
    for index, last_name in enumerate(names):
        practitioner = PractitionerFactory(user=UserFactory(first_name="Alexandra", last_name=last_name))
        WorkingHoursFactory(practitioner=practitioner, weekday=0)
        patient = PatientFactory(first_name="Maximiliana", last_name=f"Papadopoulou-Wetherington {index}")
        course = TreatmentCourseFactory(patient=patient, approved=True)
        start = local(1, 9 + index)
        AppointmentFactory(
            practitioner=practitioner, patient=patient, room=room, course=course, kind="consultation",
            start=start, end=start + timedelta(minutes=30), blocked_until=start + timedelta(minutes=30),
        )  # fmt: skip


def open_board(page, live_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}{BOARD}")


@pytest.mark.parametrize("width", [768, 390])
def test_the_board_fits_a_tablet_and_a_phone_without_cutting_card_text(live_server, page, busy_day, width):
    open_board(page, live_server, width)
    assert page.locator(".db-card").count() == 4
    assert page.evaluate(CLIPPED_CARDS) == []
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    # The menu folds behind its button, and the button opens it.
    assert not page.locator("#main-menu").is_visible()
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Day board").wait_for(state="visible")
    assert page.evaluate(PAGE_OVERFLOW) <= 0


def test_a_phone_shows_one_column_at_a_time_chosen_above_the_grid(live_server, page, busy_day):
    open_board(page, live_server, 390)
    heads = page.locator(".db-head:not(.db-c1)")

    def shown():
        return [head.inner_text() for head in heads.all() if head.is_visible()]

    assert shown() == ["Dr Alexandra Bartholomew-Fitzwilliam"]
    cards = [card for card in page.locator(".db-card").all() if card.is_visible()]
    assert len(cards) == 1 and "Papadopoulou-Wetherington 0" in cards[0].inner_text()
    page.get_by_label("Column shown").select_option(label="Dr Alexandra Okonkwo-Abernathy")
    assert shown() == ["Dr Alexandra Okonkwo-Abernathy"]
    page.get_by_role("button", name="Next column").click()
    assert shown() == ["Dr Alexandra Vasquez-Delacroix-Hernandez"]
    page.get_by_role("button", name="Previous column").click()
    assert shown() == ["Dr Alexandra Okonkwo-Abernathy"]
    # The one column fills the width beside the times: nothing hangs off to the right.
    box = page.locator(".db-head:visible:not(.db-c1)").bounding_box()
    assert box["x"] + box["width"] <= 390 and box["width"] > 200
    assert page.evaluate(PAGE_OVERFLOW) <= 0


def test_a_desktop_shows_every_column_and_no_chooser(live_server, page, busy_day):
    open_board(page, live_server, 1400)
    assert page.locator(".db-head:not(.db-c1)").count() == 4
    assert all(head.is_visible() for head in page.locator(".db-head:not(.db-c1)").all())
    assert not page.get_by_label("Column shown").is_visible()
    assert page.get_by_role("link", name="Day board").is_visible()  # the menu is open on a desktop
