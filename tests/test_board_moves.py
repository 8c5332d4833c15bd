"""A card dropped on a board: `POST /appointments/<pk>/move/` moves it through the reschedule
service and answers JSON, the message to show or the service's refusal with its field.

The clock stands at 08:00 on Monday 1 March 2027. The dermatologist and a colleague work Mondays
to Fridays 09-17; tattoo-removal sessions are 42 to 56 days apart.
"""

import re
from datetime import date, time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinical.services.sun_exposure import sun_exposure_record
from scheduling.models import Appointment
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, PractitionerFactory, RoomFactory, UserFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(clinic):
    colleague = PractitionerFactory(user=UserFactory(first_name="Priya", last_name="Patel"))
    for weekday in range(5):
        WorkingHoursFactory(practitioner=colleague, weekday=weekday, start_time=time(9), end_time=time(17))
    return colleague


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


@pytest.fixture
def visit(clinic, frozen):
    """A consultation on Monday 15 March at 10:00 with the dermatologist in Room 1."""
    return AppointmentFactory(
        patient=clinic.patient, practitioner=clinic.practitioner, room=clinic.room, start=local(15, 10)
    )


def move(client, appointment, **data):
    return client.post(reverse("scheduling:appointment_move", kwargs={"pk": appointment.pk}), data)


def test_a_card_dropped_on_a_colleagues_cell_moves_there_and_says_so(reception, visit, colleague):
    response = move(reception, visit, start="2027-03-15T11:30", practitioner=colleague.pk)
    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] and answer["moved"]
    assert answer["message"].startswith(f"Moved to Mon 15 Mar 2027 11:30 with {colleague} (Room 1).")
    visit.refresh_from_db()
    assert (visit.start, visit.end, visit.practitioner, visit.room) == (
        local(15, 11, 30), local(15, 12), colleague, visit.room
    )  # fmt: skip
    assert visit.version == 2 and visit.status == Appointment.Status.BOOKED


def test_a_drop_in_the_room_view_changes_the_room_and_keeps_the_practitioner(reception, clinic, visit):
    other_room = RoomFactory(name="Room 2")
    assert move(reception, visit, start="2027-03-15T10:00", room=other_room.pk).status_code == 200
    visit.refresh_from_db()
    assert (visit.start, visit.practitioner, visit.room) == (local(15, 10), clinic.practitioner, other_room)


def test_a_drop_on_its_own_time_and_column_changes_nothing(reception, clinic, visit):
    response = move(reception, visit, start="2027-03-15T10:00", practitioner=clinic.practitioner.pk)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "moved": False, "message": "The appointment is already there."}
    visit.refresh_from_db()
    assert visit.version == 1  # no reschedule, so no email asking the patient to confirm again


def test_a_clash_is_refused_naming_the_resource_and_nothing_changes(reception, clinic, visit, colleague):
    holder = AppointmentFactory(practitioner=colleague, start=local(15, 11))
    response = move(reception, visit, start="2027-03-15T11:15", practitioner=colleague.pk)
    assert response.status_code == 409
    answer = response.json()
    assert answer["ok"] is False
    assert answer["message"] == "That time is already taken for the practitioner."
    assert answer["conflicts"] == [{"resource": "practitioner", "appointment": holder.pk}]
    visit.refresh_from_db()
    assert (visit.start, visit.practitioner, visit.version) == (local(15, 10), clinic.practitioner, 1)


def test_a_room_taken_by_another_visit_is_named(reception, clinic, visit, colleague):
    AppointmentFactory(practitioner=colleague, room=clinic.room, start=local(15, 12))
    response = move(reception, visit, start="2027-03-15T12:00")
    assert response.status_code == 409
    assert response.json()["message"] == "That time is already taken for the room."


def test_a_session_moved_too_close_to_the_one_before_is_refused_with_the_course_interval(reception, clinic):
    book_treatment(clinic, local(22, 10))
    second = book_treatment(clinic, local(10, 10, month=5))  # 49 days later
    response = move(reception, second, start="2027-04-12T10:00")  # 21 days after the first
    assert response.status_code == 400
    answer = response.json()
    assert answer["field"] == "start"
    assert answer["message"] == "Sessions of this course are at least 42 days apart; session 1 is on 22 Mar 2027."
    second.refresh_from_db()
    assert second.start == local(10, 10, month=5)


