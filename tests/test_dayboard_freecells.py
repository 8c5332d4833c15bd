"""The day board offers a cell only when it is bookable now, and says what is missing otherwise;
the booking page opened from a cell books that exact time or says why not."""

from datetime import date, time

import pytest
from django.urls import reverse

from catalogue.models import Condition
from scheduling.models import Appointment
from tests.conftest import local
from tests.factories import (
    AppointmentFactory,
    LaserDeviceFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    TreatmentCourseFactory,
    WorkingHoursFactory,
)

MONDAY = date(2027, 3, 15)
BOOK = reverse("scheduling:book_visit")


def board(**query):
    url = reverse("scheduling:day_board_date", kwargs={"day": MONDAY})
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else url


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


@pytest.fixture
def colleague(db):
    practitioner = PractitionerFactory()
    WorkingHoursFactory(practitioner=practitioner, weekday=0, start_time=time(9), end_time=time(17))
    return practitioner


def cell(response, practitioner, clock):
    column = next(c for c in response.context["columns"] if c.label == str(practitioner))
    return next(c for c in column.cells if c.label == f"{clock} {practitioner}")


def test_a_cell_whose_room_is_taken_says_no_room_free_and_offers_no_booking(reception, clinic, colleague):
    AppointmentFactory(practitioner=colleague, room=clinic.room, start=local(15, 9, 30))
    response = reception.get(board())
    page = response.content.decode()
    mine = cell(response, clinic.practitioner, "09:30")
    assert mine.href is None and mine.why == "no room free"
    assert f"09:30 {clinic.practitioner}: </span>no room free" in page
    assert f"start=2027-03-15T09%3A30&amp;practitioner={clinic.practitioner.pk}" not in page
    assert f"start=2027-03-15T10%3A15&amp;practitioner={clinic.practitioner.pk}" in page


def test_the_treatment_board_says_no_laser_free_where_the_consultation_board_offers_the_cell(
    reception, clinic, colleague
):
    course = TreatmentCourseFactory(approved=True)
    AppointmentFactory(
        kind=Appointment.Kind.TREATMENT, course=course, patient=course.patient, practitioner=colleague,
        room=RoomFactory(), device=clinic.device, start=local(15, 11),
    )  # fmt: skip
    assert cell(reception.get(board()), clinic.practitioner, "11:00").href is not None
    treatment = reception.get(board(kind="treatment"))
    assert cell(treatment, clinic.practitioner, "11:00").why == "no laser free"
    assert "no laser free" in treatment.content.decode()
    assert "kind=treatment" in treatment.context["next_url"]
    assert "kind=treatment" in cell(treatment, clinic.practitioner, "12:00").href


def test_a_free_cells_link_opens_the_booking_page_on_that_exact_time(reception, clinic):
    response = reception.get(board())
    href = cell(response, clinic.practitioner, "09:30").href
    page = reception.get(f"{href}&patient={clinic.patient.pk}")
    assert [s.start for s in page.context["slots"]] == [local(15, 9, 30)]
    assert page.context["slots"][0].practitioner == clinic.practitioner
    assert "09:30 with" in page.content.decode() and "is free" in page.content.decode()


def test_the_booking_page_says_why_a_picked_time_is_not_free_and_offers_others_as_others(reception, clinic, colleague):
    AppointmentFactory(practitioner=colleague, room=clinic.room, start=local(15, 9, 30))
    url = f"{BOOK}?start=2027-03-15T09:30&practitioner={clinic.practitioner.pk}&patient={clinic.patient.pk}"
    page = reception.get(url)
    text = page.content.decode()
    assert page.context["picked_refusal"] == "no room free"
    assert "cannot be booked: no room free" in text
    assert "Other free times" in text
    assert all(s.start != local(15, 9, 30) for s in page.context["slots"])


def test_a_picked_time_the_patient_is_busy_at_says_so(reception, clinic, colleague):
    patient = PatientFactory()
    AppointmentFactory(practitioner=colleague, patient=patient, start=local(15, 14))
    url = f"{BOOK}?start=2027-03-15T14:00&practitioner={clinic.practitioner.pk}&patient={patient.pk}"
    assert reception.get(url).context["picked_refusal"] == "patient has another visit"


