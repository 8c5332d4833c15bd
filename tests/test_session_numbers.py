"""A session's number in its course is counted, not stored: its place among the course's active
treatment sessions in time order, ties by id. Every way of reading it says the same."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scheduling.models import Appointment, number_sessions, session_number_of
from scheduling.services import appointment_cancel, appointment_no_show, appointment_reschedule
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, LaserDeviceFactory, TreatmentCourseFactory

pytestmark = pytest.mark.django_db

# Treatments: a hold is a consultation's (scheduling.services.holds), so no treatment is held or released.
STATUSES = [s for s, _ in Appointment.Status.choices if s not in ("held", "released")]


def row_numbers(queryset=None) -> dict[int, int]:
    """The numbers as the issue defines them: ROW_NUMBER() over the courses' active treatments."""
    sessions = Appointment.objects.sessions() if queryset is None else queryset
    numbered = sessions.annotate(
        n=Window(RowNumber(), partition_by=F("course"), order_by=(F("start").asc(), F("pk").asc()))
    )
    return dict(numbered.values_list("pk", "n"))


def random_courses(rng, *, courses=3, per_course=12):
    """Courses with sessions of every status and reviews linked to them, created out of time order."""
    start = local(1, 10) + timedelta(days=1)
    for _ in range(courses):
        course = TreatmentCourseFactory(approved=True)
        days = rng.sample(range(200), per_course)  # one patient: their visits never overlap
        for day in days:
            treatment = rng.random() < 0.8
            AppointmentFactory(
                kind=Appointment.Kind.TREATMENT if treatment else Appointment.Kind.REVIEW,
                course=course,
                patient=course.patient,
                device=LaserDeviceFactory() if treatment else None,
                status=rng.choice(STATUSES),
                start=start + timedelta(days=day),
            )
        AppointmentFactory(patient=course.patient, start=start - timedelta(days=3))  # a visit of no course


@pytest.mark.parametrize("seed", range(3))
def test_every_reading_gives_the_row_numbers_of_the_courses_active_sessions(seed, frozen):
    random_courses(random.Random(seed))
    expected = row_numbers()
    assert expected
    everything = list(Appointment.objects.with_session_numbers())
    assert {a.pk: a.session_number for a in everything} == {a.pk: expected.get(a.pk) for a in everything}
    loaded = list(Appointment.objects.order_by("?"))
    number_sessions(loaded)
    assert {a.pk: a.session_number for a in loaded} == {a.pk: expected.get(a.pk) for a in loaded}
    assert all(session_number_of(a) == expected.get(a.pk) for a in loaded)
    for course_id in {a.course_id for a in everything if a.course_id}:
        numbers = sorted(a.session_number for a in everything if a.course_id == course_id and a.session_number)
        assert numbers == list(range(1, len(numbers) + 1))


def test_a_filtered_queryset_still_counts_the_whole_course(frozen):
    random_courses(random.Random(7), courses=1, per_course=20)
    middle = local(1, 10) + timedelta(days=100)
    later = Appointment.objects.filter(start__gte=middle)
    numbers = {a.pk: a.session_number for a in later.with_session_numbers()}
    assert numbers == {pk: row_numbers().get(pk) for pk in numbers}
    # The trap the annotation avoids: a window over the filtered rows numbers only those.
    assert row_numbers(later.sessions()) != {pk: n for pk, n in numbers.items() if n is not None}


@pytest.mark.skipif(connection.vendor == "postgresql", reason="there a patient's active visits cannot overlap")
def test_sessions_at_the_same_time_go_by_id(frozen):
    course = TreatmentCourseFactory(approved=True)
    same = dict(kind="treatment", course=course, patient=course.patient, start=local(10, 10))
    first, second = (AppointmentFactory(**same, device=LaserDeviceFactory()) for _ in range(2))
    earlier = AppointmentFactory(**same | {"start": local(9, 10)}, device=LaserDeviceFactory())
    numbered = {a.pk: a.session_number for a in Appointment.objects.with_session_numbers()}
    assert numbered == {earlier.pk: 1, first.pk: 2, second.pk: 3} == row_numbers()


