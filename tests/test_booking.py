"""Booking, rescheduling, cancelling and the status moves, through the services."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from clinical.models import TreatmentCourse
from clinical.services.courses import course_approve, course_propose
from scheduling.models import SessionRecord
from scheduling.services import (
    BookingConflict,
    IllegalTransition,
    SchedulingError,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_no_show,
    appointment_reschedule,
    course_cancel,
)
from tests.conftest import book_treatment, local, record_assessment
from tests.factories import (
    AppointmentFactory,
    ClinicClosureFactory,
    LaserDeviceFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    TimeOffFactory,
    TreatmentCourseFactory,
    area,
    condition,
)

pytestmark = pytest.mark.django_db
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.5", spot_size_mm="4.0", pulses=900, skin_reaction="mild_erythema")


def book_consultation(clinic, start, **overrides):
    patient = overrides.pop("patient", None) or PatientFactory()
    arguments = dict(
        patient=patient, kind="consultation", start=start, practitioner=clinic.practitioner, room=clinic.room
    )
    return appointment_book(**arguments | overrides)


def refusal(call, *args, **kwargs):
    with pytest.raises(SchedulingError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- Booking -------------------------------------------------------------------------------------


def test_a_treatment_takes_its_length_from_the_course_and_blocks_kit_for_the_turnover(clinic, frozen, receptionist):
    appointment = book_treatment(clinic, local(22, 10), booked_by=receptionist)
    assert appointment.end - appointment.start == timedelta(minutes=30)
    assert appointment.blocked_until - appointment.end == timedelta(minutes=10)
    assert (appointment.session_number, appointment.status, appointment.booked_by) == (1, "booked", receptionist)
    clinic.course.refresh_from_db()
    assert clinic.course.status == TreatmentCourse.Status.ACTIVE


def test_a_consultation_lasts_thirty_minutes_unless_told_otherwise(clinic, frozen):
    assert book_consultation(clinic, local(1, 9)).end == local(1, 9, 30)
    assert book_consultation(clinic, local(1, 10), duration_minutes=45).end == local(1, 10, 45)
    assert refusal(book_consultation, clinic, local(1, 12), duration_minutes=7).field == "duration_minutes"


@pytest.mark.parametrize("resource", ["practitioner", "room", "device", "patient"])
def test_booking_refuses_a_busy_resource_and_names_it(clinic, frozen, resource):
    held = book_treatment(clinic, local(22, 10))
    others = dict(practitioner=PractitionerFactory(), room=RoomFactory(), device=LaserDeviceFactory(), patient=None)
    others["device"].conditions.add(clinic.course.condition)
    for hours in range(5):
        others["practitioner"].working_hours.create(weekday=hours, start_time="09:00", end_time="17:00")
    shared = {"practitioner": clinic.practitioner, "room": clinic.room, "device": clinic.device}
    arguments = dict(
        patient=PatientFactory(),
        kind="consultation",
        start=local(22, 10, 15),
        practitioner=others["practitioner"],
        room=others["room"],
        device=others["device"],
    )
    if resource == "patient":
        arguments["patient"] = clinic.patient
    else:
        arguments[resource] = shared[resource]
    with pytest.raises(BookingConflict) as caught:
        appointment_book(**arguments)
    assert [(c.resource, c.appointment_id) for c in caught.value.conflicts] == [(resource, held.pk)]
    assert resource in caught.value.message


def test_back_to_back_is_fine_for_people_but_kit_keeps_its_turnover(clinic, frozen):
    first = book_consultation(clinic, local(1, 9))  # 09:00-09:30, room kept until 09:40
    with pytest.raises(BookingConflict) as caught:
        book_consultation(clinic, local(1, 9, 30))
    assert [(c.resource, c.appointment_id) for c in caught.value.conflicts] == [("room", first.pk)]
    assert book_consultation(clinic, local(1, 9, 30), room=RoomFactory()).start == local(1, 9, 30)


@pytest.mark.parametrize(
    ("start", "field", "words"),
    [
        (local(1, 7), "start", "already passed"),
        (local(1, 8, 30), "start", "does not work"),
        (local(1, 16, 45), "start", "does not work"),  # would end after 17:00
        (local(6, 10), "start", "does not work"),  # a Saturday
    ],
)
def test_times_outside_working_hours_or_in_the_past_are_refused(clinic, frozen, start, field, words):
    error = refusal(book_consultation, clinic, start)
    assert error.field == field
    assert words in error.message


def test_closures_and_time_off_are_refused_with_the_reason(clinic, frozen):
    ClinicClosureFactory(start_date=local(2, 0).date(), end_date=local(2, 0).date(), reason="Staff training")
    TimeOffFactory(practitioner=clinic.practitioner, start=local(3, 12), end=local(3, 17), reason="Conference")
    assert "closed" in refusal(book_consultation, clinic, local(2, 10)).message
    assert "Staff training" in refusal(book_consultation, clinic, local(2, 10)).message
    assert "Conference" in refusal(book_consultation, clinic, local(3, 14)).message
    assert book_consultation(clinic, local(3, 11)).pk


def test_a_session_cannot_be_booked_on_a_course_nobody_approved(clinic, frozen):
    proposed = TreatmentCourseFactory(patient=clinic.patient)
    error = refusal(book_treatment, clinic, local(22, 10), course=proposed)
    assert error.field == "course"
    assert "not been approved" in error.message


def test_a_treatment_needs_a_course_of_the_same_patient_and_a_suitable_laser(clinic, frozen):
    assert refusal(book_treatment, clinic, local(22, 10), course=None).field == "course"
    assert refusal(book_treatment, clinic, local(22, 10), device=None).field == "device"
    other_patients = TreatmentCourseFactory(approved=True)
    assert "another patient" in refusal(book_treatment, clinic, local(22, 10), course=other_patients).message
    unsuitable = LaserDeviceFactory(name="Q-switch")
    assert "not set up for Tattoo removal" in refusal(book_treatment, clinic, local(22, 10), device=unsuitable).message
    clinic.device.active = False
    clinic.device.save()
    assert "not in service" in refusal(book_treatment, clinic, local(22, 10)).message


def test_a_treatment_inside_the_prep_window_needs_an_acknowledgement_which_is_recorded(clinic, frozen, receptionist):
    error = refusal(book_treatment, clinic, local(12, 10), acknowledge_short_prep=False)
    assert error.field == "acknowledge_short_prep"
    appointment = book_treatment(clinic, local(12, 10), acknowledge_short_prep=True, booked_by=receptionist)
    assert appointment.short_prep_acknowledged_by == receptionist
    assert appointment.short_prep_acknowledged_at == frozen
    later = book_treatment(clinic, local(26, 10, month=4), acknowledge_short_prep=False)
    assert later.short_prep_acknowledged_at is None


def test_a_course_books_no_more_than_its_planned_sessions_and_keeps_its_minimum_interval(clinic, frozen):
    clinic.course.planned_sessions = 2
    clinic.course.save()
    book_treatment(clinic, local(22, 10))
    error = refusal(book_treatment, clinic, local(29, 10))
    assert "at least 42 days apart" in error.message
    book_treatment(clinic, local(3, 10, month=5))
    assert "All 2 planned sessions" in refusal(book_treatment, clinic, local(7, 10, month=6)).message


# --- Session numbers ------------------------------------------------------------------------------


def numbered_sessions(course):
    """The course's appointments of every status and kind, with their derived numbers, in time order."""
    numbered = course.appointments.with_session_numbers().order_by("start", "pk")
    return [(a.session_number, a.start) for a in numbered if a.session_number is not None]