def _fill(colleague, count):
    for n in range(count):
        AppointmentFactory(
            practitioner=colleague, room=RoomFactory(name=f"Side room {n}"), start=local(15, 9 + n // 2, 30 * (n % 2))
        )


@pytest.mark.parametrize("kind", ["consultation", "treatment"])
def test_the_board_of_free_time_costs_the_same_queries_empty_or_full(
    reception, clinic, colleague, django_assert_num_queries, django_assert_max_num_queries, kind
):
    # The page's own (the live refresh's token and the colour key's conditions among them), the
    # session's and the layout's.
    with django_assert_max_num_queries(15) as empty:
        reception.get(board(kind=kind))
    _fill(colleague, 16)
    with django_assert_num_queries(len(empty)):
        response = reception.get(board(kind=kind))
    assert sum(len(c.cards) for c in response.context["columns"]) == 16


def test_a_treatment_cell_leads_through_the_patient_to_their_course_at_that_exact_time(reception, clinic):
    href = cell(reception.get(board(kind="treatment")), clinic.practitioner, "11:00").href
    visit = reception.get(f"{href}&patient={clinic.patient.pk}")
    assert "Book the treatment session on a course" in visit.content.decode()
    [(course, course_url)] = visit.context["courses"]
    assert course == clinic.course and "start=2027-03-15T11%3A00" in course_url
    page = reception.get(course_url)
    assert [s.start for s in page.context["slots"]] == [local(15, 11)]
    assert "as picked on the day board, is free" in page.content.decode()


def test_the_course_page_says_why_the_picked_time_is_not_free(reception, clinic, colleague):
    course = TreatmentCourseFactory(approved=True)
    AppointmentFactory(
        kind=Appointment.Kind.TREATMENT, course=course, patient=course.patient, practitioner=colleague,
        room=RoomFactory(name="Side room"), device=clinic.device, start=local(15, 11),
    )  # fmt: skip
    url = reverse("scheduling:course_book", kwargs={"pk": clinic.course.pk})
    page = reception.get(f"{url}?start=2027-03-15T11:00&practitioner={clinic.practitioner.pk}")
    assert page.context["picked_refusal"] == "no suitable laser free"
    assert "cannot be booked: no suitable laser free" in page.content.decode()
    assert page.context["slots"] and all(s.start != local(15, 11) for s in page.context["slots"])


def test_a_rooms_empty_cell_is_offered_only_when_a_practitioner_is_free_with_it(reception, clinic):
    AppointmentFactory(practitioner=clinic.practitioner, room=RoomFactory(name="Room 2"), start=local(15, 10))
    response = reception.get(board(by="room"))
    busy = cell(response, clinic.room, "10:00")
    assert busy.href is None and busy.why == "no practitioner free"
    assert "10:00 Room 1: </span>no practitioner free" in response.content.decode()
    free = cell(response, clinic.room, "11:00")
    assert free.href is not None and "practitioner=" not in free.href
    page = reception.get(f"{free.href}&patient={clinic.patient.pk}")
    assert [s.start for s in page.context["slots"]] == [local(15, 11)]


def test_a_lasers_empty_cell_is_a_treatments_and_says_when_no_room_is_free(reception, clinic, colleague):
    AppointmentFactory(practitioner=colleague, room=clinic.room, start=local(15, 11))
    response = reception.get(board(by="device"))
    assert response.context["kind"] == Appointment.Kind.TREATMENT
    assert cell(response, clinic.device, "11:00").why == "no room free"
    free = cell(response, clinic.device, "14:00")
    assert "kind=treatment" in free.href
    assert "the laser, a practitioner and a room are free" in response.content.decode()
    assert "kind=" not in response.context["next_url"]


def test_a_rooms_cell_books_in_that_room_and_says_so_when_it_was_taken_meanwhile(reception, clinic, colleague):
    second = RoomFactory(name="Room 2")  # sorted after Room 1, which the search would otherwise take
    response = reception.get(board(by="room"))
    href = cell(response, second, "11:00").href
    assert f"room={second.pk}" in href
    page = reception.get(f"{href}&patient={clinic.patient.pk}")
    assert [(s.start, s.room) for s in page.context["slots"]] == [(local(15, 11), second)]
    assert "11:00 with" in page.content.decode() and "in Room 2 is free" in page.content.decode()
    AppointmentFactory(practitioner=colleague, room=second, start=local(15, 11))  # another desk, meanwhile
    page = reception.get(f"{href}&patient={clinic.patient.pk}")
    assert page.context["picked_refusal"] == "room busy"
    assert "in Room 2 cannot be booked: room busy" in page.content.decode()
    assert all(s.room == second for s in page.context["slots"])  # other times, in the room picked


def test_a_lasers_cell_leads_to_the_course_booking_with_that_laser(reception, clinic):
    second = LaserDeviceFactory(name="PicoSure")  # sorted after PicoWay, which the search tries first
    second.conditions.set(Condition.objects.all())
    href = cell(reception.get(board(by="device")), second, "11:00").href
    assert f"device={second.pk}" in href and "kind=treatment" in href
    page = reception.get(f"{href}&patient={clinic.patient.pk}")
    (course, course_href), *_ = page.context["courses"]
    assert course == clinic.course and f"device={second.pk}" in course_href
    booking = reception.get(course_href)
    assert booking.context["slots"] and all(s.device == second for s in booking.context["slots"])
