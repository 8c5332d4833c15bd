"""Free time that is really free: the rule behind the day board's empty cells."""

from datetime import date, time

import pytest
from django.db import connection

from catalogue.models import Condition
from scheduling.models import Appointment
from scheduling.services import freecells
from scheduling.services.freecells import cell_state, cell_states, resource_cell_states
from tests.conftest import book_treatment, local
from tests.factories import (
    AppointmentFactory,
    ClinicClosureFactory,
    LaserDeviceFactory,
    PractitionerFactory,
    RoomFactory,
    TimeOffFactory,
    TreatmentCourseFactory,
    WorkingHoursFactory,
)

MONDAY = date(2027, 3, 15)
CONSULTATION, TREATMENT = Appointment.Kind.CONSULTATION, Appointment.Kind.TREATMENT


@pytest.fixture
def colleague(db):
    """A second practitioner at work the same hours, who can take the room or the laser."""
    practitioner = PractitionerFactory()
    WorkingHoursFactory(practitioner=practitioner, weekday=0, start_time=time(9), end_time=time(17))
    return practitioner


def state(clinic, hour, minute=0, **terms):
    return cell_states(day=MONDAY, **terms)[clinic.practitioner.pk][local(15, hour, minute)]


def test_all_free_is_bookable_for_a_consultation_and_a_treatment(clinic, frozen):
    assert state(clinic, 9, 30) == freecells.BOOKABLE
    assert state(clinic, 9, 30, kind=TREATMENT) == freecells.BOOKABLE
    assert state(clinic, 16, 30) == freecells.BOOKABLE


def test_the_room_taken_by_a_colleague_says_no_room_free(clinic, frozen, colleague):
    AppointmentFactory(practitioner=colleague, room=clinic.room, start=local(15, 9, 30))
    assert state(clinic, 9, 30) == freecells.NO_ROOM
    assert state(clinic, 9, 30, kind=TREATMENT) == freecells.NO_ROOM
    # The room's 10-minute turnover after 10:00 still keeps 10:00 from being free; 10:15 is.
    assert state(clinic, 10) == freecells.NO_ROOM
    assert state(clinic, 10, 15) == freecells.BOOKABLE
    # Half an hour from 09:00 would run into the colleague's visit.
    assert state(clinic, 9) == freecells.NO_ROOM


def test_the_laser_taken_in_another_room_says_no_laser_free_for_a_treatment_only(clinic, frozen, colleague):
    course = TreatmentCourseFactory(approved=True)
    AppointmentFactory(
        kind=TREATMENT, course=course, patient=course.patient, practitioner=colleague,
        room=RoomFactory(), device=clinic.device, start=local(15, 11),
    )  # fmt: skip
    assert state(clinic, 11, kind=TREATMENT) == freecells.NO_LASER
    assert state(clinic, 11) == freecells.BOOKABLE


def test_a_condition_no_laser_is_set_up_for_says_no_suitable_laser(clinic, frozen):
    condition = Condition.objects.first()
    clinic.device.conditions.remove(condition)
    assert state(clinic, 11, kind=TREATMENT, condition=condition) == freecells.NO_SUITABLE_LASER
    assert state(clinic, 11, kind=TREATMENT) == freecells.BOOKABLE
    LaserDeviceFactory().conditions.add(condition)
    assert state(clinic, 11, kind=TREATMENT, condition=condition) == freecells.BOOKABLE


def test_time_off_and_hours_outside_work_say_not_working(clinic, frozen):
    TimeOffFactory(practitioner=clinic.practitioner, start=local(15, 13), end=local(15, 14))
    assert state(clinic, 8, 45) == freecells.NOT_WORKING
    assert state(clinic, 12, 30) == freecells.BOOKABLE
    assert state(clinic, 12, 45) == freecells.TOO_SHORT  # 30 minutes would reach into the time off
    assert state(clinic, 13, 30) == freecells.NOT_WORKING
    assert state(clinic, 14) == freecells.BOOKABLE
    assert state(clinic, 16, 45) == freecells.TOO_SHORT  # 30 minutes would end after 17:00


def test_a_practitioner_who_does_not_work_that_day_is_not_working(clinic, frozen):
    elsewhere = PractitionerFactory()
    WorkingHoursFactory(practitioner=elsewhere, weekday=1, start_time=time(9), end_time=time(17))
    row = cell_states(day=MONDAY, practitioner_ids=[elsewhere.pk])[elsewhere.pk]
    assert set(row.values()) == {freecells.NOT_WORKING}


def test_a_closed_day_is_closed_for_everyone(clinic, frozen):
    ClinicClosureFactory(start_date=MONDAY, end_date=MONDAY, reason="Refurbishment")
    assert set(cell_states(day=MONDAY)[clinic.practitioner.pk].values()) == {freecells.CLOSED}


def test_the_practitioners_own_visit_and_the_past(clinic, frozen):
    AppointmentFactory(practitioner=clinic.practitioner, room=RoomFactory(), start=local(15, 10))
    assert state(clinic, 9, 45) == freecells.PRACTITIONER_BUSY
    assert state(clinic, 10, 30) == freecells.BOOKABLE
    past = cell_states(day=date(2027, 3, 1), now=local(1, 12))[clinic.practitioner.pk]
    assert past[local(1, 11)] == freecells.PAST
    assert past[local(1, 12)] == freecells.BOOKABLE


def test_one_cell_with_a_patient_who_has_another_visit(clinic, frozen, colleague):
    AppointmentFactory(practitioner=colleague, patient=clinic.patient, start=local(15, 15))
    kwargs = {"start": local(15, 15), "practitioner_id": clinic.practitioner.pk}
    assert cell_state(**kwargs, patient=clinic.patient) == freecells.PATIENT_BUSY
    assert cell_state(**kwargs) == freecells.BOOKABLE  # the colleague's visit is in another room