def test_session_numbers_follow_time_through_bookings_reschedules_and_cancellations(clinic, frozen):
    clinic.course.min_interval_days = 7
    clinic.course.save()
    may = book_treatment(clinic, local(3, 10, month=5))
    march = book_treatment(clinic, local(22, 10))  # booked second, but comes first
    april = book_treatment(clinic, local(5, 10, month=4))
    assert numbered_sessions(clinic.course) == [(1, march.start), (2, april.start), (3, may.start)]
    appointment_reschedule(appointment=march, start=local(10, 10, month=5), acknowledge_short_prep=True)
    assert numbered_sessions(clinic.course) == [(1, april.start), (2, may.start), (3, local(10, 10, month=5))]
    appointment_cancel(appointment=april, reason="Holiday")
    assert numbered_sessions(clinic.course) == [(1, may.start), (2, local(10, 10, month=5))]
    # The cancelled session keeps no number; asked one by one, the others say the same.
    april.refresh_from_db()
    march.refresh_from_db()
    assert (april.session_number, may.session_number, march.session_number) == (None, 1, 2)


def test_a_cancelled_middle_session_moves_the_later_ones_up_and_a_no_show_too(clinic, frozen):
    clinic.course.min_interval_days = 7
    clinic.course.save()
    first, second, third, fourth = (
        book_treatment(clinic, start) for start in (local(2, 10), local(9, 10), local(16, 10), local(23, 10))
    )
    appointment_cancel(appointment=second, reason="Holiday")
    assert [n for n, _ in numbered_sessions(clinic.course)] == [1, 2, 3]
    for appointment, number in ((first, 1), (second, None), (third, 2), (fourth, 3)):
        appointment.refresh_from_db()
        assert appointment.session_number == number
    appointment_no_show(appointment=first, now=local(2, 10, 5))
    assert numbered_sessions(clinic.course) == [(1, third.start), (2, fourth.start)]
    # The freed places can be booked again, and a session booked between takes its number.
    between = book_treatment(clinic, local(30, 10))
    assert numbered_sessions(clinic.course) == [(1, third.start), (2, fourth.start), (3, between.start)]


