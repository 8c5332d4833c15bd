"""Racing changes to one course on PostgreSQL: every transaction takes its locks in one global order,
so none deadlocks, and a deadlock or serialization failure that still happens is run again or answered
as a conflict, never a server error.

Each race runs 30 times, its sides released together by a barrier (tests.test_concurrency's harness).
"""

import logging
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, connection, connections, transaction

from clinic.errors import BookingConflict, SchedulingError
from clinical.models import TreatmentCourse
from patients.models import Patient
from records.privacy import patient_erase
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_reschedule, course_book_plan
from scheduling.services.courses import course_cancel
from scheduling.services.guard import ATTEMPTS, retrying
from tests.conftest import local
from tests.factories import PatientFactory, PractitionerFactory, RoomFactory, TreatmentCourseFactory, UserFactory
from tests.test_concurrency import OVERLAPS, run_in_threads, suitable_laser, working_all_week

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers and locks"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROUNDS = 30
# The advisory-lock keys of scheduling.services.guard: the kind of resource in the high bits.
SPACES = {"practitioner": 1, "room": 2, "device": 3, "patient": 4}


def lock_key(kind, pk):
    return (SPACES[kind] << 48) | pk


def race(one_round):
    """Run `one_round` ROUNDS times; it returns what went wrong in it (nothing, on a good round).
    Every round runs, so a failure says how many of the rounds went wrong."""
    problems = [problem for _ in range(ROUNDS) for problem in one_round()]
    assert not problems, f"{len(problems)} problems in {ROUNDS} rounds: {problems[:3]}"


@pytest.fixture
def retries(caplog):
    """The transactions guard.retrying ran again so far: none, where the order of locks holds."""
    caplog.set_level(logging.INFO, logger="scheduling.services.guard")
    return lambda: [r.getMessage() for r in caplog.records if "stopped for contention" in r.getMessage()]


def unclear(results, expected=Appointment):
    """The sides of a race that ended in anything but `expected` or a refusal to show."""
    return [r for r in results if not isinstance(r, expected | SchedulingError)]


def no_overlap():
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS)
        return cursor.fetchone()[0] == 0


def assert_course_consistent(course):
    """The course's status follows its sessions, and it never holds more than planned."""
    course.refresh_from_db()
    active = course.appointments.filter(status__in=Appointment.ACTIVE_STATUSES).count()
    assert active <= course.planned_sessions
    assert course.status == ("active" if active else "approved"), (course.status, active)


class Clinic:
    """Two practitioners, rooms and lasers, all free all week: what the crossed races share."""

    def __init__(self):
        self.x, self.y = (working_all_week(PractitionerFactory()) for _ in range(2))
        self.r1, self.r2 = RoomFactory(), RoomFactory()
        self.d1, self.d2 = suitable_laser(f"Laser {self.r1.pk}a"), suitable_laser(f"Laser {self.r1.pk}b")

    def course(self, **overrides):
        fields = dict(approved=True, planned_sessions=4, min_interval_days=1, max_interval_days=14) | overrides
        return TreatmentCourseFactory(**fields)

    def book(self, course, day, practitioner, room, device, hour=10):
        return appointment_book(
            patient=course.patient, kind="treatment", course=course, start=local(day, hour),
            practitioner=practitioner, room=room, device=device,
        )  # fmt: skip


def test_two_sessions_of_one_course_moved_at_the_same_moment_both_move(frozen, retries):
    """Each move crosses onto the other's practitioner, room and laser."""

    def one_round():
        clinic = Clinic()
        course = clinic.course()
        first = clinic.book(course, 22, clinic.x, clinic.r1, clinic.d1)
        second = clinic.book(course, 29, clinic.y, clinic.r2, clinic.d2)

        def move(appointment, day, practitioner, room, device):
            return lambda: appointment_reschedule(
                appointment=Appointment.objects.get(pk=appointment.pk), start=local(day, 11),
                practitioner=practitioner, room=room, device=device,
            )  # fmt: skip

        results = run_in_threads(
            [move(first, 23, clinic.y, clinic.r2, clinic.d2), move(second, 30, clinic.x, clinic.r1, clinic.d1)]
        )
        if unclear(results):
            return unclear(results)
        assert all(isinstance(r, Appointment) for r in results), results
        starts = sorted(course.appointments.values_list("start", flat=True))
        assert starts == [local(23, 11), local(30, 11)]
        assert no_overlap()
        assert_course_consistent(course)
        return []

    race(one_round)
    assert retries() == []  # the order of locks, not a second try, kept them apart


