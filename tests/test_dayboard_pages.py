"""The day board: who may see it, what the grid shows, and a fixed number of queries."""

from datetime import date, time

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from scheduling.models import Appointment
from scheduling.services import appointment_cancel
from tests.conftest import book_treatment, local
from tests.factories import (
    AppointmentFactory,
    LaserDeviceFactory,
    PractitionerFactory,
    TimeOffFactory,
    TreatmentCourseFactory,
    UserFactory,
    WorkingHoursFactory,
)

MONDAY = date(2027, 3, 15)


def board(day=MONDAY, by=None):
    url = reverse("scheduling:day_board_date", kwargs={"day": day})
    return f"{url}?by={by}" if by else url


@pytest.fixture
def clinic_manager(db):
    """A manager by role only (the suite's `manager` persona is also a superuser, who passes every check)."""
    user = UserFactory(username="practice-manager")
    user.groups.add(Group.objects.get_or_create(name="Manager")[0])
    return user


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(board())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["receptionist", "dermatologist", "manager", "clinic_manager"])
def test_every_staff_role_sees_the_board(client, clinic, frozen, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(getattr(user, "user", user))
    assert client.get(reverse("scheduling:day_board")).status_code == 200
    assert client.get(board()).status_code == 200


def test_a_user_without_a_role_is_refused(client, db):
    client.force_login(UserFactory(username="outsider"))
    assert client.get(board()).status_code == 403


def test_a_session_shows_as_a_card_with_its_course_and_number(reception, clinic, frozen):
    appointment = book_treatment(clinic, local(15, 10))
    page = reception.get(board()).content.decode()
    assert "Ada Byron" in page
    assert "Tattoo removal 1/8" in page
    assert reverse("scheduling:appointment", kwargs={"pk": appointment.pk}) in page
    assert "db-status-booked" in page
    # 10:00 is the fifth quarter hour after 09:00; a 30-minute session spans two rows.
    assert "db-r5 db-s2" in page


def test_rows_run_through_working_hours_and_empty_slots_link_to_booking(reception, clinic, frozen):
    response = reception.get(board())
    page = response.content.decode()
    assert ">09:00<" in page and ">16:30<" in page
    assert ">08:30<" not in page and ">17:00<" not in page
    book = reverse("scheduling:book_visit")
    assert f"{book}?start=2027-03-15T09%3A00&amp;practitioner={clinic.practitioner.pk}" in page
    assert response.context["columns"][0].label == str(clinic.practitioner)


def test_the_board_grows_to_hold_an_appointment_outside_working_hours(reception, clinic, frozen):
    AppointmentFactory(start=local(15, 17, 30), practitioner=clinic.practitioner, room=clinic.room)
    page = reception.get(board()).content.decode()
    assert ">17:30<" in page


def test_past_slots_time_off_and_a_managers_view_offer_no_booking(client, clinic, frozen, clinic_manager):
    TimeOffFactory(practitioner=clinic.practitioner, start=local(15, 13), end=local(15, 14))
    client.force_login(clinic_manager)
    assert "book/consultation" not in client.get(board()).content.decode()
    client.force_login(clinic.practitioner.user)
    page = client.get(board()).content.decode()
    # A free cell is a 30-minute visit that fits: 12:45 would run into the time off.
    assert "start=2027-03-15T12%3A30" in page
    assert "start=2027-03-15T12%3A45" not in page
    assert "12:45 Dr " in page and ": </span>too little time before a break" in page
    assert ": </span>not working" in page
    assert "start=2027-03-15T13%3A00" not in page
    assert "start=2027-03-15T13%3A45" not in page
    assert "start=2027-03-15T14%3A00" in page
    last_friday = client.get(board(date(2027, 2, 26))).content.decode()
    assert "book/consultation" not in last_friday


def test_rooms_and_lasers_can_be_the_columns(reception, clinic, frozen):
    book_treatment(clinic, local(15, 10))
    AppointmentFactory(start=local(15, 11), practitioner=clinic.practitioner, room=clinic.room)
    by_room = reception.get(board(by="room"))
    assert [c.label for c in by_room.context["columns"]] == ["Room 1"]
    assert "Dr " in by_room.content.decode()
    by_device = reception.get(board(by="device"))
    assert [c.label for c in by_device.context["columns"]] == ["PicoWay"]
    assert "1 visit without a laser is not shown" in by_device.content.decode()


def test_previous_and_next_day_and_the_date_picker(reception, clinic, frozen):
    response = reception.get(board(by="room"))
    assert response.context["previous_url"] == "/day/2027-03-14/?by=room"
    assert response.context["next_url"] == "/day/2027-03-16/?by=room"
    picked = reception.get(reverse("scheduling:day_board"), {"date": "2027-04-01", "by": "device"})
    assert picked.status_code == 302
    assert picked.url == "/day/2027-04-01/?by=device"
    today = reception.get(reverse("scheduling:day_board"), {"date": "not a date"})
    assert today.status_code == 200
    assert today.context["day"] == date(2027, 3, 1)
    assert [str(m) for m in today.context["messages"]] == ["Enter a valid date."]


def test_impossible_dates_are_not_found(reception, clinic, frozen):
    assert reception.get("/day/2027-02-30/").status_code == 404
    assert reception.get("/day/0000-01-01/").status_code == 404
    assert reception.get(reverse("scheduling:day_board"), {"date": "0001-01-01"}).status_code == 200


def test_a_day_nobody_works_says_so(reception, clinic, frozen):
    page = reception.get(board(date(2027, 3, 6))).content.decode()
    assert "Nobody works on this day" in page


def test_cancelled_appointments_are_listed_below_the_grid(reception, clinic, frozen):
    appointment = book_treatment(clinic, local(15, 10))
    appointment_cancel(appointment=appointment, reason="Patient unwell")
    response = reception.get(board())
    assert response.context["inactive"] == [appointment]
    assert all(not column.cards for column in response.context["columns"])
    assert "Cancelled and no-shows" in response.content.decode()


def _fill_day(count):
    """`count` appointments on 15 March, half of them course sessions, each with its own people and kit."""
    for n in range(count):
        start = local(15, 9 + n % 8)
        practitioner = PractitionerFactory()
        WorkingHoursFactory(practitioner=practitioner, weekday=0, start_time=time(9), end_time=time(17))
        if n % 2:
            course = TreatmentCourseFactory(approved=True)
            AppointmentFactory(
                kind=Appointment.Kind.TREATMENT,
                course=course,
                patient=course.patient,
                device=LaserDeviceFactory(),
                practitioner=practitioner,
                start=start,
            )
        else:
            AppointmentFactory(practitioner=practitioner, start=start)


@pytest.mark.parametrize("by", ["practitioner", "room", "device"])
def test_the_board_costs_the_same_queries_however_full_the_day(reception, clinic, django_assert_max_num_queries, by):
    # About nine of the page's own (the colour key's conditions among them) and the live refresh's
    # token, plus the session, the user and the layout's role lookups; by room or laser, the rooms'
    # or lasers' own read and (a laser's board is a treatment's) the slot search's lasers.
    _fill_day(2)
    with django_assert_max_num_queries(14 if by == "practitioner" else 16) as two:
        reception.get(board(by=by))
    _fill_day(18)
    with django_assert_max_num_queries(len(two)):
        response = reception.get(board(by=by))
    assert sum(len(c.cards) for c in response.context["columns"]) == (20 if by != "device" else 10)


def test_a_day_beyond_the_boards_years_is_refused_with_the_same_words_everywhere(reception, clinic, frozen):
    words = "Pick a day between the years 1900 and 2999."
    board_page = reception.get(reverse("scheduling:day_board"), {"date": "3000-01-01"})
    assert [str(m) for m in board_page.context["messages"]] == [words]
    assert board_page.context["day"] == date(2027, 3, 1)
    week_page = reception.get(reverse("scheduling:week_board"), {"date": "1899-12-31"})
    assert [str(m) for m in week_page.context["messages"]] == [words]
    poll = reception.get(reverse("scheduling:board_changes"), {"from": "3000-01-01", "days": 1, "token": "x"})
    assert poll.status_code == 400 and poll.json()["errors"]["from"] == [words]
