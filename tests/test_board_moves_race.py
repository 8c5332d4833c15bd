"""Two desks drop a card on the same cell at the same moment, over HTTP against a live server on
PostgreSQL: one moves, the other is told the time is taken (409, naming the practitioner), never a
500, never both; the database's locks and exclusion constraints decide, not the boards."""

import re
from datetime import date, time

import pytest
import requests
from django.db import connection
from django.urls import reverse

from clinic.roles import RECEPTION
from scheduling.models import Appointment
from tests.conftest import _in_group, local
from tests.factories import AppointmentFactory, PractitionerFactory, RoomFactory, UserFactory, WorkingHoursFactory
from tests.test_concurrency import run_in_threads
from tests.test_lock_order import no_overlap

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers and locks"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROUNDS = 10
CSRF = re.compile(r'id="board-status" [^>]* data-csrf="([^"]+)"')


def desk(live_server, username):
    """A receptionist logged in over HTTP, holding the CSRF token their board page carries."""
    _in_group(UserFactory(username=username), RECEPTION)
    browser = requests.Session()
    login = live_server.url + reverse("login")
    browser.get(login, timeout=60)
    form = {
        "username": username,
        "password": "correct-horse-battery",
        "csrfmiddlewaretoken": browser.cookies["csrftoken"],
    }
    assert browser.post(login, form, timeout=60).url == f"{live_server.url}/"
    board = browser.get(live_server.url + reverse("scheduling:day_board_date", kwargs={"day": date(2027, 3, 15)}))
    browser.headers["X-CSRFToken"] = CSRF.search(board.text).group(1)
    return browser


def drop(live_server, browser, card, cell):
    url = live_server.url + reverse("scheduling:appointment_move", kwargs={"pk": card.pk})
    return browser.post(url, cell, timeout=60)


def test_two_drops_on_one_cell_at_once_one_moves_and_one_is_refused(live_server, clinic):
    colleague = PractitionerFactory()
    for weekday in range(5):
        WorkingHoursFactory(practitioner=colleague, weekday=weekday, start_time=time(9), end_time=time(17))
    desks = desk(live_server, "reception"), desk(live_server, "reception2")
    problems = []
    for round_ in range(ROUNDS):
        day, hour = 15 + round_ % 5, 10 + round_ // 5
        cards = [
            AppointmentFactory(
                practitioner=clinic.practitioner,
                room=RoomFactory(name=f"Race {round_} {minute}"),
                start=local(day, 9 + 5 * (round_ // 5), minute),
            )
            for minute in (0, 30)
        ]
        cell = {"start": f"2027-03-{day}T{hour}:00", "practitioner": colleague.pk}

        answers = run_in_threads(
            [lambda b=b, c=c, cell=cell: drop(live_server, b, c, cell) for b, c in zip(desks, cards, strict=True)]
        )
        statuses = sorted(getattr(a, "status_code", repr(a)) for a in answers)
        if statuses != [200, 409]:
            problems.append(statuses)
            continue
        refused = next(a for a in answers if a.status_code == 409).json()
        if refused["message"] != "That time is already taken for the practitioner.":
            problems.append(refused)
        held = Appointment.objects.filter(pk__in=[c.pk for c in cards], start=local(day, hour), practitioner=colleague)
        if held.count() != 1:
            problems.append(f"{held.count()} at the cell")
    assert not problems, f"{len(problems)} problems in {ROUNDS} rounds: {problems[:3]}"
    assert no_overlap()