def test_a_session_booked_while_another_of_its_course_is_moved(frozen, retries):
    def one_round():
        clinic = Clinic()
        course = clinic.course()
        first = clinic.book(course, 22, clinic.x, clinic.r1, clinic.d1)
        results = run_in_threads(
            [
                lambda first=first, c=clinic: appointment_reschedule(
                    appointment=Appointment.objects.get(pk=first.pk), start=local(23, 11),
                    practitioner=c.y, room=c.r2, device=c.d2,
                ),
                lambda course=course, c=clinic: c.book(course, 29, c.x, c.r1, c.d1),
            ]
        )  # fmt: skip
        if unclear(results):
            return unclear(results)
        assert all(isinstance(r, Appointment) for r in results), results
        assert course.appointments.filter(status="booked").count() == 2
        assert no_overlap()
        assert_course_consistent(course)
        return []

    race(one_round)
    assert retries() == []  # the order of locks, not a second try, kept them apart


def _crossed_plans_round(b_days):
    """Plan A sees X on the 22nd then Y on the 29th, plan B Y then X on `b_days`, each plan with its
    own room and laser. Taken one booking at a time, each holds the practitioner the other needs next."""
    clinic = Clinic()
    a, b = clinic.course(), clinic.course()

    def session(day, practitioner, room, device):
        return dict(start=local(day, 10), practitioner=practitioner, room=room, device=device)

    plan_a = [session(22, clinic.x, clinic.r1, clinic.d1), session(29, clinic.y, clinic.r1, clinic.d1)]
    first, then = b_days
    plan_b = [session(first, clinic.y, clinic.r2, clinic.d2), session(then, clinic.x, clinic.r2, clinic.d2)]
    results = run_in_threads(
        [lambda: course_book_plan(course=a, sessions=plan_a), lambda: course_book_plan(course=b, sessions=plan_b)]
    )
    assert no_overlap()
    for course in (a, b):
        assert_course_consistent(course)
    return results, (a, b)


def test_two_plans_booked_at_once_with_crossed_practitioners_both_book(frozen, retries):
    def one_round():
        results, _courses = _crossed_plans_round(b_days=(22, 29))  # nothing clashes
        if unclear(results, list):
            return unclear(results, list)
        assert all(isinstance(r, list) and len(r) == 2 for r in results), results
        return []

    race(one_round)
    assert retries() == []  # the order of locks, not a second try, kept them apart


def test_two_plans_crossing_on_the_same_times_one_books_the_other_is_told(frozen, retries):
    """The same crossing where both want X at 10:00 on the 22nd: one plan books whole, the other is
    refused with the conflict and books nothing."""

    def one_round():
        results, courses = _crossed_plans_round(b_days=(15, 22))
        if unclear(results, list):
            return unclear(results, list)
        booked = [r for r in results if isinstance(r, list)]
        refused = [r for r in results if isinstance(r, BookingConflict)]
        assert (len(booked), len(refused)) == (1, 1), results
        assert "practitioner" in refused[0].message
        assert sorted(course.appointments.count() for course in courses) == [0, 2]
        return []

    race(one_round)
    assert retries() == []  # the order of locks, not a second try, kept them apart


def test_a_course_cancelled_while_one_of_its_sessions_is_moved(frozen, retries):
    """The cancellation locks the course's sessions before the course, as a move does."""

    def one_round():
        clinic = Clinic()
        course = clinic.course()
        first = clinic.book(course, 22, clinic.x, clinic.r1, clinic.d1)
        second = clinic.book(course, 29, clinic.x, clinic.r1, clinic.d1)
        results = run_in_threads(
            [
                lambda course=course: course_cancel(course=course, reason="Moving away"),
                lambda second=second, c=clinic: appointment_reschedule(
                    appointment=Appointment.objects.get(pk=second.pk), start=local(30, 11),
                    practitioner=c.y, room=c.r2, device=c.d2,
                ),
            ]
        )  # fmt: skip
        if unclear(results, Appointment | TreatmentCourse):
            return unclear(results, Appointment | TreatmentCourse)
        course.refresh_from_db()
        assert course.status == "cancelled"
        assert not course.appointments.filter(status__in=Appointment.UPCOMING_STATUSES).exists()
        assert Appointment.objects.get(pk=first.pk).status == "cancelled"
        assert no_overlap()
        return []

    race(one_round)
    assert retries() == []  # the order of locks, not a second try, kept them apart