@pytest.mark.parametrize(("kind", "queries"), [(CONSULTATION, 5), (TREATMENT, 6)])
def test_a_day_costs_the_same_queries_however_full(clinic, frozen, colleague, django_assert_num_queries, kind, queries):
    if connection.vendor == "postgresql":
        queries = 2  # the calendar's reads go in one round trip there, then the diary's
    with django_assert_num_queries(queries):  # the slot search's calendar (lasers for a treatment) and diary
        cell_states(day=MONDAY, kind=kind)
    for hour in range(9, 17):
        AppointmentFactory(practitioner=colleague, start=local(15, hour))
    with django_assert_num_queries(queries):
        states = cell_states(day=MONDAY, kind=kind)
    assert set(states[colleague.pk].values()) >= {freecells.PRACTITIONER_BUSY}


# The columns of the board by room or by laser: free there means that room (or laser) with a
# practitioner and the rest of the stack, not the resource alone.


def room_state(clinic, hour, minute=0, room=None, **terms):
    room = room or clinic.room
    return resource_cell_states(day=MONDAY, by="room", resource_ids=[room.pk], **terms)[room.pk][
        local(15, hour, minute)
    ]


def laser_state(clinic, hour, minute=0, **terms):
    states = resource_cell_states(day=MONDAY, by="device", resource_ids=[clinic.device.pk], kind=TREATMENT, **terms)
    return states[clinic.device.pk][local(15, hour, minute)]


def test_a_rooms_cell_is_bookable_only_with_a_practitioner_free(clinic, frozen):
    assert room_state(clinic, 9, 30) == freecells.BOOKABLE
    assert room_state(clinic, 9, 30, kind=TREATMENT) == freecells.BOOKABLE
    AppointmentFactory(practitioner=clinic.practitioner, room=RoomFactory(), start=local(15, 10))
    # The room is empty at 10:00, but its only practitioner is with a patient elsewhere.
    assert room_state(clinic, 10) == freecells.NO_PRACTITIONER
    assert room_state(clinic, 8, 30) == freecells.NOBODY_WORKING


def test_a_rooms_cell_offers_a_colleague_when_its_practitioner_is_busy(clinic, frozen, colleague):
    AppointmentFactory(practitioner=clinic.practitioner, room=RoomFactory(), start=local(15, 10))
    assert room_state(clinic, 10) == freecells.BOOKABLE


def test_a_rooms_own_visit_and_its_turnover_make_it_busy(clinic, frozen, colleague):
    AppointmentFactory(practitioner=colleague, room=clinic.room, start=local(15, 9, 30))
    assert room_state(clinic, 9, 30) == freecells.ROOM_BUSY
    assert room_state(clinic, 10) == freecells.ROOM_BUSY  # turned over until 10:10
    assert room_state(clinic, 10, 15) == freecells.BOOKABLE
    assert room_state(clinic, 10, room=RoomFactory()) == freecells.BOOKABLE  # the other room, a colleague


def test_a_rooms_cell_for_a_treatment_says_no_laser_free_when_the_laser_is_elsewhere(clinic, frozen, colleague):
    course = TreatmentCourseFactory(approved=True)
    AppointmentFactory(
        kind=TREATMENT, course=course, patient=course.patient, practitioner=colleague,
        room=RoomFactory(), device=clinic.device, start=local(15, 11),
    )  # fmt: skip
    assert room_state(clinic, 11, kind=TREATMENT) == freecells.NO_LASER
    assert room_state(clinic, 11) == freecells.BOOKABLE  # a consultation needs no laser


def test_a_lasers_cell_needs_a_room_and_a_practitioner_with_it(clinic, frozen, colleague):
    assert laser_state(clinic, 11) == freecells.BOOKABLE
    AppointmentFactory(practitioner=colleague, room=clinic.room, start=local(15, 11))
    assert laser_state(clinic, 11) == freecells.NO_ROOM  # the laser is free, the only room is not
    AppointmentFactory(practitioner=clinic.practitioner, room=RoomFactory(), start=local(15, 14))
    AppointmentFactory(practitioner=colleague, room=RoomFactory(), start=local(15, 14))
    assert laser_state(clinic, 14) == freecells.NO_PRACTITIONER


def test_a_lasers_own_treatment_makes_it_busy(clinic, frozen, colleague):
    book_treatment(clinic, local(15, 11))
    assert laser_state(clinic, 11) == freecells.LASER_BUSY
    assert laser_state(clinic, 12) == freecells.BOOKABLE


def test_a_laser_not_set_up_for_the_condition_or_a_consultation_is_not_in_use(clinic, frozen):
    condition = Condition.objects.first()
    clinic.device.conditions.remove(condition)
    assert laser_state(clinic, 11, condition=condition) == freecells.NOT_IN_USE
    consultation = resource_cell_states(day=MONDAY, by="device", resource_ids=[clinic.device.pk])
    assert consultation[clinic.device.pk][local(15, 11)] == freecells.NOT_IN_USE  # it uses no laser


def test_a_resources_cells_on_a_closed_day_and_in_the_past(clinic, frozen):
    ClinicClosureFactory(start_date=MONDAY, end_date=MONDAY, reason="Refurbishment")
    assert room_state(clinic, 11) == freecells.CLOSED
    past = resource_cell_states(day=date(2027, 3, 1), by="room", resource_ids=[clinic.room.pk], now=local(1, 12))
    assert past[clinic.room.pk][local(1, 11)] == freecells.PAST
    assert past[clinic.room.pk][local(1, 12)] == freecells.BOOKABLE
