"""The test patch before a course's first session, the rule itself: who needs one, the wait (across
DST), booking, moving, the result, the slot search and the planner (the pages: test_test_patch_pages.py)."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from catalogue.models import Condition
from clinic.errors import SchedulingError
from outbox.models import Notification
from scheduling.services import (
    appointment_book,
    appointment_check_in,
    appointment_reschedule,
    course_plan,
    find_move_slots,
    find_slots,
    test_patch,
)
from tests.conftest import book_treatment, local
from tests.factories import TreatmentCourseFactory
from tests.patch_helpers import book_patch, record, require_patch

pytestmark = pytest.mark.django_db


@pytest.fixture
def patched(clinic):
    return require_patch(clinic)


def refusal(call, *args, **kwargs) -> SchedulingError:
    with pytest.raises(SchedulingError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- Who needs one -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "requires, skin_type, needed",
    [(True, 2, True), (False, 3, False), (False, 4, True), (False, 6, True), (False, None, False)],
)
def test_a_course_needs_a_patch_for_its_condition_or_its_skin_type(requires, skin_type, needed):
    assert test_patch.needs_test_patch(condition_requires=requires, skin_type=skin_type) is needed


def test_the_skin_types_are_the_clinics_setting(settings):
    settings.TEST_PATCH_SKIN_TYPES = [6]
    assert not test_patch.needs_test_patch(condition_requires=False, skin_type=4)


def test_the_seeded_pigmentation_condition_asks_for_a_patch_and_the_others_do_not():
    assert set(Condition.objects.filter(test_patch_required=True).values_list("slug", flat=True)) == {"pigmentation"}


def test_the_assessments_skin_type_makes_the_course_need_a_patch(clinic, frozen):
    assert not test_patch.patch_step(clinic.course).needed
    clinic.course.assessment.skin_type = 5
    clinic.course.assessment.save()
    assert test_patch.patch_step(clinic.course).needed
    assert "test patch first" in refusal(book_treatment, clinic, local(22, 10)).message


# --- Booking and the wait ------------------------------------------------------------------------


def test_a_first_session_without_a_patch_is_refused_with_the_reason(patched, frozen):
    error = refusal(book_treatment, patched, local(22, 10))
    assert error.message == "This course needs a test patch before its first session: book the test patch first."


def test_a_patch_is_a_short_visit_with_a_suited_laser_and_only_a_confirmation_email(patched, frozen):
    patch = book_patch(patched, local(2, 9))
    assert (patch.kind, patch.end - patch.start, patch.device) == ("test_patch", timedelta(minutes=15), patched.device)
    assert set(patch.notifications.values_list("kind", flat=True)) == {Notification.Kind.CONFIRMATION}
    patched.device.conditions.clear()
    other = TreatmentCourseFactory(approved=True, patient=patched.patient, condition=patched.course.condition)
    assert "not set up" in refusal(book_patch, patched, local(3, 9), course=other).message


def test_a_patch_needs_a_course_and_a_laser(patched, frozen):
    assert "booked on a course" in refusal(book_patch, patched, local(2, 9), course=None).message
    assert "needs a laser" in refusal(book_patch, patched, local(2, 9), device=None).message


def test_the_first_session_waits_the_days_after_the_patch(patched, frozen):
    book_patch(patched, local(2, 9))  # Tuesday 2 March
    error = refusal(book_treatment, patched, local(8, 10))
    assert error.message == (
        "The first session must wait 7 days after the test patch on Tue 2 Mar 2027: book it on Tue 9 Mar 2027 or later."
    )
    assert book_treatment(patched, local(9, 9)).session_number == 1  # the first hour of the seventh day


def test_a_second_session_does_not_ask_for_the_patch_again(patched, frozen):
    book_patch(patched, local(2, 9))
    book_treatment(patched, local(9, 10))
    assert book_treatment(patched, local(20, 10, month=4)).session_number == 2


@pytest.mark.parametrize(
    "patch_day, allowed, refused",
    [
        # Clocks go forward on Sunday 28 March 2027: a patch on Friday 26 March at 10:00 GMT.
        (date(2027, 3, 26), date(2027, 4, 2), date(2027, 4, 1)),
        # Clocks go back on Sunday 31 October 2027: a patch on Friday 29 October at 10:00 BST.
        (date(2027, 10, 29), date(2027, 11, 5), date(2027, 11, 4)),
    ],
    ids=["spring", "autumn"],
)
def test_the_wait_counts_the_clinics_calendar_days_across_a_dst_change(patched, frozen, patch_day, allowed, refused):
    at = lambda day: local(day.day, 10, month=day.month)  # noqa: E731
    patch = book_patch(patched, at(patch_day))
    # Seven calendar days at the same wall time is 7 × 24 hours less or more the changed hour.
    elapsed = timedelta(seconds=at(allowed).timestamp() - patch.start.timestamp())
    assert abs(elapsed - timedelta(days=7)) == timedelta(hours=1)
    assert "must wait 7 days" in refusal(book_treatment, patched, at(refused)).message
    assert book_treatment(patched, at(allowed)).start == at(allowed)


def test_the_wait_is_the_clinics_setting(patched, frozen, settings):
    settings.TEST_PATCH_WAIT_DAYS = 3
    book_patch(patched, local(2, 9))
    assert book_treatment(patched, local(5, 10)).session_number == 1


def test_a_move_of_the_first_session_keeps_the_wait(patched, frozen):
    book_patch(patched, local(2, 9))
    session = book_treatment(patched, local(12, 10))
    assert "must wait 7 days" in refusal(appointment_reschedule, appointment=session, start=local(8, 10),
                                         acknowledge_short_prep=True).message  # fmt: skip
    moved = appointment_reschedule(appointment=session, start=local(9, 10), acknowledge_short_prep=True)
    assert moved.start == local(9, 10)


def test_a_patch_moved_closer_than_the_wait_to_the_first_session_is_refused(patched, frozen):
    patch = book_patch(patched, local(2, 9))
    book_treatment(patched, local(12, 10))  # Friday 12 March: the patch keeps to Friday 5 March or before
    error = refusal(appointment_reschedule, appointment=patch, start=local(8, 9))
    assert error.message == (
        "The test patch must be at least 7 days before the first session on Fri 12 Mar 2027: "
        "book it on Fri 5 Mar 2027 or earlier."
    )
    assert appointment_reschedule(appointment=patch, start=local(5, 16)).start == local(5, 16)


def test_a_second_patch_is_refused_while_one_stands(patched, frozen):
    book_patch(patched, local(2, 9))
    assert "has a test patch already" in refusal(book_patch, patched, local(3, 9)).message


def test_a_cancelled_patch_is_no_patch(patched, frozen):
    from scheduling.services import appointment_cancel

    appointment_cancel(appointment=book_patch(patched, local(2, 9)))
    assert "book the test patch first" in refusal(book_treatment, patched, local(22, 10)).message
    book_patch(patched, local(3, 9))


# --- The result ----------------------------------------------------------------------------------


def test_an_unsuitable_result_stops_the_courses_treatment(patched, frozen, time_machine):
    patch = book_patch(patched, local(2, 9))
    record(patch, "unsuitable", patched.practitioner, time_machine)
    error = refusal(book_treatment, patched, local(22, 10))
    assert error.message == (
        "The test patch on Tue 2 Mar 2027 showed the skin is unsuitable, so this course's treatment cannot be booked."
    )
    assert "unsuitable" in refusal(book_patch, patched, local(3, 9)).message
    assert "unsuitable" in refusal(find_slots, course=patched.course, start_date=date(2027, 3, 9), days=7).message


def test_a_mild_result_lets_the_first_session_be_checked_in(patched, frozen, time_machine):
    patch = book_patch(patched, local(2, 9))
    session = book_treatment(patched, local(9, 10))
    time_machine.move_to(local(9, 9, 50), tick=False)
    assert "not recorded yet" in refusal(appointment_check_in, appointment=session).message
    record(patch, "mild", patched.practitioner, time_machine)
    time_machine.move_to(local(9, 9, 50), tick=False)
    assert appointment_check_in(appointment=session).status == "checked_in"


def test_a_result_is_recorded_once_the_patch_has_begun_and_audited(patched, frozen, time_machine):
    patch = book_patch(patched, local(2, 9))
    assert (
        "once the test patch has been done"
        in refusal(test_patch.patch_result_record, appointment=patch, result="mild", by=patched.practitioner).message
    )
    done = record(patch, "no_reaction", patched.practitioner, time_machine)
    assert (done.patch_result, done.patch_result_by) == ("no_reaction", patched.practitioner)
    entry = LogEntry.objects.get_for_object(patch).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert "patch_result" in entry.changes_dict


def test_only_a_test_patch_takes_a_result(patched, frozen, time_machine):
    visit = appointment_book(patient=patched.patient, kind="review", course=patched.course, start=local(1, 9),
                             practitioner=patched.practitioner, room=patched.room, duration_minutes=15)  # fmt: skip
    time_machine.move_to(local(1, 9, 30), tick=False)
    error = refusal(test_patch.patch_result_record, appointment=visit, result="mild", by=patched.practitioner)
    assert error.message == "Only a test patch has a patch result."


# --- Slot search and planner ---------------------------------------------------------------------


def test_patch_slots_are_short_with_a_laser(patched, frozen):
    slots = find_slots(course=patched.course, kind="test_patch", start_date=date(2027, 3, 2), days=1, limit=3)
    assert [(s.end - s.start, s.device) for s in slots] == [(timedelta(minutes=15), patched.device)] * 3
    assert [timezone.localtime(s.start).strftime("%H:%M") for s in slots] == ["09:00", "09:15", "09:30"]


def test_first_session_slots_start_no_earlier_than_the_wait(patched, frozen):
    book_patch(patched, local(26, 10))  # the Friday before the clocks go forward
    slots = find_slots(course=patched.course, start_date=date(2027, 3, 22), days=28, limit=1)
    assert timezone.localtime(slots[0].start).strftime("%a %d %b %H:%M") == "Fri 02 Apr 09:00"


def test_the_first_sessions_move_slots_keep_the_wait(patched, frozen):
    book_patch(patched, local(2, 9))
    session = book_treatment(patched, local(12, 10))
    slots = find_move_slots(appointment=session, start_date=date(2027, 3, 3), days=10)
    assert min(timezone.localdate(s.start) for s in slots) == date(2027, 3, 9)


def test_the_patches_move_slots_keep_the_wait_before_the_first_session(patched, frozen):
    patch = book_patch(patched, local(2, 9))
    book_treatment(patched, local(12, 10))
    slots = find_move_slots(appointment=patch, start_date=date(2027, 3, 2), days=10)
    assert max(timezone.localdate(s.start) for s in slots) == date(2027, 3, 5)


def test_the_planner_starts_a_fresh_course_after_the_wait(patched, frozen):
    assert "book the test patch first" in refusal(course_plan, course=patched.course).message
    book_patch(patched, local(19, 9))  # the plan would start at 15 March (two weeks' prep) without it
    plan = course_plan(course=patched.course)
    assert timezone.localdate(plan[0].start) == date(2027, 3, 26)
    days = [timezone.localdate(session.start) for session in plan]
    gaps = [(later - earlier).days for earlier, later in zip(days, days[1:], strict=False)]
    assert min(gaps) >= patched.course.min_interval_days


# --- Settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrong",
    [
        {"TEST_PATCH_SKIN_TYPES": [0, 4]},
        {"TEST_PATCH_MINUTES": 12},
        {"TEST_PATCH_MINUTES": 0},
        {"TEST_PATCH_WAIT_DAYS": 0},
    ],  # fmt: skip
)
def test_a_test_patch_setting_out_of_range_is_refused_at_start_up(settings, wrong):
    from django.core.checks import run_checks

    assert [m.id for m in run_checks(tags=["clinic"])] == []
    for name, value in wrong.items():
        setattr(settings, name, value)
    assert [m.id for m in run_checks(tags=["clinic"])] == ["clinic.E011"]


# --- The slot search's read ----------------------------------------------------------------------


def test_the_slot_searchs_patch_read_is_the_orms(patched, frozen, time_machine):
    from scheduling.services import calendar_rows

    def both():
        (read,) = calendar_rows.fetch(calendar_rows.patch_facts(patched.course.pk))
        return read, test_patch.patch_step(patched.course)

    read, orm = both()
    assert read == orm and read.needed and not read.booked
    patch = book_patch(patched, local(2, 9))
    record(patch, "mild", patched.practitioner, time_machine)
    read, orm = both()
    assert read == orm and (read.patch_id, read.start, read.result) == (patch.pk, local(2, 9), "mild")


def test_a_first_sessions_search_reads_the_patch_in_the_calendars_round_trip(patched, frozen):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    book_patch(patched, local(2, 9))
    with CaptureQueriesContext(connection) as captured:
        find_slots(start_date=date(2027, 3, 1), days=14, course=patched.course, limit=1)
    # The calendar with the course's areas, patch, latest session and sun exposure, then the diary.
    assert len(captured) == (2 if connection.vendor == "postgresql" else 10)
