"""The week board in a real Chromium: the keyboard shortcuts on both boards, and the week at a
tablet's and a phone's width (no clipped card text, no sideways page scroll, one day at a time on
the phone, with and without JavaScript)."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from clinic.roles import RECEPTION
from scheduling.models import Appointment
from tests.browser import log_in, screenshot
from tests.conftest import _in_group, local
from tests.factories import (
    AppointmentFactory,
    ClinicClosureFactory,
    LaserDeviceFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    TimeOffFactory,
    TreatmentCourseFactory,
    UserFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WEEK = "/week/2027-03-03/"  # a Wednesday: the week of Monday 1 March 2027
# Cards whose element is narrower or shorter than its content: text cut off or spilling out.
OVERFLOWING_CARDS = """() => [...document.querySelectorAll('.db-card')]
  .filter(card => card.offsetParent !== null
    && (card.scrollWidth > card.clientWidth || card.scrollHeight > card.clientHeight))
  .map(card => card.innerText.slice(0, 60))"""
PAGE_WIDER_THAN_WINDOW = "() => document.documentElement.scrollWidth > window.innerWidth"


@pytest.fixture
def full_week(db):
    """Six practitioners Monday to Friday with long names and a full day each: courses, flags,
    short prep, every status; time off and a closure on the Friday."""
    _in_group(UserFactory(username="reception"), RECEPTION)
    statuses = [s for s in Appointment.ACTIVE_STATUSES if s != Appointment.Status.HELD]  # a hold needs its expiry
    for n in range(6):
        user = UserFactory(first_name=f"Alexandrina{n}", last_name="Featherstonehaugh-Wolfeschlegel")
        practitioner = PractitionerFactory(user=user, colour="teal" if n % 2 else "")
        room, device = RoomFactory(name=f"Treatment room {n}"), LaserDeviceFactory()
        for weekday in range(5):
            WorkingHoursFactory(practitioner=practitioner, weekday=weekday, start_time=time(8), end_time=time(18))
            for slot in range(8):
                course = TreatmentCourseFactory(approved=True) if slot % 2 else None
                AppointmentFactory(
                    practitioner=practitioner,
                    room=room,
                    patient=course.patient if course else PatientFactory(last_name="Montgomery-Saint-Clairington"),
                    course=course,
                    device=device if course else None,
                    kind=Appointment.Kind.TREATMENT if course else Appointment.Kind.CONSULTATION,
                    start=local(1 + weekday, 8) + timedelta(minutes=60 * slot),
                    status=statuses[slot % len(statuses)],
                    notes=Appointment.CHECK_IN_FLAG if slot == 2 else "",
                    short_prep_acknowledged_at=timezone.now() if slot == 1 else None,
                )
        TimeOffFactory(practitioner=practitioner, start=local(2, 13), end=local(2, 18), reason="Laser safety training")
    ClinicClosureFactory(start_date=local(5, 0).date(), end_date=local(5, 0).date(), reason="Building inspection")


def _press(page, key, live_server, path):
    with page.expect_navigation():
        page.keyboard.press(key)
    return page.url.removeprefix(live_server.url) == path


def test_the_keys_move_through_weeks_and_days_and_switch_the_view(live_server, page, full_week):
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}{WEEK}")
    assert "previous week" in page.locator(".db-keys").inner_text()
    assert page.locator(".db-keys kbd").all_inner_texts() == ["p", "k", "n", "j", "t", "w", "d"]
    # Typing in a field is left alone: no key there leaves the page.
    page.locator("#id_date").focus()
    page.keyboard.press("n")
    page.keyboard.press("t")
    assert page.url == f"{live_server.url}{WEEK}"
    page.locator("h1").click()  # out of the field
    assert _press(page, "n", live_server, "/week/2027-03-08/")
    assert _press(page, "k", live_server, "/week/2027-03-01/")
    assert _press(page, "j", live_server, "/week/2027-03-08/")
    assert _press(page, "p", live_server, "/week/2027-03-01/")
    assert _press(page, "d", live_server, "/day/2027-03-01/")
    assert _press(page, "n", live_server, "/day/2027-03-02/")
    assert _press(page, "p", live_server, "/day/2027-03-01/")
    assert _press(page, "w", live_server, "/week/2027-03-01/")
    today = timezone.localdate()
    assert _press(page, "t", live_server, f"/week/{today.isoformat()}/")
    assert _press(page, "d", live_server, f"/day/{today.isoformat()}/")
    assert _press(page, "t", live_server, f"/day/{today.isoformat()}/")
    # The browser's own shortcuts stay its own: Alt and Ctrl with a key do nothing here.
    page.keyboard.press("Alt+n")
    page.keyboard.press("Control+j")
    page.wait_for_timeout(300)
    assert page.url == f"{live_server.url}/day/{today.isoformat()}/"


def test_at_768_px_no_card_is_clipped_and_the_page_does_not_scroll_sideways(live_server, page, full_week):
    page.set_viewport_size({"width": 768, "height": 1024})
    log_in(page, live_server, "reception")
    for path in (WEEK, f"{WEEK}?by=room"):
        page.goto(f"{live_server.url}{path}")
        cards = page.locator(".wb-card")
        assert cards.count() == 6 * 5 * 8  # Friday is closed, yet the cards booked on it stay on the board
        assert page.locator("#board td.wb-cell:visible").count() == 6 * 5  # every day shows
        assert page.evaluate(OVERFLOWING_CARDS) == []
        assert not page.evaluate(PAGE_WIDER_THAN_WINDOW)
        # The grid does not scroll inside its own box either.
        board = page.locator("#board")
        assert board.evaluate("e => e.scrollWidth <= e.clientWidth")
    screenshot(page, "week-768")


@pytest.mark.parametrize("script", [True, False], ids=["with-js", "without-js"])
def test_at_390_px_one_day_shows_and_the_chooser_picks_another(live_server, chromium, full_week, script):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=script)
    page = context.new_page()
    try:
        log_in(page, live_server, "reception")
        page.goto(f"{live_server.url}/week/2027-03-01/")
        shown = page.locator("#board td.wb-cell:visible")
        assert shown.count() == 6 and {c.get_attribute("data-drop-day") for c in shown.all()} == {"2027-03-01"}
        assert page.locator("#board th.wb-day:visible").all_inner_texts() == ["Mon 1 Mar"]
        assert page.evaluate(OVERFLOWING_CARDS) == []
        assert not page.evaluate(PAGE_WIDER_THAN_WINDOW)
        page.locator(".wb-chooser a", has_text="Wed 3").click()
        if not script:
            page.wait_for_url(f"{live_server.url}/week/2027-03-03/")
        shown = page.locator("#board td.wb-cell:visible")
        assert {c.get_attribute("data-drop-day") for c in shown.all()} == {"2027-03-03"}
        assert shown.count() == 6
        assert page.locator(".wb-chooser a[aria-current]").inner_text() == "Wed 3"
        assert page.locator("a[data-key-day]").get_attribute("href") == "/day/2027-03-03/"
        assert page.evaluate(OVERFLOWING_CARDS) == []
        assert not page.evaluate(PAGE_WIDER_THAN_WINDOW)
        if script:
            screenshot(page, "week-390")
    finally:
        context.close()