def _hold_locks_against(key_first, key_then, started, release):
    """In a transaction of its own: take `key_first`, wait for the service to hold `key_then`'s
    lock, then ask for `key_then` (a deadlock); this side waits 10 s before it looks for one, so the
    service's side (1 s by default) is the one PostgreSQL breaks."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL deadlock_timeout = '10s'")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key_first])
            started.set()
            assert release.wait(10)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key_then])
    finally:
        connections.close_all()


def _deadlocked_booking(clinic, course, book):
    """Make the booking's transaction the victim of a real deadlock once; return what `book` gives."""
    started, release = threading.Event(), threading.Event()
    # The booking takes the practitioner's lock first (the lowest key) and then waits for the room's.
    other = threading.Thread(
        target=_hold_locks_against,
        args=(lock_key("room", clinic.r1.pk), lock_key("practitioner", clinic.x.pk), started, release),
    )
    other.start()
    assert started.wait(10)
    timer = threading.Timer(0.3, release.set)  # the booking is waiting for the room by then
    timer.start()
    try:
        return book()
    finally:
        other.join()
        timer.join()


def test_a_booking_that_a_deadlock_breaks_is_run_again_and_books(frozen, retries):
    clinic = Clinic()
    course = clinic.course()
    appointment = _deadlocked_booking(clinic, course, lambda: clinic.book(course, 22, clinic.x, clinic.r1, clinic.d1))
    assert isinstance(appointment, Appointment)
    assert retries() == ["appointment_book stopped for contention (attempt 1 of 4); running it again"]
    assert course.appointments.get().pk == appointment.pk
    assert_course_consistent(course)


def test_a_deadlock_inside_a_callers_transaction_is_answered_as_a_conflict(frozen):
    """Only the outermost transaction can be run again; inside a caller's, the deadlock comes back
    as a conflict to show, and the caller's transaction is rolled back whole."""
    clinic = Clinic()
    course = clinic.course()
    patient = PatientFactory()

    def book_inside_a_transaction():
        with transaction.atomic():
            appointment_book(patient=patient, kind="consultation", start=local(23, 10), practitioner=clinic.y,
                             room=clinic.r2)  # fmt: skip
            clinic.book(course, 22, clinic.x, clinic.r1, clinic.d1)

    with pytest.raises(BookingConflict) as caught:
        _deadlocked_booking(clinic, course, book_inside_a_transaction)
    assert "at the same moment" in caught.value.message
    assert not Appointment.objects.exists()


def test_only_contention_is_run_again_and_for_a_bounded_number_of_times(frozen):
    """A fault (here a division by zero) comes back at once; a service the database stops for
    contention every time runs ATTEMPTS times and then answers the conflict."""
    calls = []

    def failing(sql):
        calls.append(sql)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)

    with pytest.raises(DataError):
        retrying(failing)("SELECT 1 / 0")
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(BookingConflict, match="at the same moment"):
        # The same error PostgreSQL gives the victim of a deadlock, raised for real by the server.
        retrying(failing)("DO $$ BEGIN RAISE EXCEPTION 'stopped' USING ERRCODE = 'deadlock_detected'; END $$")
    assert len(calls) == ATTEMPTS


def test_a_patient_erased_while_a_visit_is_booked_for_them_is_either_refused_or_left_with_none(frozen, retries):
    """The erasure takes the patient's lock as every booking does, and a booking reads whether the
    patient was erased under it: an erased patient never keeps a visit to come, and an erasure never
    passes a booking under way."""
    manager = UserFactory()

    def one_round():
        clinic = Clinic()
        patient = PatientFactory()
        results = run_in_threads(
            [
                lambda p=patient, c=clinic: appointment_book(
                    patient=Patient.objects.get(pk=p.pk), kind="consultation", start=local(22, 10),
                    practitioner=c.x, room=c.r1,
                ),
                lambda p=patient: patient_erase(patient=Patient.objects.get(pk=p.pk), by=manager, reason="request"),
            ]
        )  # fmt: skip
        booked, erased = results
        unexpected = [
            r for r in results if isinstance(r, Exception) and not isinstance(r, SchedulingError | ValidationError)
        ]
        if unexpected:
            return unexpected
        upcoming = Appointment.objects.filter(patient=patient, status="booked").count()
        if Patient.objects.get(pk=patient.pk).erased_at is not None:
            return [f"erased with {upcoming} visit(s) to come: {results}"] if upcoming else []
        return [] if upcoming == 1 and isinstance(erased, ValidationError) else [f"neither: {results}"]

    race(one_round)