def test_a_review_on_the_same_time_does_not_take_a_number(clinic, frozen):
    session = book_treatment(clinic, local(22, 10))
    appointment_book(patient=clinic.patient, kind="review", course=clinic.course, start=local(22, 9),
                     practitioner=clinic.practitioner, room=clinic.room, duration_minutes=15)  # fmt: skip
    assert numbered_sessions(clinic.course) == [(1, session.start)]


# --- Rescheduling ---------------------------------------------------------------------------------


def test_rescheduling_moves_the_appointment_raises_its_version_and_asks_for_confirmation_again(clinic, frozen):
    appointment = appointment_confirm(appointment=book_consultation(clinic, local(2, 9)))
    moved = appointment_reschedule(appointment=appointment, start=local(2, 11))
    assert (moved.start, moved.end, moved.status, moved.version) == (local(2, 11), local(2, 11, 30), "booked", 2)


def test_rescheduling_onto_its_own_old_time_is_not_a_conflict_but_onto_anothers_is(clinic, frozen):
    appointment = book_consultation(clinic, local(2, 9))
    other = book_consultation(clinic, local(2, 11))
    assert appointment_reschedule(appointment=appointment, start=local(2, 9, 15)).start == local(2, 9, 15)
    with pytest.raises(BookingConflict) as caught:
        appointment_reschedule(appointment=appointment, start=local(2, 11))
    assert {c.appointment_id for c in caught.value.conflicts} == {other.pk}
    appointment.refresh_from_db()
    assert appointment.start == local(2, 9, 15)  # a refused move leaves the booking where it was


# --- Status moves ---------------------------------------------------------------------------------


def test_the_happy_path_of_a_treatment_session(clinic, frozen, time_machine):
    appointment = book_treatment(clinic, local(1, 10))
    appointment_confirm(appointment=appointment)
    time_machine.move_to(local(1, 9, 50), tick=False)
    appointment_check_in(appointment=appointment)
    error = refusal(appointment_complete, appointment=appointment)
    assert error.field == "record"
    appointment_complete(appointment=appointment, record=dict(RECORD, area=area()))
    assert appointment.status == "completed"
    assert SessionRecord.objects.get(appointment=appointment).recorded_by == clinic.practitioner


