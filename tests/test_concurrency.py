"""Racing transactions on PostgreSQL: the database, not luck, keeps every resource single-booked."""

import random
import threading
from datetime import time, timedelta

import pytest
from django.db import connection, connections, transaction

from catalogue.models import Condition
from scheduling.models import Appointment
from scheduling.services import BookingConflict, SchedulingError, appointment_book, appointment_cancel
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

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"),
    # Threads use their own connections, so the data must really be committed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OVERLAPS = """
SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b ON a.id < b.id
WHERE a.status IN ('booked', 'confirmed', 'checked_in', 'completed')
  AND b.status IN ('booked', 'confirmed', 'checked_in', 'completed')
  AND (
    (a.practitioner_id = b.practitioner_id AND a.start < b."end" AND b.start < a."end")
    OR (a.patient_id = b.patient_id AND a.start < b."end" AND b.start < a."end")
    OR (a.room_id = b.room_id AND a.start < b.blocked_until AND b.start < a.blocked_until)
    OR (a.device_id = b.device_id AND a.start < b.blocked_until AND b.start < a.blocked_until)
  )
"""


def run_in_threads(jobs):
    """Run each job in its own thread, all released at once; return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def working_all_week(practitioner):
    for weekday in range(7):
        WorkingHoursFactory(practitioner=practitioner, weekday=weekday, start_time=time(9), end_time=time(17))
    return practitioner


def suitable_laser(name):
    device = LaserDeviceFactory(name=name)
    device.conditions.set(Condition.objects.all())
    return device


def test_of_24_receptionists_booking_the_same_slot_exactly_one_wins(frozen):
    practitioner = working_all_week(PractitionerFactory())
    room, device = RoomFactory(), suitable_laser("PicoWay")
    courses = [TreatmentCourseFactory(approved=True) for _ in range(24)]

    def booking(course):
        return lambda: appointment_book(
            patient=course.patient, kind="treatment", course=course, start=local(22, 10),
            practitioner=practitioner, room=room, device=device,
        )  # fmt: skip

    results = run_in_threads([booking(course) for course in courses])
    winners = [r for r in results if isinstance(r, Appointment)]
    losers = [r for r in results if isinstance(r, BookingConflict)]
    assert len(winners) == 1, results
    assert len(losers) == 23, results
    assert all({c.appointment_id for c in loser.conflicts} == {winners[0].pk} for loser in losers)
    assert Appointment.objects.count() == 1


def test_a_random_storm_of_overlapping_bookings_leaves_no_overlap_on_any_resource(frozen):
    rng = random.Random(7)
    practitioners = [working_all_week(PractitionerFactory()) for _ in range(3)]
    rooms = [RoomFactory() for _ in range(2)]
    devices = [suitable_laser(f"Laser {i}") for i in range(2)]
    courses = [TreatmentCourseFactory(approved=True, min_interval_days=1, max_interval_days=2) for _ in range(6)]
    starts = [local(22, 9) + timedelta(minutes=15 * i) for i in range(12)]  # a busy morning

    def attempts(seed):
        picker = random.Random(seed)

        def job():
            outcomes = []
            for _ in range(15):
                course = picker.choice(courses)
                treatment = picker.random() < 0.5
                try:
                    appointment_book(
                        patient=course.patient if treatment else picker.choice(courses).patient,
                        kind="treatment" if treatment else "consultation",
                        course=course if treatment else None,
                        start=picker.choice(starts),
                        practitioner=picker.choice(practitioners),
                        room=picker.choice(rooms),
                        device=picker.choice(devices) if treatment else None,
                        duration_minutes=None if treatment else picker.choice([15, 30, 45]),
                        acknowledge_short_prep=True,
                        check_spacing=False,
                    )
                    outcomes.append("booked")
                except BookingConflict:
                    outcomes.append("conflict")
                except SchedulingError as error:
                    outcomes.append(error.message)
            return outcomes

        return job

    results = run_in_threads([attempts(rng.random()) for _ in range(8)])
    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = [o for r in results for o in r]
    assert outcomes.count("booked") >= 5
    assert outcomes.count("conflict") >= 20
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS)
        assert cursor.fetchone()[0] == 0


def test_a_row_written_past_the_service_meanwhile_still_comes_back_as_a_named_conflict(frozen):
    """The exclusion constraint's refusal, not the service's own check, answers here: the other row
    is not yet committed when the service looks, so only the database can see the clash."""
    practitioner = working_all_week(PractitionerFactory())
    room = RoomFactory()
    inserted, written = threading.Event(), {}

    def sneak_in():
        try:
            with transaction.atomic():
                written["row"] = AppointmentFactory(practitioner=practitioner, start=local(22, 10), end=local(22, 11))
                inserted.set()
                threading.Event().wait(0.5)  # hold the row uncommitted while the service books
        finally:
            connections.close_all()

    other = threading.Thread(target=sneak_in)
    other.start()
    assert inserted.wait(10)
    with pytest.raises(BookingConflict) as caught:
        appointment_book(patient=PatientFactory(), kind="consultation", start=local(22, 10, 30),
                         practitioner=practitioner, room=room)  # fmt: skip
    other.join()
    assert [(c.resource, c.appointment_id) for c in caught.value.conflicts] == [("practitioner", written["row"].pk)]


