"""In Chromium: a receptionist moves a card on the day board by dragging it and with the keyboard;
a refusal (a clash naming the resource) shows on the card and nothing moves; a second desk's board
shows the change by itself; a drop onto a cell another desk has just taken is refused.

Monday 15 March 2027: the dermatologist and Dr Priya Patel work 09:00-17:00; Ada Byron has a
consultation with the dermatologist at 10:00 in Room 1. The boards poll every second here.
"""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from clinic.roles import RECEPTION
from clinical.services.sun_exposure import sun_exposure_record
from scheduling.models import Appointment
from tests.browser import log_in
from tests.conftest import _in_group, book_treatment, local
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    UserFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DAY = "2027-03-15"
WAIT = 10_000  # ms: a poll every second, so a change shows well within this


@pytest.fixture
def desk(live_server, clinic, settings):
    settings.BOARD_POLL_SECONDS = 1
    _in_group(UserFactory(username="reception"), RECEPTION)
    _in_group(UserFactory(username="reception2"), RECEPTION)
    colleague = PractitionerFactory(user=UserFactory(first_name="Priya", last_name="Patel"))
    WorkingHoursFactory(practitioner=colleague, weekday=0, start_time=time(9), end_time=time(17))
    ada = AppointmentFactory(
        patient=clinic.patient, practitioner=clinic.practitioner, room=clinic.room, start=local(15, 10)
    )
    return clinic, colleague, ada


@pytest.fixture
def second_page(chromium):
    """Another receptionist's browser, held to the same Content Security Policy as `page`."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    other = context.new_page()
    other.set_default_timeout(30_000)
    violations = []
    other.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    yield other
    context.close()
    assert violations == []


def open_board(page, live_server, username="reception"):
    log_in(page, live_server, username)
    page.goto(f"{live_server.url}/day/{DAY}/")
    page.evaluate("window.sameDocument = true")  # gone if the page reloads


def card(page, appointment):
    return page.locator(f"#board [data-appointment='{appointment.pk}']")


def target(practitioner, clock):
    return f"#board [data-drop-start='{DAY}T{clock}'][data-drop-practitioner='{practitioner.pk}']"


# Read in one script step: a live refresh may swap #board between two of Playwright's reads,
# and a box read from a detached element is None.
COLUMN_EDGES = """(name) => {
  const head = [...document.querySelectorAll('#board .db-head')].find((h) => h.textContent.includes(name));
  const box = head.getBoundingClientRect();
  return [box.left, box.right];
}"""

CARD_IN_COLUMN = """([selector, name]) => {
  const head = [...document.querySelectorAll('#board .db-head')].find((h) => h.textContent.includes(name));
  const column = head.getBoundingClientRect();
  const box = document.querySelector(selector).getBoundingClientRect();
  const middle = box.left + box.width / 2;
  return column.left <= middle && middle <= column.right;
}"""


def column_x(page, resource):
    return tuple(page.evaluate(COLUMN_EDGES, str(resource)))


def in_column(page, appointment, resource) -> bool:
    return page.evaluate(CARD_IN_COLUMN, [f"#board [data-appointment='{appointment.pk}']", str(resource)])


def shown_at(page, appointment, clock, timeout=WAIT):
    """Wait until the board shows the appointment's card starting at `clock`."""
    page.wait_for_function(
        """([pk, clock]) => {
          const when = document.querySelector(`#board [data-appointment='${pk}'] .db-when`);
          return when !== null && when.textContent.startsWith(clock);
        }""",
        arg=[appointment.pk, clock],
        timeout=timeout,
    )


