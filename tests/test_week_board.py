"""The week board: which days and rows it shows, what a cell says, the cards and what drag and drop
reads from them, its links, and a fixed number of queries however full the week."""

from datetime import date, time, timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from scheduling.models import Appointment
from scheduling.selectors import week_board
from tests.conftest import book_treatment, local
from tests.factories import (
    AppointmentFactory,
    ClinicClosureFactory,
    LaserDeviceFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    TimeOffFactory,
    UserFactory,
    WorkingHoursFactory,
)

MONDAY = date(2027, 3, 15)


def week(day=MONDAY, by=None):
    url = reverse("scheduling:week_board_date", kwargs={"day": day})
    return f"{url}?by={by}" if by else url


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes (enough to read a board's data- attributes)."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(response, attribute):
    parser = _Tags()
    parser.feed(response.content.decode())
    return [attrs for _, attrs in parser.tags if attribute in attrs]


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


def test_the_week_holds_the_days_someone_works_and_the_closure_with_its_reason(reception, clinic):
    ClinicClosureFactory(start_date=date(2027, 3, 17), end_date=date(2027, 3, 17), reason="Staff training day")
    board = reception.get(week()).context["board"]
    assert [d.day for d in board.days] == [MONDAY + timedelta(days=n) for n in range(5)]
    assert [d.closure for d in board.days] == [None, None, "Staff training day", None, None]
    page = reception.get(week()).content.decode()
    assert "Closed: Staff training day" in page
    # A booking on the Saturday nobody works opens that day on the board; Sunday stays out.
    AppointmentFactory(practitioner=clinic.practitioner, room=clinic.room, start=local(20, 10))
    days = reception.get(week()).context["board"].days
    assert [d.day.weekday() for d in days] == [0, 1, 2, 3, 4, 5]


def test_any_day_of_the_week_shows_that_monday_to_sunday_week(reception, clinic):
    thursday = reception.get(week(date(2027, 3, 18)))
    assert thursday.context["board"].monday == MONDAY
    assert thursday.context["previous_url"] == "/week/2027-03-08/"
    assert thursday.context["next_url"] == "/week/2027-03-22/"
    assert thursday.context["chosen"] == date(2027, 3, 18)  # the day a phone shows first
    assert "Week of 15 March to 21 March 2027" in thursday.content.decode()


def test_a_cell_shows_the_hours_the_time_off_or_not_working(reception, clinic):
    colleague = PractitionerFactory(user=UserFactory(first_name="Zoe", last_name="Zed"))
    WorkingHoursFactory(practitioner=colleague, weekday=1, start_time=time(8), end_time=time(12))
    TimeOffFactory(practitioner=clinic.practitioner, start=local(16, 13), end=local(16, 17), reason="training")
    TimeOffFactory(practitioner=clinic.practitioner, start=local(18, 0), end=local(20, 0), reason="conference")
    board = week_board(day=MONDAY)
    derm, zoe = board.rows
    assert derm.label == str(clinic.practitioner) and zoe.label == "Dr Zoe Zed"
    assert [c.hours for c in derm.cells] == [["09:00–17:00"]] * 5
    assert [c.time_off for c in derm.cells] == [[], ["Off 13:00–17:00: training"], [], ["Off all day: conference"],
                                                ["Off all day: conference"]]  # fmt: skip
    assert [c.working for c in zoe.cells] == [False, True, False, False, False]
    assert zoe.cells[1].hours == ["08:00–12:00"]
    page = reception.get(week()).content.decode()
    assert "Not working<span" in page and "08:00–12:00<span" in page


def test_cards_in_time_order_with_course_session_status_and_flags(reception, clinic):
    later = AppointmentFactory(
        practitioner=clinic.practitioner, room=clinic.room, start=local(15, 14), status=Appointment.Status.CONFIRMED
    )
    session = book_treatment(clinic, local(15, 10))  # inside the 14-day prep: acknowledged
    flagged = AppointmentFactory(
        practitioner=clinic.practitioner,
        room=clinic.room,
        start=local(16, 9),
        status=Appointment.Status.CHECKED_IN,
        notes=f"{Appointment.CHECK_IN_FLAG}: new medication",
    )
    cancelled = AppointmentFactory(
        practitioner=clinic.practitioner, room=clinic.room, start=local(15, 11), status=Appointment.Status.CANCELLED
    )
    response = reception.get(week())
    monday, tuesday = response.context["board"].rows[0].cells[:2]
    assert [c.pk for c in monday.cards] == [session.pk, later.pk]
    assert [c.pk for c in tuesday.cards] == [flagged.pk]
    page = response.content.decode()
    assert "Tattoo removal 1/8" in page and "Short prep" in page
    assert f"/appointments/{cancelled.pk}/" not in page
    assert f"/appointments/{session.pk}/" in page
    assert "db-status-booked" in page and "db-status-confirmed" in page and "db-status-checked_in" in page
    card = page[page.index(f'href="/appointments/{flagged.pk}/"') :]
    assert ">Flagged</span>" in card[: card.index("</a>")]
    assert page.count(">Flagged</span>") == 2  # that card's and the colour key's


def test_movable_cards_and_every_cell_carry_what_drag_and_drop_reads(reception, clinic):
    booked = book_treatment(clinic, local(15, 10, 15))
    confirmed = AppointmentFactory(
        practitioner=clinic.practitioner, room=clinic.room, start=local(16, 14), status=Appointment.Status.CONFIRMED
    )
    AppointmentFactory(
        practitioner=clinic.practitioner, room=clinic.room, start=local(17, 9), status=Appointment.Status.CHECKED_IN
    )
    response = reception.get(week())
    cards = tags(response, "data-appointment")
    assert [(c["data-appointment"], c["data-time"]) for c in cards] == [
        (str(booked.pk), "10:15"),
        (str(confirmed.pk), "14:00"),
    ]
    cells = tags(response, "data-drop-day")
    assert [c["data-drop-day"] for c in cells] == [f"2027-03-{d}" for d in range(15, 20)]
    assert {c["data-drop-practitioner"] for c in cells} == {str(clinic.practitioner.pk)}
    assert [attrs.get("id") for attrs in tags(response, "id") if attrs["id"] == "board"] == ["board"]
    by_room = tags(reception.get(week(by="room")), "data-drop-day")
    assert {c["data-drop-room"] for c in by_room} == {str(clinic.room.pk)}
    by_device = tags(reception.get(week(by="device")), "data-drop-day")
    assert {c["data-drop-device"] for c in by_device} == {str(clinic.device.pk)}


def test_a_user_who_may_not_book_gets_no_movable_cards(client, clinic, frozen):
    book_treatment(clinic, local(15, 10))
    manager = UserFactory(username="practice-manager")  # a manager by role only, not a superuser
    manager.groups.add(Group.objects.get_or_create(name="Manager")[0])
    client.force_login(manager)
    response = client.get(week())
    assert response.status_code == 200
    assert "Ada Byron" in response.content.decode()
    assert tags(response, "data-appointment") == []


def test_rooms_and_lasers_can_be_the_rows(reception, clinic):
    RoomFactory(name="Room 2")
    LaserDeviceFactory(name="Spare laser", active=False)
    book_treatment(clinic, local(15, 10))
    AppointmentFactory(practitioner=clinic.practitioner, room=clinic.room, start=local(15, 11))
    by_room = reception.get(week(by="room"))
    assert [r.label for r in by_room.context["board"].rows] == ["Room 1", "Room 2"]
    by_device = reception.get(week(by="device"))
    assert [r.label for r in by_device.context["board"].rows] == ["PicoWay"]
    assert "1 visit without a laser is not shown" in by_device.content.decode()


def test_links_between_the_day_and_the_week(reception, clinic):
    response = reception.get(week(date(2027, 3, 17), by="room"))
    page = response.content.decode()
    assert 'href="/day/2027-03-15/?by=room"' in page  # the Monday header and its cells
    assert response.context["day_url"] == "/day/2027-03-17/?by=room"
    day = reception.get("/day/2027-03-17/?by=room").content.decode()
    assert 'href="/week/2027-03-17/?by=room" data-key-week' in day
    nav = reception.get("/").content.decode()
    assert 'href="/day/">Day board</a></li>\n  <li class="nav-item"><a class="nav-link" href="/week/">Week</a>' in nav


def test_the_date_picker_and_a_wrong_value(reception, clinic):
    picked = reception.get(reverse("scheduling:week_board"), {"date": "2027-04-01", "by": "device"})
    assert (picked.status_code, picked.url) == (302, "/week/2027-04-01/?by=device")
    today = reception.get(reverse("scheduling:week_board"), {"date": "not a date"})
    assert today.context["board"].monday == date(2027, 3, 1)
    assert [str(m) for m in today.context["messages"]] == ["Enter a valid date."]
    assert reception.get("/week/2027-02-30/").status_code == 404


def test_a_practitioners_colour_is_a_stripe_on_their_row(reception, clinic):
    clinic.practitioner.colour = "teal"
    clinic.practitioner.save()
    page = reception.get(week()).content.decode()
    assert 'class="wb-rowhead db-stripe db-stripe-teal"' in page
    assert "db-stripe db-stripe-teal" in reception.get("/day/2027-03-15/").content.decode()


def test_the_colour_key_names_each_status_and_condition(reception, clinic):
    page = reception.get(week()).content.decode()
    for status in ("Booked", "Confirmed", "Checked in", "Completed"):
        assert f"</span> {status}</li>" in page
    for name in ("Acne scars", "Tattoo removal", "Wrinkles and fine lines"):
        assert f"</span> {name}</li>" in page


def _fill_week(practitioners, per_day):
    """`per_day` visits a day for each of `practitioners` new practitioners (each with a room, hours
    and time off), Monday to Friday."""
    for n in range(practitioners):
        practitioner = PractitionerFactory()
        room = RoomFactory(name=f"Fill room {n}")
        TimeOffFactory(practitioner=practitioner, start=local(16, 13), end=local(16, 15))
        for weekday in range(5):
            WorkingHoursFactory(practitioner=practitioner, weekday=weekday, start_time=time(8), end_time=time(20))
            for n in range(per_day):
                AppointmentFactory(
                    practitioner=practitioner,
                    room=room,
                    patient=PatientFactory(),
                    start=local(15 + weekday, 8) + timedelta(minutes=45 * n),  # 30 min and a 10-min turnover
                )


# The page's own queries (the appointments, working hours, closures, the conditions of the key, and
# the practitioners and their time off, or the rooms or lasers, and the live refresh's token), plus
# the session, the user and the layout's role look-up.
@pytest.mark.parametrize("by, queries", [("practitioner", 10), ("room", 9), ("device", 9)])
def test_the_week_costs_the_same_queries_empty_or_full(reception, clinic, django_assert_num_queries, by, queries):
    with django_assert_num_queries(queries) as empty:
        reception.get(week(by=by))
    _fill_week(practitioners=4, per_day=6)
    book_treatment(clinic, local(15, 10))
    ClinicClosureFactory(start_date=date(2027, 3, 19), end_date=date(2027, 3, 19), reason="Refit")
    with django_assert_num_queries(len(empty)):
        response = reception.get(week(by=by))
    cards = sum(len(cell.cards) for row in response.context["board"].rows for cell in row.cells)
    assert cards == (121 if by != "device" else 1)


@pytest.mark.parametrize("by", ["practitioner", "room"])
def test_a_week_nobody_works_says_so(reception, db, by):
    RoomFactory(name="Room 9")
    response = reception.get(week(by=by))
    assert response.context["board"].days == []
    assert "Nobody works this week and nothing is booked" in response.content.decode()