def test_reading_the_numbers_costs_no_query_of_its_own(clinic, frozen):
    for day in (2, 16, 30):
        book_treatment(clinic, local(day, 10), check_spacing=False)
    with CaptureQueriesContext(connection) as captured:
        numbers = [a.session_number for a in Appointment.objects.with_session_numbers().order_by("start")]
    assert (numbers, len(captured)) == ([1, 2, 3], 1)


def test_an_appointment_not_annotated_reads_its_number_once_and_again_after_it_changes(clinic, frozen):
    first = book_treatment(clinic, local(2, 10), check_spacing=False)
    second = book_treatment(clinic, local(16, 10), check_spacing=False)
    second = Appointment.objects.get(pk=second.pk)
    with CaptureQueriesContext(connection) as captured:
        assert (second.session_number, second.session_number) == (2, 2)
    assert len(captured) == 1
    appointment_cancel(appointment=first, reason="Unwell")
    assert first.session_number is None  # refreshed by the service
    second.refresh_from_db()
    assert second.session_number == 1
    moved = appointment_reschedule(appointment=second, start=local(30, 10), acknowledge_short_prep=True)
    assert moved.session_number == 1


def test_a_visit_has_no_number(clinic, frozen):
    review = AppointmentFactory(kind="review", course=clinic.course, patient=clinic.patient, start=local(3, 10))
    consultation = AppointmentFactory(patient=clinic.patient, start=local(4, 10))
    assert (review.session_number, consultation.session_number) == (None, None)
    assert Appointment(kind="treatment").session_number is None  # not saved yet: nothing to count


# --- Where the numbers show ------------------------------------------------------------------------


@pytest.fixture
def three_sessions_one_cancelled(clinic, frozen):
    """Sessions on 15 and 29 March, and one booked last on 1 March and cancelled: the others are 1 and 2."""
    clinic.course.min_interval_days = 7
    clinic.course.save()
    sessions = [book_treatment(clinic, local(day, 10)) for day in (15, 29, 1)]
    appointment_cancel(appointment=sessions[2], reason="Unwell")
    return sessions


def test_the_day_board_patient_page_and_api_show_the_counted_numbers(
    client, receptionist, clinic, three_sessions_one_cancelled
):
    fifteenth, twenty_ninth, cancelled = three_sessions_one_cancelled
    client.force_login(receptionist)
    board = client.get(reverse("scheduling:day_board_date", kwargs={"day": local(29, 10).date()}))
    assert "Tattoo removal 2/8" in board.content.decode()
    patient = client.get(reverse("patients:detail", args=[clinic.patient.pk])).content.decode()
    assert "1/8" in patient and "2/8" in patient and "3/8" in patient  # 3/8: the next one to book
    assert "4/8" not in patient
    detail = client.get(reverse("scheduling:appointment", kwargs={"pk": fifteenth.pk})).content.decode()
    assert "Tattoo removal 1/8" in detail
    answers = [client.get(f"/api/v1/appointments/{a.pk}/").json() for a in (fifteenth, twenty_ninth, cancelled)]
    assert [a["sequence"] for a in answers] == [1, 2, None]
    listed = client.get("/api/v1/appointments/", {"date": "2027-03-29"}).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [a["sequence"] for a in rows] == [2]


def test_a_no_show_gives_its_place_up_like_a_cancellation(clinic, frozen):
    first = book_treatment(clinic, local(2, 10), check_spacing=False)
    second = book_treatment(clinic, local(16, 10), check_spacing=False)
    appointment_no_show(appointment=first, now=local(2, 11))
    assert [a.session_number for a in Appointment.objects.with_session_numbers().order_by("start")] == [None, 1]
    second.refresh_from_db()
    assert second.session_number == 1