CARD_PLACE = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  const grid = document.querySelector('#board .db-grid').getBoundingClientRect();
  return {x: box.x - grid.x, y: box.y - grid.y, width: box.width, height: box.height};
}"""


def place(page, appointment) -> dict:
    """Where a card sits in the grid (the status line above it may push the whole grid down)."""
    return page.evaluate(CARD_PLACE, f"#board [data-appointment='{appointment.pk}']")


def status(page, tone):
    return page.locator(f"#board-status.alert-{tone}")


def test_a_receptionist_drags_a_card_to_a_colleagues_column_and_sees_it_move(live_server, page, desk):
    clinic, colleague, ada = desk
    open_board(page, live_server)
    assert in_column(page, ada, clinic.practitioner)
    page.drag_and_drop(f"#board [data-appointment='{ada.pk}']", target(colleague, "11:00"))
    message = status(page, "success")
    message.wait_for()
    assert message.inner_text().startswith(f"Moved to Mon 15 Mar 2027 11:00 with {colleague} (Room 1).")
    shown_at(page, ada, "11:00")
    assert in_column(page, ada, colleague)
    assert page.evaluate("window.sameDocument") is True  # no full reload
    ada.refresh_from_db()
    assert (ada.start, ada.practitioner) == (local(15, 11), colleague)


def test_a_drag_onto_a_clash_is_refused_on_the_card_naming_the_resource_and_nothing_moves(live_server, page, desk):
    clinic, colleague, ada = desk
    grace = AppointmentFactory(
        patient=PatientFactory(first_name="Grace", last_name="Hopper"), practitioner=colleague,
        room=RoomFactory(name="Room 2"), start=local(15, 11),
    )  # fmt: skip
    open_board(page, live_server)
    before = place(page, ada)
    # Dropped on Grace's card: the cell under it is the target, and the server says no.
    page.drag_and_drop(f"#board [data-appointment='{ada.pk}']", f"#board [data-appointment='{grace.pk}']")
    refusal = "That time is already taken for the practitioner."
    status(page, "danger").wait_for()
    assert status(page, "danger").inner_text() == refusal
    assert card(page, ada).locator(".db-refusal").inner_text() == refusal
    assert place(page, ada) == before
    ada.refresh_from_db()
    assert (ada.start, ada.practitioner, ada.version) == (local(15, 10), clinic.practitioner, 1)


def test_the_same_with_the_keyboard_pick_up_move_drop_and_a_refusal(live_server, page, desk):
    clinic, colleague, ada = desk
    AppointmentFactory(
        patient=PatientFactory(first_name="Grace", last_name="Hopper"), practitioner=colleague,
        room=RoomFactory(name="Room 2"), start=local(15, 11),
    )  # fmt: skip
    open_board(page, live_server)
    sideways = "ArrowRight" if column_x(page, colleague)[0] > column_x(page, clinic.practitioner)[0] else "ArrowLeft"
    card(page, ada).focus()
    page.keyboard.press("m")
    assert status(page, "info").inner_text() == (
        "Picked up Ada Byron 10:00. Arrows to move, Enter to drop, Escape to cancel."
    )
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press(sideways)
    assert status(page, "info").inner_text() == f"10:30 {colleague}. Enter to drop, Escape to cancel."
    assert page.locator("#board .db-drop-marker").get_attribute("data-drop-start") == f"{DAY}T10:30"
    page.keyboard.press("Escape")  # put back: nothing moves
    assert page.locator("#board .db-drop-marker").count() == 0
    ada.refresh_from_db()
    assert ada.start == local(15, 10)

    page.keyboard.press("m")
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "ArrowDown", sideways):  # 11:00, Grace's time
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    status(page, "danger").wait_for()
    assert status(page, "danger").inner_text() == "That time is already taken for the practitioner."
    assert page.url.endswith(f"/day/{DAY}/")  # Enter dropped the card; it did not open it
    ada.refresh_from_db()
    assert (ada.start, ada.practitioner) == (local(15, 10), clinic.practitioner)

    page.keyboard.press("m")
    for key in ("ArrowDown", "ArrowDown", sideways):  # 10:30 with Dr Patel
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    status(page, "success").wait_for()
    assert status(page, "success").inner_text().startswith(f"Moved to Mon 15 Mar 2027 10:30 with {colleague}")
    shown_at(page, ada, "10:30")
    assert in_column(page, ada, colleague)
    page.wait_for_function(f"() => document.activeElement.dataset.appointment === '{ada.pk}'")  # focus kept
    assert page.evaluate("window.sameDocument") is True
    ada.refresh_from_db()
    assert (ada.start, ada.practitioner) == (local(15, 10, 30), colleague)


def test_a_second_desk_sees_the_first_ones_booking_and_move_without_reloading(live_server, page, second_page, desk):
    clinic, colleague, ada = desk
    open_board(second_page, live_server, "reception2")
    open_board(page, live_server)
    # The first desk books Grace at 14:00 from a free cell.
    page.click(f"a[title='Book 14:00 {clinic.practitioner}']")
    grace = PatientFactory(first_name="Grace", last_name="Hopper")
    page.fill("main input[name=q]", "Hopper")
    page.locator("main button:has-text('Find patient')").click()
    page.locator("main a:has-text('Hopper, Grace')").click()
    page.locator("form:has(button:has-text('Book'))").first.locator("button:has-text('Book')").click()
    page.wait_for_selector(".alert-success")
    booked = Appointment.objects.get(patient=grace)
    second_page.locator(f"#board [data-appointment='{booked.pk}']").wait_for(timeout=WAIT)
    assert "Grace Hopper" in second_page.locator(f"#board [data-appointment='{booked.pk}']").inner_text()

    # The first desk drags Ada to Dr Patel at 09:00; the second desk's card follows.
    page.goto(f"{live_server.url}/day/{DAY}/")
    page.drag_and_drop(
        f"#board [data-appointment='{ada.pk}']",
        target(colleague, "09:00"),
    )
    status(page, "success").wait_for()
    shown_at(second_page, ada, "09:00")
    assert in_column(second_page, ada, colleague)
    assert second_page.evaluate("window.sameDocument") is True


def test_a_drop_onto_a_cell_another_desk_has_just_taken_is_refused_and_lost_nowhere(
    live_server, page, second_page, desk
):
    clinic, colleague, ada = desk
    grace = AppointmentFactory(
        patient=PatientFactory(first_name="Grace", last_name="Hopper"), practitioner=colleague,
        room=RoomFactory(name="Room 2"), start=local(15, 16),
    )  # fmt: skip
    open_board(page, live_server)
    open_board(second_page, live_server, "reception2")
    sideways = "ArrowRight" if column_x(page, colleague)[0] > column_x(page, clinic.practitioner)[0] else "ArrowLeft"
    # The first desk picks Ada up (its board stops polling) and aims at 10:30 with Dr Patel...
    card(page, ada).focus()
    page.keyboard.press("m")
    for key in ("ArrowDown", "ArrowDown", sideways):
        page.keyboard.press(key)
    # ...while the second desk drags Grace there first.
    second_page.drag_and_drop(
        f"#board [data-appointment='{grace.pk}']",
        target(colleague, "10:30"),
    )
    status(second_page, "success").wait_for()
    page.wait_for_timeout(2500)  # two polls' time: a board holding a picked-up card does not refresh under it
    assert page.locator(f"#board [data-appointment='{grace.pk}'] .db-when").inner_text().startswith("16:00")  # stale
    page.keyboard.press("Enter")
    status(page, "danger").wait_for()
    assert status(page, "danger").inner_text() == "That time is already taken for the practitioner."
    ada.refresh_from_db()
    grace.refresh_from_db()
    assert (ada.start, ada.practitioner) == (local(15, 10), clinic.practitioner)
    assert (grace.start, grace.practitioner) == (local(15, 10, 30), colleague)
    # Its board then catches up by itself, and the refusal stays on Ada's card.
    shown_at(page, grace, "10:30")
    assert card(page, ada).locator(".db-refusal").inner_text() == "That time is already taken for the practitioner."


def test_the_poll_holds_while_a_card_is_picked_up_and_while_the_tab_is_hidden(live_server, page, desk):
    clinic, colleague, ada = desk
    polls = []
    page.on("request", lambda request: "/board/changes/" in request.url and polls.append(request.url))
    open_board(page, live_server)
    page.wait_for_timeout(2500)
    assert len(polls) >= 2  # every second while nothing is held
    card(page, ada).focus()
    page.keyboard.press("m")
    held = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == held
    page.keyboard.press("Escape")
    page.wait_for_timeout(2500)
    assert len(polls) > held
    page.evaluate("Object.defineProperty(document, 'hidden', {value: true, configurable: true})")
    hidden = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == hidden
    page.evaluate("""() => {
      Object.defineProperty(document, 'hidden', {value: false, configurable: true});
      document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(300)
    assert len(polls) > hidden  # back in view: it asks at once


def test_a_session_moved_into_the_prep_window_and_planned_sun_is_moved_once_the_desk_acknowledges_both(
    live_server, page, clinic
):
    _in_group(UserFactory(username="reception"), RECEPTION)
    day = timezone.localdate() + timedelta(days=3)
    while day.weekday() > 4:  # the dermatologist works Monday to Friday
        day += timedelta(days=1)
    session = book_treatment(clinic, timezone.make_aware(datetime.combine(day, time(10))))
    today = timezone.localdate()
    sun_exposure_record(patient=clinic.patient, first_day=today, last_day=today, what="beach day")
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}/day/{day.isoformat()}/")
    eleven = f"#board [data-drop-start='{day.isoformat()}T11:00'][data-drop-practitioner='{clinic.practitioner.pk}']"
    page.drag_and_drop(f"#board [data-appointment='{session.pk}']", eleven)
    status(page, "danger").wait_for()
    assert "less than 14 days away" in status(page, "danger").inner_text()
    session.refresh_from_db()
    assert timezone.localtime(session.start).hour == 10
    page.click("text=Move anyway (short prep acknowledged)")
    page.locator("#board-status", has_text="planned sun exposure (beach day)").wait_for()
    assert page.get_by_text("Move anyway (short prep acknowledged)").is_hidden()
    page.click("text=Move anyway (the patient's time in the sun acknowledged)")
    status(page, "success").wait_for()
    shown_at(page, session, "11:00")
    assert page.locator("#board-offer").is_hidden()
    session.refresh_from_db()
    assert timezone.localtime(session.start).hour == 11 and session.short_prep_acknowledged_by.username == "reception"
    assert session.sun_exposure_acknowledged_by.username == "reception"  # the second try carried both


