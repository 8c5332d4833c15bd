"""The boards refresh by themselves: a day board carries the token of the appointments it shows,
and `GET /board/changes/` answers 204 with nothing while the token holds, and tells the page to
fetch its board again (`HX-Trigger: board-changed`) once a booking, move, cancellation or status
change touched those days. The board's cells and cards carry what the drag-and-drop script needs.
"""

import re
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from clinic.middleware import LAST_SEEN
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_cancel, appointment_confirm, appointment_reschedule
from tests.conftest import local
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2027, 3, 15)
CHANGES = reverse("scheduling:board_changes")


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


def board(client, **query):
    url = reverse("scheduling:day_board_date", kwargs={"day": MONDAY})
    return client.get(url, query).content.decode()


def poll_url(page: str) -> str:
    return unescape(re.search(r'id="board-poll" hidden hx-get="([^"]+)"', page).group(1))


def book(clinic, start, **overrides):
    arguments = dict(
        patient=PatientFactory(), kind="consultation", start=start, practitioner=clinic.practitioner, room=clinic.room
    )
    return appointment_book(**arguments | overrides)


def changed(client, url) -> bool:
    response = client.get(url)
    assert response.status_code == 204 and response.content == b""
    return response.get("HX-Trigger") == "board-changed"


def test_the_board_polls_for_its_own_day_with_its_token(reception, clinic):
    url = poll_url(board(reception))
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == CHANGES
    assert query["from"] == ["2027-03-15"] and query["days"] == ["1"] and len(query["token"][0]) == 16
    assert 'hx-trigger="every 5s, board-check"' in board(reception)


def test_nothing_changed_is_a_204_with_no_body_and_no_trigger(reception, clinic):
    book(clinic, local(15, 10))
    url = poll_url(board(reception))
    response = reception.get(url)
    assert response.status_code == 204 and response.content == b"" and "HX-Trigger" not in response


def test_a_booking_a_move_a_cancellation_and_a_confirmation_each_change_the_token(reception, clinic):
    visit = book(clinic, local(15, 10))
    url = poll_url(board(reception))
    book(clinic, local(15, 14))
    assert changed(reception, url)

    url = poll_url(board(reception))
    appointment_reschedule(appointment=visit, start=local(15, 11))
    assert changed(reception, url)

    url = poll_url(board(reception))
    appointment_confirm(appointment=visit)
    assert changed(reception, url)

    url = poll_url(board(reception))
    appointment_cancel(appointment=visit, reason="Unwell")
    assert changed(reception, url)
    assert not changed(reception, poll_url(board(reception)))


def test_a_move_out_of_the_days_shown_is_a_change_and_one_on_another_day_is_not(reception, clinic):
    visit = book(clinic, local(15, 10))
    url = poll_url(board(reception))
    book(clinic, local(16, 10))  # Tuesday: not on Monday's board
    assert not changed(reception, url)
    appointment_reschedule(appointment=visit, start=local(17, 10))  # leaves Monday
    assert changed(reception, url)


def test_a_week_asks_about_all_its_days(reception, clinic):
    url = poll_url(board(reception))
    assert not changed(reception, url.replace("days=1", "days=7"))  # nothing else that week
    book(clinic, local(19, 10))  # on the Friday
    assert not changed(reception, url)
    assert changed(reception, url.replace("days=1", "days=7"))


def test_the_answer_costs_the_same_queries_however_full_the_days(reception, clinic, django_assert_num_queries):
    book(clinic, local(15, 9))
    url = poll_url(board(reception))
    # The session, the user, the role's groups, and the one read of the day's appointments.
    with django_assert_num_queries(4):
        assert not changed(reception, url)
    for hour in range(10, 17):
        AppointmentFactory(start=local(15, hour), practitioner=clinic.practitioner, room=clinic.room)
    with django_assert_num_queries(4):
        assert changed(reception, url)


@pytest.mark.parametrize("query", ["", "from=2027-02-30", "from=2027-03-15&days=0", "from=2027-03-15&days=x"])
def test_a_poll_that_cannot_be_read_is_a_400(reception, query):
    assert reception.get(f"{CHANGES}?{query}").status_code == 400


def test_a_managers_board_polls_too_but_offers_nothing_to_drag(client, clinic, manager, frozen):
    AppointmentFactory(practitioner=clinic.practitioner, room=clinic.room, start=local(15, 10))
    client.force_login(manager)
    page = board(client)
    assert client.get(poll_url(page)).status_code == 204
    assert "data-appointment" not in page and "data-drop-start" not in page and "board-dnd.js" in page


def test_the_poll_does_not_keep_an_idle_session_alive(reception, clinic, time_machine):
    url = poll_url(board(reception))
    seen = reception.session[LAST_SEEN]
    time_machine.shift(timedelta(minutes=10))
    reception.get(url)
    assert reception.session[LAST_SEEN] == seen
    board(reception)  # a person at the desk
    assert reception.session[LAST_SEEN] > seen


def test_movable_cards_and_every_cell_carry_what_the_script_needs(reception, clinic):
    booked = AppointmentFactory(practitioner=clinic.practitioner, room=clinic.room, start=local(15, 10))
    done = AppointmentFactory(
        practitioner=clinic.practitioner, room=clinic.room, start=local(15, 11), status=Appointment.Status.COMPLETED
    )
    page = board(reception)
    assert f'draggable="true" data-appointment="{booked.pk}" data-time="10:00"' in page
    move = reverse("scheduling:appointment_move", kwargs={"pk": 0})  # the script puts a card's id in
    assert f'data-move-url="{move}"' in page
    assert f'data-appointment="{done.pk}"' not in page  # a completed visit stays where it was
    doc = clinic.practitioner.pk
    # The cells under the card are drop targets too (another card dropped there is the server's to refuse).
    under = f'class="db-cell db-under db-r5 db-c2" data-drop-start="2027-03-15T10:00" data-drop-practitioner="{doc}"'
    assert under in page
    assert f'data-drop-start="2027-03-15T10:15" data-drop-practitioner="{doc}"' in page
    assert page.count("data-drop-start=") == 32  # 09:00 to 17:00, every quarter hour
    by_room = board(reception, by="room")
    assert f'data-drop-start="2027-03-15T10:00" data-drop-room="{clinic.room.pk}"' in by_room
    by_laser = board(reception, by="device")
    assert f'data-drop-device="{clinic.device.pk}"' in by_laser
    assert 'id="board"' in page and 'id="board-status" role="status" aria-live="polite"' in page