def _race_a_cancellation_against_two_bookings(planned):
    """One round: a course of `planned` sessions with three booked (22, 23 and 24 March), its middle
    session cancelled while sessions on the 25th and the 26th are booked. Returns the bookings that won."""
    course = TreatmentCourseFactory(approved=True, planned_sessions=planned, min_interval_days=1, max_interval_days=3)
    practitioner = working_all_week(PractitionerFactory())
    room, device = RoomFactory(), suitable_laser(f"Laser of course {course.pk}")

    def booking(day):
        return appointment_book(
            patient=course.patient, kind="treatment", course=course, start=local(day, 10),
            practitioner=practitioner, room=room, device=device,
        )  # fmt: skip

    first, middle, last = (booking(day) for day in (22, 23, 24))
    results = run_in_threads(
        [
            lambda: appointment_cancel(appointment=middle, reason="Unwell"),
            lambda: booking(25),
            lambda: booking(26),
        ]
    )
    assert isinstance(results[0], Appointment), results
    booked = [r for r in results[1:] if isinstance(r, Appointment)]
    refused = [r for r in results[1:] if isinstance(r, SchedulingError)]
    assert len(booked) + len(refused) == 2, results
    assert all(f"All {planned} planned sessions" in r.message for r in refused), results
    # Never more than planned; and a place free before the cancellation is always taken.
    assert planned - 3 <= len(booked) <= planned - 2, results
    sessions = course.appointments.with_session_numbers().filter(status__in=Appointment.ACTIVE_STATUSES)
    numbers = [(a.pk, a.session_number) for a in sessions.order_by("start", "pk")]
    held = sorted([first, last, *booked], key=lambda a: a.start)
    assert numbers == [(a.pk, n) for n, a in enumerate(held, 1)], results
    course.refresh_from_db()
    assert course.status == "active"
    return booked


@pytest.mark.parametrize("planned", [3, 4], ids=["full course", "a place to spare"])
def test_a_cancellation_racing_bookings_on_one_course_leaves_its_sessions_numbered_one_to_n(frozen, planned):
    """The race that once left a course numbered 1, 2, 4: with a place to spare, a booking read the
    sessions before a cancellation in the middle committed and took number 4, while the
    cancellation renumbered the sessions it could see. Full, the course lets a booking take the
    freed place only once the cancellation is in, and only one. The numbers are counted afterwards
    from what is there, with no gap and no repeat."""
    for _ in range(30):
        _race_a_cancellation_against_two_bookings(planned)


def test_a_course_stays_active_when_its_only_session_is_cancelled_while_another_is_booked(frozen):
    """The cancellation reads the course's sessions only once it holds the course's lock, so it
    sees a booking that committed first and does not put the course back to approved under it."""
    for _ in range(30):
        course = TreatmentCourseFactory(approved=True, planned_sessions=3, min_interval_days=1, max_interval_days=3)
        practitioner = working_all_week(PractitionerFactory())
        room, device = RoomFactory(), suitable_laser(f"Laser of course {course.pk}")
        kit = dict(patient=course.patient, kind="treatment", course=course, practitioner=practitioner, room=room)
        only = appointment_book(**kit, device=device, start=local(22, 10))
        results = run_in_threads(
            [
                lambda only=only: appointment_cancel(appointment=only, reason="Unwell"),
                lambda kit=kit, device=device: appointment_book(**kit, device=device, start=local(24, 10)),
            ]
        )
        assert all(isinstance(r, Appointment) for r in results), results
        course.refresh_from_db()
        assert course.status == "active", results


def test_two_online_moves_of_one_visit_at_once_cannot_both_take_its_last_move(frozen, settings):
    from auditlog.context import set_actor

    from patients.services import patient_account
    from portal.booking import online_move_rule
    from scheduling.services import appointment_reschedule

    settings.PORTAL_MAX_MOVES = 1
    practitioner, room = working_all_week(PractitionerFactory()), RoomFactory()
    patient = PatientFactory()
    patient_account(patient=patient)
    patient.refresh_from_db()
    visit = appointment_book(
        patient=patient, kind="consultation", start=local(22, 10), practitioner=practitioner, room=room
    )

    def move_to(hour):
        def move():
            with set_actor(patient.user):  # as the patient's page request does (auditlog's middleware)
                return appointment_reschedule(
                    appointment=Appointment.objects.get(pk=visit.pk), start=local(23, hour), by=patient.user,
                    caller_rule=online_move_rule(patient, now=frozen),
                )  # fmt: skip

        return move

    results = run_in_threads([move_to(10), move_to(14)])
    moved = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, SchedulingError)]
    assert len(moved) == 1 and len(refused) == 1, results
    assert "can be moved online 1 times" in refused[0].message
    visit.refresh_from_db()
    assert visit.start == moved[0].start and visit.version == 2