def test_in_the_room_view_a_drag_changes_the_room_and_keeps_the_practitioner(live_server, page, desk):
    clinic, colleague, ada = desk
    second = RoomFactory(name="Room 2")
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}/day/{DAY}/?by=room")
    page.drag_and_drop(
        f"#board [data-appointment='{ada.pk}']", f"#board [data-drop-start='{DAY}T10:00'][data-drop-room='{second.pk}']"
    )
    status(page, "success").wait_for()
    assert (
        status(page, "success")
        .inner_text()
        .startswith(f"Moved to Mon 15 Mar 2027 10:00 with {clinic.practitioner} (Room 2).")
    )
    page.wait_for_function(
        "([pk, left]) => document.querySelector(`#board [data-appointment='${pk}']`).getBoundingClientRect().x > left",
        arg=[ada.pk, column_x(page, "Room 1")[0] + 50],
    )
    assert in_column(page, ada, second)
    ada.refresh_from_db()
    assert (ada.start, ada.practitioner, ada.room) == (local(15, 10), clinic.practitioner, second)


def test_on_the_week_a_card_dragged_to_another_day_and_practitioner_keeps_its_clock_time(live_server, page, desk):
    clinic, colleague, ada = desk
    WorkingHoursFactory(practitioner=colleague, weekday=2, start_time=time(9), end_time=time(17))
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}/week/{DAY}/")
    page.evaluate("window.sameDocument = true")
    wednesday = f"#board [data-drop-day='2027-03-17'][data-drop-practitioner='{colleague.pk}']"
    page.drag_and_drop(f"#board [data-appointment='{ada.pk}']", wednesday)
    status(page, "success").wait_for()
    assert status(page, "success").inner_text().startswith(f"Moved to Wed 17 Mar 2027 10:00 with {colleague} (Room 1).")
    page.locator(f"{wednesday} [data-appointment='{ada.pk}']").wait_for()  # redrawn in its new cell
    assert page.evaluate("window.sameDocument") is True
    ada.refresh_from_db()
    assert (ada.start, ada.practitioner) == (local(17, 10), colleague)