def test_a_course_completes_with_its_last_session(clinic, frozen, time_machine):
    clinic.course.planned_sessions = 1
    clinic.course.save()
    appointment = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 10), tick=False)
    appointment_check_in(appointment=appointment)
    appointment_complete(appointment=appointment, record=dict(RECORD))
    clinic.course.refresh_from_db()
    assert clinic.course.status == TreatmentCourse.Status.COMPLETED


ALL_MOVES = {
    "confirm": lambda a: appointment_confirm(appointment=a),
    "check_in": lambda a: appointment_check_in(appointment=a),
    "complete": lambda a: appointment_complete(appointment=a),
    "no_show": lambda a: appointment_no_show(appointment=a),
    "cancel": lambda a: appointment_cancel(appointment=a, reason="test"),
}
LEGAL = {
    "booked": {"confirm", "check_in", "no_show", "cancel"},
    "confirmed": {"check_in", "no_show", "cancel"},
    "checked_in": {"complete", "cancel"},
    "completed": set(),
    "cancelled": set(),
    "no_show": set(),
}


@pytest.mark.parametrize("status", list(LEGAL))
@pytest.mark.parametrize("move", list(ALL_MOVES))
def test_every_status_move_is_allowed_only_from_its_legal_states(clinic, time_machine, status, move):
    time_machine.move_to(local(1, 10, 5), tick=False)  # during the appointment
    appointment = AppointmentFactory(
        practitioner=clinic.practitioner, room=clinic.room, start=local(1, 10), end=local(1, 10, 30), status=status
    )
    if move in LEGAL[status]:
        ALL_MOVES[move](appointment)
        appointment.refresh_from_db()
        assert appointment.status != status
    else:
        with pytest.raises(IllegalTransition):
            ALL_MOVES[move](appointment)
        appointment.refresh_from_db()
        assert appointment.status == status


def test_check_in_is_for_the_day_itself_and_no_show_only_after_the_start(clinic, frozen):
    appointment = book_consultation(clinic, local(2, 10))
    assert "day of their appointment" in refusal(appointment_check_in, appointment=appointment).message
    assert "has started" in refusal(appointment_no_show, appointment=appointment).message


def test_cancelling_records_the_reason_and_frees_the_time(clinic, frozen):
    appointment = book_consultation(clinic, local(2, 10))
    appointment_cancel(appointment=appointment, reason="Feeling unwell")
    assert (appointment.status, appointment.cancel_reason, appointment.version) == ("cancelled", "Feeling unwell", 2)
    assert book_consultation(clinic, local(2, 10)).pk != appointment.pk
    with pytest.raises(IllegalTransition):
        appointment_reschedule(appointment=appointment, start=local(2, 12))


# --- Courses --------------------------------------------------------------------------------------


def test_a_proposed_course_takes_the_protocol_defaults_and_only_a_dermatologist_approves_it(clinic, frozen):
    pigmentation = condition("pigmentation")
    assessment = record_assessment(clinic.practitioner, clinic.patient, pigmentation)
    course = course_propose(
        assessment=assessment, condition=pigmentation, areas=[area("Cheeks")], proposed_by=clinic.practitioner
    )
    assert (course.planned_sessions, course.min_interval_days, course.max_interval_days) == (3, 21, 35)
    assert (course.patient, course.assessment, course.proposed_by) == (clinic.patient, assessment, clinic.practitioner)
    nurse = PractitionerFactory(role="laser_nurse")
    assert "Only a dermatologist" in refusal(course_approve, course=course, by=nurse).message
    course_approve(course=course, by=clinic.practitioner)
    assert (course.status, course.approved_by, course.approved_at) == ("approved", clinic.practitioner, frozen)
    with pytest.raises(IllegalTransition):
        course_approve(course=course, by=clinic.practitioner)


