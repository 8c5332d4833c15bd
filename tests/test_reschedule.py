"""Moving an appointment: the free times offered for it, from `find_move_slots` (the one rule the
reschedule page and the API's availability share), and the page that moves it.

The clock stands at 08:00 on Monday 1 March 2027. The dermatologist and a laser nurse both work
Monday to Friday 09-17; tattoo-removal sessions are 42 to 56 days apart.
"""

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from scheduling.models import Appointment
from scheduling.services import find_move_slots
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, PractitionerFactory, UserFactory, WorkingHoursFactory


@pytest.fixture
def nurse(clinic):
    nurse = PractitionerFactory(role="laser_nurse", user=UserFactory(first_name="Nia", last_name="Ng"))
    for weekday in range(5):
        WorkingHoursFactory(practitioner=nurse, weekday=weekday, start_time=time(9), end_time=time(17))
    return nurse


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


def url(appointment):
    return reverse("scheduling:appointment_reschedule", kwargs={"pk": appointment.pk})


def days(slots):
    return sorted({timezone.localdate(s.start) for s in slots})


def at(slots, start):
    return {s.practitioner for s in slots if s.start == start}


# The rule


def test_a_move_is_offered_with_every_practitioner_but_not_onto_its_own_time(clinic, nurse, frozen):
    appointment = book_treatment(clinic, local(22, 10))
    slots = find_move_slots(appointment=appointment, start_date=date(2027, 3, 22), days=1)
    assert at(slots, local(22, 10)) == {nurse}  # its own time with its own practitioner is where it is
    assert at(slots, local(22, 9)) == {clinic.practitioner, nurse}
    assert at(slots, local(22, 10, 15)) == {clinic.practitioner, nurse}  # it frees its own time as it moves


def test_a_middle_session_stays_inside_the_intervals_to_both_neighbours(clinic, frozen):
    first = book_treatment(clinic, local(22, 10))
    middle = book_treatment(clinic, local(10, 10, month=5))  # 49 days later
    book_treatment(clinic, local(21, 10, month=6))  # 42 days after the middle one
    # No earlier than 42 days after the first (3 May), no later than 42 days before the third (10 May).
    offered = find_move_slots(appointment=middle, start_date=date(2027, 4, 26), days=21, per_day=100)
    assert days(offered) == [date(2027, 5, d) for d in (3, 4, 5, 6, 7, 10)]
    assert not find_move_slots(appointment=middle, start_date=date(2027, 5, 11), days=7)
    # The first session has none before it: from 56 days (15 March) to 42 days (29 March) before
    # the middle one.
    offered = find_move_slots(appointment=first, start_date=date(2027, 3, 22), days=14, per_day=100)
    assert days(offered)[-1] == date(2027, 3, 29)
    assert at(offered, local(22, 10)) == set()
    offered = find_move_slots(appointment=first, start_date=date(2027, 3, 8), days=8, per_day=100)
    assert days(offered) == [date(2027, 3, 15)]


def test_the_last_session_keeps_the_maximum_interval_and_is_not_counted_against_itself(clinic, frozen):
    book_treatment(clinic, local(22, 10))
    last = book_treatment(clinic, local(3, 10, month=5))  # 42 days later, the least allowed
    offered = find_move_slots(appointment=last, start_date=date(2027, 5, 3), days=28, per_day=100)
    # Up to 56 days after the first (17 May); the session's own old time does not push it later.
    assert days(offered)[0] == date(2027, 5, 3) and days(offered)[-1] == date(2027, 5, 17)
    assert local(3, 9, month=5) in {s.start for s in offered}


def test_a_day_offers_at_most_its_share_and_every_day_of_the_week_gets_one(clinic, nurse, frozen):
    appointment = book_treatment(clinic, local(22, 10))
    slots = find_move_slots(appointment=appointment, start_date=date(2027, 3, 22), days=7, per_day=6)
    assert days(slots) == [date(2027, 3, d) for d in (22, 23, 24, 25, 26)]
    assert all(sum(timezone.localdate(s.start) == d for s in slots) == 6 for d in days(slots))


def test_with_spacing_a_practitioners_times_step_through_the_whole_day_round_what_they_have_on(clinic, frozen):
    appointment = book_treatment(clinic, local(22, 10))
    AppointmentFactory(practitioner=clinic.practitioner, start=local(22, 11, 45))  # to 12:15
    slots = find_move_slots(
        appointment=appointment, start_date=date(2027, 3, 22), days=1, spacing=timedelta(minutes=30)
    )
    assert [timezone.localtime(s.start).strftime("%H:%M") for s in slots] == [
        "09:00", "09:30", "10:30", "11:00", "12:15", "12:45", "13:15", "13:45", "14:15", "14:45", "15:15",
        "15:45", "16:15",
    ]  # fmt: skip