def test_on_the_week_a_card_dragged_to_a_colleagues_row_moves_and_a_second_desk_sees_it(
    live_server, page, second_page, desk
):
    clinic, colleague, ada = desk
    for each, username in ((page, "reception"), (second_page, "reception2")):
        log_in(each, live_server, username)
        each.goto(f"{live_server.url}/week/{DAY}/")
        each.evaluate("window.sameDocument = true")

    def row_of(each, appointment):
        return each.locator(f"#board tr:has([data-appointment='{appointment.pk}']) th").inner_text()

    assert row_of(page, ada) == str(clinic.practitioner)
    page.drag_and_drop(
        f"#board [data-appointment='{ada.pk}']",
        f"#board [data-drop-day='{DAY}'][data-drop-practitioner='{colleague.pk}']",
    )
    status(page, "success").wait_for()
    assert status(page, "success").inner_text().startswith(f"Moved to Mon 15 Mar 2027 10:00 with {colleague}")
    in_row = """([pk, name]) => document.querySelector(`#board tr:has([data-appointment='${pk}']) th`)
        ?.textContent.trim() === name"""
    page.wait_for_function(in_row, arg=[ada.pk, str(colleague)])
    second_page.wait_for_function(in_row, arg=[ada.pk, str(colleague)], timeout=WAIT)
    assert page.evaluate("window.sameDocument") is True and second_page.evaluate("window.sameDocument") is True
    ada.refresh_from_db()
    assert (ada.start, ada.practitioner) == (local(15, 10), colleague)
