"""Course planning: intervals, preferences, all-or-nothing booking and re-flow after a cancellation."""

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinical.models import TreatmentCourse
from scheduling.models import Appointment
from scheduling.services import (
    BookingConflict,
    PlanError,
    appointment_book,
    appointment_cancel,
    course_book_plan,
    course_plan,
)
from tests.conftest import local
from tests.factories import (
    AppointmentFactory,
    ClinicClosureFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    TreatmentCourseFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db


def entries(plan):
    return [
        dict(start=p.start, practitioner=p.slot.practitioner, room=p.slot.room, device=p.slot.device,
             appointment=p.appointment)
        for p in plan
    ]  # fmt: skip


def test_every_session_falls_inside_its_interval_window(clinic, frozen):
    plan = course_plan(course=clinic.course)
    assert [p.sequence for p in plan] == list(range(1, 9))
    days = [timezone.localdate(p.start) for p in plan]
    for before, after in zip(days, days[1:], strict=False):
        assert 42 <= (after - before).days <= 56
    for session in plan:
        assert session.earliest <= session.start < session.latest


def test_a_fresh_course_starts_after_the_two_week_prep_unless_asked_to_start_sooner(clinic, frozen):
    plan = course_plan(course=clinic.course)
    assert plan[0].start >= frozen + timedelta(days=14)
    assert not any(p.slot.short_prep for p in plan)
    sooner = course_plan(course=clinic.course, start_date=frozen.date())
    assert timezone.localtime(sooner[0].start) == local(1, 9)
    assert sooner[0].slot.short_prep


def test_a_fresh_course_planned_mid_morning_still_leaves_fourteen_whole_days(clinic, time_machine):
    time_machine.move_to(local(1, 10, 20), tick=False)
    plan = course_plan(course=clinic.course)
    assert timezone.localtime(plan[0].start) == local(15, 10, 30)
    assert not plan[0].slot.short_prep


def test_the_plan_keeps_to_the_last_sessions_practitioner_weekday_and_time(clinic, frozen):
    other = PractitionerFactory()
    for weekday in range(7):
        WorkingHoursFactory(practitioner=other, weekday=weekday, start_time=time(7), end_time=time(20))
    first = appointment_book(
        patient=clinic.patient, kind="treatment", course=clinic.course, start=local(18, 14, 30),
        practitioner=clinic.practitioner, room=clinic.room, device=clinic.device, acknowledge_short_prep=True,
    )  # fmt: skip
    plan = course_plan(course=clinic.course)
    assert len(plan) == 7
    for session in plan:
        when = timezone.localtime(session.start)
        assert session.slot.practitioner == clinic.practitioner
        assert (when.weekday(), when.time()) == (3, time(14, 30))  # Thursdays at 14:30, like the first
    assert timezone.localdate(plan[0].start) == timezone.localdate(first.start) + timedelta(days=42)


def test_the_plan_keeps_to_the_usual_weekday_and_time_when_the_practitioner_is_free_all_week(clinic, frozen):
    # More free time in each window than the planner weighs: it takes the first candidates in time order.
    for weekday in (5, 6):
        WorkingHoursFactory(practitioner=clinic.practitioner, weekday=weekday, start_time=time(9), end_time=time(17))
    appointment_book(
        patient=clinic.patient, kind="treatment", course=clinic.course, start=local(17, 11),
        practitioner=clinic.practitioner, room=clinic.room, device=clinic.device, acknowledge_short_prep=True,
    )  # fmt: skip
    plan = course_plan(course=clinic.course)
    assert len(plan) == 7
    assert {timezone.localtime(p.start).strftime("%a %H:%M") for p in plan} == {"Wed 11:00"}


def test_planning_takes_a_few_queries_plus_one_per_session_however_busy_the_clinic(clinic, frozen):
    def queries():
        course = TreatmentCourse.objects.get(pk=clinic.course.pk)  # as a page loads it: no relations yet
        with CaptureQueriesContext(connection) as captured:
            sessions = len(course_plan(course=course))
        return len(captured), sessions

    quiet, sessions = queries()
    for day in range(15, 20):
        for hour in (9, 11, 13):
            AppointmentFactory(practitioner=clinic.practitioner, room=clinic.room, patient=PatientFactory(),
                               start=local(day, hour), end=local(day, hour, 30))  # fmt: skip
    assert queries() == (quiet, sessions)
    # The course's sessions and areas, one calendar of hours, time off, closures, rooms, lasers and
    # the patient's planned sun exposure (six queries, in one round trip on PostgreSQL), then one
    # query per session for the appointments in its window (on the usual weekday, once there is one),
    # and for a fresh course one look at its test patch (test_patch.patch_step).
    calendar = 1 if connection.vendor == "postgresql" else 6
    assert quiet == 2 + 1 + calendar + sessions


def test_when_the_usual_weekday_is_taken_the_plan_moves_to_the_nearest_day_at_the_usual_time(clinic, frozen):
    appointment_book(
        patient=clinic.patient, kind="treatment", course=clinic.course, start=local(18, 14, 30),
        practitioner=clinic.practitioner, room=clinic.room, device=clinic.device, acknowledge_short_prep=True,
    )  # fmt: skip

    def plan_and_count():
        with CaptureQueriesContext(connection) as captured:
            plan = course_plan(course=clinic.course)
        return plan, len(captured)

    _, usual_count = plan_and_count()
    # The patient is away at another clinic's all day on each Thursday of the next session's
    # window (29 April to 13 May), though the practitioner is free.
    elsewhere = dict(patient=clinic.patient, practitioner=PractitionerFactory(), room=RoomFactory())
    for day, month in ((29, 4), (6, 5), (13, 5)):
        AppointmentFactory(start=local(day, 8, month=month), end=local(day, 18, month=month), **elsewhere)
    plan, count = plan_and_count()
    assert timezone.localtime(plan[0].start) == local(30, 14, 30, month=4)  # the Friday after, at 14:30
    assert {timezone.localtime(p.start).strftime("%a %H:%M") for p in plan[1:]} == {"Fri 14:30"}
    assert count == usual_count + 1  # the rest of that session's window, read once the Thursdays failed


def test_the_plan_says_clearly_when_a_session_has_no_room_in_its_window(clinic, frozen):
    appointment_book(
        patient=clinic.patient, kind="treatment", course=clinic.course, start=local(18, 10),
        practitioner=clinic.practitioner, room=clinic.room, device=clinic.device, acknowledge_short_prep=True,
    )  # fmt: skip
    ClinicClosureFactory(start_date=local(1, 0, month=4).date(), end_date=local(30, 0, month=5).date())
    with pytest.raises(PlanError) as caught:
        course_plan(course=clinic.course)
    assert "No free time for session 2 between Thu 29 Apr 2027 and Thu 13 May 2027" in caught.value.message


def test_an_unapproved_course_cannot_be_planned(clinic, frozen):
    with pytest.raises(PlanError):
        course_plan(course=TreatmentCourseFactory(patient=clinic.patient))


def test_booking_a_plan_books_every_session(clinic, frozen, receptionist):
    booked = course_book_plan(course=clinic.course, sessions=entries(course_plan(course=clinic.course)),
                              booked_by=receptionist)  # fmt: skip
    assert [a.session_number for a in booked] == list(range(1, 9))
    assert all(a.booked_by == receptionist and a.status == "booked" for a in booked)
    assert course_plan(course=clinic.course) == []


def test_booking_a_plan_is_all_or_nothing(clinic, frozen):
    plan = course_plan(course=clinic.course)
    # Someone takes the time of the fourth session before the plan is booked.
    taken = appointment_book(patient=PatientFactory(), kind="consultation", start=plan[3].start,
                             practitioner=clinic.practitioner, room=clinic.room)  # fmt: skip
    with pytest.raises(BookingConflict) as caught:
        course_book_plan(course=clinic.course, sessions=entries(plan))
    assert {c.appointment_id for c in caught.value.conflicts} == {taken.pk}
    assert not clinic.course.appointments.exists()


def test_after_a_cancellation_the_planner_reflows_the_rest_of_the_course(clinic, frozen):
    clinic.course.planned_sessions = 4
    clinic.course.save()
    booked = course_book_plan(course=clinic.course, sessions=entries(course_plan(course=clinic.course)))
    appointment_cancel(appointment=booked[0], reason="Unwell")
    reflow = course_plan(course=clinic.course, reflow=True)
    assert [p.appointment for p in reflow[:3]] == booked[1:]  # the three still booked move
    assert reflow[3].appointment is None  # and one new session replaces the cancelled one
    moved = course_book_plan(course=clinic.course, sessions=entries(reflow))
    assert [a.session_number for a in moved] == [1, 2, 3, 4]
    active = clinic.course.appointments.with_session_numbers().filter(status__in=Appointment.ACTIVE_STATUSES)
    assert [a.session_number for a in active.order_by("start")] == [1, 2, 3, 4]
    booked[0].refresh_from_db()
    assert booked[0].session_number is None
    assert [a.start for a in active] == [p.start for p in reflow]
    days = [timezone.localdate(a.start) for a in active]
    assert all(42 <= (b - a).days <= 56 for a, b in zip(days, days[1:], strict=False))