def _skiing(clinic):
    sun_exposure_record(patient=clinic.patient, first_day=date(2027, 4, 1), last_day=date(2027, 4, 8), what="skiing")


@pytest.mark.parametrize(
    "before, start, field, words, acknowledged_by",
    [
        (None, "2027-03-05T10:00", "acknowledge_short_prep", "14 days", "short_prep_acknowledged_by"),  # 4 days away
        (_skiing, "2027-04-12T10:00", "acknowledge_sun_exposure", "planned sun exposure (skiing)",
         "sun_exposure_acknowledged_by"),  # inside the two weeks after the trip
    ],
    ids=["short prep", "planned sun exposure"],
)  # fmt: skip
def test_a_session_moved_where_a_rule_asks_for_an_acknowledgement_moves_once_given_and_records_it(
    reception, clinic, receptionist, before, start, field, words, acknowledged_by
):
    session = book_treatment(clinic, local(22, 10))
    if before:
        before(clinic)
    response = move(reception, session, start=start)
    assert response.status_code == 400
    assert response.json()["field"] == field and words in response.json()["message"]
    session.refresh_from_db()
    assert session.start == local(22, 10)
    again = move(reception, session, start=start, **{field: "on"})
    assert again.status_code == 200 and again.json()["moved"], again.json()
    session.refresh_from_db()
    assert timezone.localtime(session.start).isoformat()[:16] == start
    assert getattr(session, acknowledged_by) == receptionist


def test_an_appointment_that_can_no_longer_move_is_refused_as_a_conflict_of_state(reception, visit):
    visit.status = Appointment.Status.CANCELLED
    visit.save()
    response = move(reception, visit, start="2027-03-15T11:00")
    assert response.status_code == 409
    assert response.json()["message"] == "A cancelled appointment cannot be moved."


def test_a_role_that_does_not_book_is_refused(client, clinic, visit, manager):
    client.force_login(manager)
    assert move(client, visit, start="2027-03-15T11:00").status_code == 403
    visit.refresh_from_db()
    assert visit.start == local(15, 10)


def test_strangers_log_in_first_and_a_get_is_not_allowed(client, reception, visit):
    anonymous = Client()
    response = move(anonymous, visit, start="2027-03-15T11:00")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert reception.get(reverse("scheduling:appointment_move", kwargs={"pk": visit.pk})).status_code == 405


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "start"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "2027-03-15 25:00"}, "start"),
        ({"start": "9999-03-15T10:00"}, "start"),
        ({"start": "2027-03-15T11:00", "practitioner": "999999"}, "practitioner"),
        ({"start": "2027-03-15T11:00", "room": "one"}, "room"),
    ],
)
def test_input_that_cannot_be_read_is_a_clear_400_naming_the_field(reception, visit, data, field):
    response = move(reception, visit, **data)
    assert response.status_code == 400
    answer = response.json()
    assert answer["ok"] is False and answer["field"] == field
    assert answer["message"].startswith(f"{field}: ")
    visit.refresh_from_db()
    assert visit.version == 1


def test_an_unknown_appointment_is_not_found(reception, visit):
    url = reverse("scheduling:appointment_move", kwargs={"pk": visit.pk + 1000})
    assert reception.post(url, {"start": "2027-03-15T11:00"}).status_code == 404


def test_a_move_without_the_pages_csrf_token_is_refused_and_with_it_goes_through(receptionist, visit, colleague):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(receptionist)
    url = reverse("scheduling:appointment_move", kwargs={"pk": visit.pk})
    data = {"start": "2027-03-15T11:00", "practitioner": colleague.pk}
    assert browser.post(url, data).status_code == 403
    visit.refresh_from_db()
    assert visit.start == local(15, 10)
    board = browser.get(reverse("scheduling:day_board_date", kwargs={"day": date(2027, 3, 15)})).content.decode()
    token = re.search(r'id="board-status" [^>]* data-csrf="([^"]+)"', board).group(1)
    assert browser.post(url, data, HTTP_X_CSRFTOKEN=token).status_code == 200
    visit.refresh_from_db()
    assert visit.start == local(15, 11)