def test_a_visit_moves_without_a_course_window_and_keeps_its_length(clinic, nurse, frozen):
    visit = AppointmentFactory(
        patient=clinic.patient, practitioner=clinic.practitioner, room=clinic.room, start=local(2, 10)
    )
    slots = find_move_slots(appointment=visit, start_date=date(2027, 3, 2), days=1, per_day=100)
    assert {s.end - s.start for s in slots} == {visit.end - visit.start}
    assert at(slots, local(2, 10)) == {nurse}
    assert all(s.device is None for s in slots)


def test_an_appointment_that_cannot_move_is_offered_nothing(clinic, frozen):
    appointment = book_treatment(clinic, local(22, 10))
    appointment.status = Appointment.Status.CANCELLED
    appointment.save()
    assert find_move_slots(appointment=appointment, start_date=date(2027, 3, 22), days=7) == []


# The page


def test_the_page_offers_every_practitioner_by_day_and_marks_the_current_time(reception, clinic, nurse):
    appointment = book_treatment(clinic, local(22, 10))
    response = reception.get(url(appointment))
    html = response.content.decode()
    grouped = response.context["days"]
    assert [day for day, _ in grouped][:5] == [date(2027, 3, d) for d in (22, 23, 24, 25, 26)]
    first_day = grouped[0][1]
    current = [row for row in first_day if row.current]
    assert len(current) == 1 and current[0].start == local(22, 10)
    offered = [slot for row in first_day for slot in row.slots]
    assert {s.practitioner for s in offered} == {clinic.practitioner, nurse}
    assert not any(s.start == local(22, 10) and s.practitioner == clinic.practitioner for s in offered)
    assert html.count("<h2") >= 5 and "Mon 22 Mar 2027" in html and "Tue 23 Mar 2027" in html
    assert "Current time" in html
    assert ">Move</button>" in html and ">Book</button>" not in html


def test_the_page_can_keep_the_practitioner(reception, clinic, nurse):
    appointment = book_treatment(clinic, local(22, 10))
    response = reception.get(url(appointment), {"date": "2027-03-23", "practitioner": nurse.pk})
    slots = response.context["slots"]
    assert slots and {s.practitioner for s in slots} == {nurse}
    assert days(slots)[0] == date(2027, 3, 23)


def test_the_page_moves_a_session_to_another_practitioner(reception, clinic, nurse):
    appointment = book_treatment(clinic, local(22, 10))
    slot = next(s for s in reception.get(url(appointment)).context["slots"] if s.practitioner == nurse)
    data = {"start": slot.start.isoformat(), "practitioner": nurse.pk, "room": slot.room.pk, "device": slot.device.pk}
    response = reception.post(url(appointment), data, follow=True)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.practitioner) == (slot.start, nurse)
    assert str(list(response.context["messages"])[0]).startswith("Moved to Mon 22 Mar 2027 09:00 with Nia Ng")


def test_the_page_offers_a_middle_session_only_its_window_and_says_so(reception, clinic):
    book_treatment(clinic, local(22, 10))
    middle = book_treatment(clinic, local(10, 10, month=5))
    book_treatment(clinic, local(21, 10, month=6))
    response = reception.get(url(middle), {"date": "2027-05-10"})
    assert days(response.context["slots"]) == [date(2027, 5, 10)]
    html = response.content.decode()
    assert "Mon 3 May 2027" in html and "Mon 10 May 2027" in html  # the window, in words
    outside = reception.get(url(middle), {"date": "2027-05-11"})
    assert outside.context["slots"] == []
    assert "between Mon 3 May 2027 and Mon 10 May 2027" in outside.content.decode()


def test_the_page_costs_the_same_queries_however_many_practitioners_and_sessions(reception, clinic):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert reception.get(url(middle), {"date": "2027-05-03"}).status_code == 200
        return len(captured)

    book_treatment(clinic, local(22, 10))
    middle = book_treatment(clinic, local(10, 10, month=5))
    few = queries()
    for hour in (11, 13, 15):
        nurse = PractitionerFactory(role="laser_nurse")
        for weekday in range(5):
            WorkingHoursFactory(practitioner=nurse, weekday=weekday, start_time=time(9), end_time=time(17))
        AppointmentFactory(practitioner=nurse, room=clinic.room, start=local(4, hour, month=5))
    book_treatment(clinic, local(21, 10, month=6))
    assert queries() == few


def test_a_window_that_opened_in_the_past_is_told_from_today(reception, clinic):
    first = book_treatment(clinic, local(22, 10))
    book_treatment(clinic, local(20, 10, month=4), check_spacing=False)  # booked too close, as it was allowed once
    # The first session may move from 56 days (23 February, gone) to 42 days (9 March) before it.
    response = reception.get(url(first), {"date": "2027-03-01"})
    assert "between Mon 1 Mar 2027 and Tue 9 Mar 2027" in response.content.decode()
    assert days(response.context["slots"]) == [date(2027, 3, d) for d in (1, 2, 3, 4, 5)]