def test_a_course_proposal_is_checked(clinic):
    tattoo = condition("tattoo-removal")
    propose = dict(
        assessment=record_assessment(clinic.practitioner, clinic.patient),
        condition=tattoo,
        areas=[area()],
        proposed_by=clinic.practitioner,
    )
    assert refusal(course_propose, **propose | {"areas": []}).field == "areas"
    assert refusal(course_propose, **propose | {"planned_sessions": 0}).field == "planned_sessions"
    error = refusal(course_propose, **propose | {"min_interval_days": 60, "max_interval_days": 30})
    assert error.field == "max_interval_days"
    nurse = PractitionerFactory(role="laser_nurse")
    assert (
        refusal(course_propose, **propose | {"proposed_by": nurse}).message
        == "Only a dermatologist can propose a course."
    )
    assert not TreatmentCourse.objects.filter(patient=clinic.patient, status="proposed").exists()


@pytest.mark.parametrize(
    "assessed, reason",
    [
        (dict(candidate=False), "not a good candidate"),
        (dict(contraindications=["pregnancy"]), "Contraindications were found (pregnancy or breastfeeding)"),
        (dict(conditions=["acne-scars"]), "The assessment did not find Tattoo removal."),
    ],
)
def test_a_course_is_proposed_only_on_an_assessment_that_allows_it(clinic, assessed, reason):
    found = [condition(slug) for slug in assessed.pop("conditions", ["tattoo-removal"])]
    assessment = record_assessment(clinic.practitioner, clinic.patient, *found, **assessed)
    error = refusal(
        course_propose,
        assessment=assessment,
        condition=condition("tattoo-removal"),
        areas=[area()],
        proposed_by=clinic.practitioner,
    )
    assert reason in error.message
    assert not assessment.courses.exists()


def test_cancelling_a_course_cancels_its_sessions_still_to_come(clinic, frozen):
    upcoming = book_treatment(clinic, local(22, 10))
    course_cancel(course=clinic.course, reason="Patient moved away")
    upcoming.refresh_from_db()
    assert upcoming.status == "cancelled"
    assert clinic.course.status == "cancelled"
    assert refusal(book_treatment, clinic, local(10, 10, month=5)).message == "This course is cancelled."


# --- The database's own guard ---------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's")
@pytest.mark.parametrize("resource", ["practitioner", "room", "device", "patient"])
def test_postgresql_refuses_overlapping_rows_written_past_the_service(clinic, frozen, resource):
    held = book_treatment(clinic, local(22, 10))
    fresh = dict(practitioner=PractitionerFactory(), room=RoomFactory(), device=LaserDeviceFactory(),
                 patient=PatientFactory())  # fmt: skip
    fresh[resource] = getattr(held, resource)
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(start=local(22, 10, 35), end=local(22, 11), **fresh)  # inside the turnover or the session
        if resource in ("practitioner", "patient"):
            AppointmentFactory(start=local(22, 10, 15), end=local(22, 11), **fresh)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
def test_a_booking_holds_locks_on_its_practitioner_room_laser_and_patient_until_it_commits(clinic, frozen):
    with transaction.atomic():  # the test's own transaction stands in for the rest of the request
        book_treatment(clinic, local(22, 10))
        with connection.cursor() as cursor:
            cursor.execute("SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            held = sorted(row[0] for row in cursor.fetchall())
    # The low 32 bits of each key are the resource's id; the namespace sits above them.
    ids = [clinic.practitioner.pk, clinic.room.pk, clinic.device.pk, clinic.patient.pk]
    assert held == sorted(ids)


# --- Round trips ----------------------------------------------------------------------------------


def queries(call):
    with CaptureQueriesContext(connection) as captured:
        call()
    return [query["sql"] for query in captured]


def test_a_booking_takes_seven_statements_however_full_the_day(clinic, frozen):
    for hour in (9, 11, 13, 15):
        book_consultation(clinic, local(2, hour))
    patient = PatientFactory()
    sent = queries(lambda: book_consultation(clinic, local(2, 10), patient=patient))
    # Its savepoint (a transaction of its own outside a test), the locks with the opening and
    # overlap checks, whether the patient was erased (read after the locks, so that an erasure
    # committed meanwhile is seen), the appointment, its audit entry, its email, and the
    # savepoint's release.
    assert len(sent) == 7, sent


def test_a_treatment_session_adds_only_its_course_to_the_round_trips(clinic, frozen):
    book_treatment(clinic, local(22, 10))
    # As for any booking, plus the course's areas, the locked course, its sessions, the
    # withdrawal of any prompt to book the next session, and the waitlist's look for an entry
    # waiting for this course's next session (waitlist.services.entries.close_answered_entries),
    # and the test patch's one look (its need, its patch and an earlier session: test_patch.patch_step).
    assert len(queries(lambda: book_treatment(clinic, local(3, 10, month=5)))) == 7 + 6
    # Booked between the two, it takes number 2 from the May session, which becomes 3: the numbers
    # are counted when read, so nothing else is written.
    between = local(12, 10, month=4)
    assert len(queries(lambda: book_treatment(clinic, between, check_spacing=False))) == 7 + 6
    assert [n for n, _ in numbered_sessions(clinic.course)] == [1, 2, 3]


# --- Edges found in review ------------------------------------------------------------------------


def test_moving_a_treatment_out_of_the_prep_window_drops_its_acknowledgement(clinic, frozen, receptionist):
    appointment = book_treatment(clinic, local(12, 10), booked_by=receptionist)
    assert appointment.short_prep_acknowledged_at is not None
    moved = appointment_reschedule(appointment=appointment, start=local(5, 10, month=4))
    assert (moved.short_prep_acknowledged_at, moved.short_prep_acknowledged_by) == (None, None)


def test_a_review_linked_to_a_course_is_a_visit_not_a_session(clinic, frozen):
    session = book_treatment(clinic, local(22, 10))
    review = appointment_book(patient=clinic.patient, kind="review", course=clinic.course, start=local(22, 14),
                              practitioner=clinic.practitioner, room=clinic.room, duration_minutes=15)  # fmt: skip
    assert (review.session_number, review.end - review.start) == (None, timedelta(minutes=15))
    session.refresh_from_db()
    assert session.session_number == 1
    assert clinic.course.appointments.filter(kind="treatment").count() == 1


def test_a_course_without_areas_cannot_be_booked(clinic, frozen):
    clinic.course.areas.clear()
    assert "no treatment areas" in refusal(book_treatment, clinic, local(22, 10)).message


def test_bookings_more_than_two_years_ahead_are_refused(clinic, frozen):
    assert "two years" in refusal(book_consultation, clinic, local(1, 10, year=2029, month=3)).message


def test_a_session_record_names_an_area_of_its_course(clinic, frozen, time_machine):
    appointment = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 10), tick=False)
    appointment_check_in(appointment=appointment)
    error = refusal(appointment_complete, appointment=appointment, record=dict(RECORD, area=area("Full face")))
    assert error.field == "area"
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"  # nothing half-done


def test_moving_an_appointment_answers_the_patients_request_to_cancel_the_old_time(clinic, frozen):
    from scheduling.services.patient_requests import appointment_request_cancellation

    appointment = book_consultation(clinic, local(2, 10))
    appointment_request_cancellation(appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.cancel_requested_at == frozen
    moved = appointment_reschedule(appointment=appointment, start=local(2, 12))
    moved.refresh_from_db()
    assert moved.cancel_requested_at is None


def test_a_check_in_keeps_what_the_re_screen_found_and_flags_the_session(clinic, time_machine, receptionist):
    time_machine.move_to(local(1, 8), tick=False)
    appointment = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 9, 50), tick=False)
    appointment_check_in(appointment=appointment, flags=["recent tan"], remarks="Holiday last week", by=receptionist)
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"
    assert appointment.notes.startswith("Flagged at check-in (1 Mar 2027 09:50, ")
    assert "recent tan. Remarks: Holiday last week" in appointment.notes
