"""Planned sun exposure: the days it and the two weeks after it keep treatments off, in slot search,
the planner, booking and moves; the sessions it meets flagged for reception and told to the patient."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.errors import SchedulingError
from clinical.models import SunExposure
from clinical.services.sun_exposure import sun_exposure_change, sun_exposure_record, sun_exposure_remove
from outbox import sending
from outbox.emails import build_message
from outbox.models import Notification
from scheduling.services import appointment_book, appointment_reschedule, course_plan, find_slots
from scheduling.services.sun import flagged_sessions, sun_exposure_confirm
from tests.conftest import book_treatment, local

pytestmark = pytest.mark.django_db
THIRTY = timedelta(minutes=30)
REASON = "planned sun exposure (beach holiday) 3-10 July: no treatment until 25 July"


def holiday(clinic, first, last, what="beach holiday", **extra):
    return sun_exposure_record(patient=clinic.patient, first_day=first, last_day=last, what=what, **extra)


def days_offered(slots):
    return sorted({timezone.localdate(slot.start) for slot in slots})


def first_after(slots, day):
    later = [timezone.localtime(slot.start) for slot in slots if timezone.localdate(slot.start) > day]
    return later[0].strftime("%a %d %b %H:%M") if later else None


# Slot search


@pytest.mark.parametrize(
    "first, last, month, clear_day",
    [
        # Clocks go forward on 28 March 2027 and back on 31 October, inside the two weeks after.
        (date(2027, 3, 22), date(2027, 3, 24), 3, "Thu 08 Apr 09:00"),
        (date(2027, 10, 25), date(2027, 10, 27), 10, "Thu 11 Nov 09:00"),
    ],
    ids=["spring change", "autumn change"],
)
def test_slot_search_skips_the_exposure_and_the_fourteen_days_after_it_across_a_dst_change(
    clinic, frozen, first, last, month, clear_day
):
    holiday(clinic, first, last)
    slots = find_slots(course=clinic.course, start_date=first - timedelta(days=3), days=30, limit=10_000)
    offered = days_offered(slots)
    assert not [day for day in offered if first <= day <= last + timedelta(days=14)]
    assert first - timedelta(days=3) in offered  # the Friday before it is open as ever
    assert first_after(slots, first - timedelta(days=1)) == clear_day  # 09:00 on the wall clock, whatever the offset


def test_consultations_and_searches_without_the_patient_are_not_kept_off(clinic, frozen):
    holiday(clinic, date(2027, 3, 8), date(2027, 3, 10))
    monday = date(2027, 3, 8)
    visits = find_slots(kind="consultation", patient=clinic.patient, start_date=monday, days=1, length=THIRTY)
    anyone = find_slots(start_date=monday, days=1, length=THIRTY)
    theirs = find_slots(patient=clinic.patient, start_date=monday, days=1, length=THIRTY)
    assert visits and anyone
    assert theirs == []


def test_the_exposure_costs_no_query_of_its_own(clinic, frozen):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            find_slots(course=clinic.course, start_date=date(2027, 3, 1), days=28, limit=10)
        return len(captured)

    without = queries()
    holiday(clinic, date(2027, 3, 8), date(2027, 3, 10))
    holiday(clinic, date(2027, 3, 20), date(2027, 3, 21), what="ski trip")
    assert queries() == without == (2 if connection.vendor == "postgresql" else 10)  # 10: the test patch's read


# The planner


def test_the_planner_starts_a_course_after_the_exposure_and_its_prep(clinic, frozen):
    holiday(clinic, date(2027, 3, 10), date(2027, 3, 20))  # kept off to Saturday 3 April
    plan = course_plan(course=clinic.course)
    first = timezone.localtime(plan[0].start)
    assert first.strftime("%a %d %b %H:%M") == "Mon 05 Apr 09:00"
    assert all(timezone.localdate(s.start) > date(2027, 4, 3) for s in plan)


def test_a_session_whose_whole_window_is_kept_off_waits_for_the_first_day_after(clinic, frozen):
    book_treatment(clinic, local(1, 10))  # the course's first session, today
    # The second may start 6 to 8 weeks later (12-26 April); the exposure keeps off 1 April-10 May.
    holiday(clinic, date(2027, 4, 1), date(2027, 4, 26))
    plan = course_plan(course=clinic.course)
    # From 11 May, on the usual weekday at the usual time.
    assert timezone.localtime(plan[0].start).strftime("%a %d %b %H:%M") == "Mon 17 May 10:00"
    gaps = [(b.start - a.start).days for a, b in zip(plan, plan[1:], strict=False)]
    assert all(gap >= clinic.course.min_interval_days for gap in gaps)


# Booking and moves


def test_booking_refuses_a_treatment_in_the_exposure_with_the_reason_and_accepts_it_acknowledged(
    clinic, frozen, receptionist
):
    holiday(clinic, date(2027, 7, 3), date(2027, 7, 10))
    with pytest.raises(SchedulingError) as refused:
        book_treatment(clinic, local(23, 10, month=7))  # the last working day kept off
    assert REASON in refused.value.message
    assert refused.value.field == "acknowledge_sun_exposure"
    session = book_treatment(clinic, local(23, 10, month=7), acknowledge_sun_exposure=True, booked_by=receptionist)
    assert session.sun_exposure_acknowledged_by == receptionist
    assert session.sun_exposure_acknowledged_at == frozen


def test_the_day_after_the_prep_window_and_consultations_need_no_acknowledgement(clinic, frozen):
    holiday(clinic, date(2027, 7, 3), date(2027, 7, 10))
    session = book_treatment(clinic, local(26, 10, month=7))
    consultation = appointment_book(
        patient=clinic.patient, kind="consultation", start=local(5, 10, month=7), practitioner=clinic.practitioner,
        room=clinic.room,
    )  # fmt: skip
    assert session.sun_exposure_acknowledged_at is None and consultation.sun_exposure_acknowledged_at is None


def test_a_move_into_the_exposure_is_refused_unless_acknowledged_and_a_move_out_drops_it(clinic, frozen, receptionist):
    holiday(clinic, date(2027, 7, 3), date(2027, 7, 10))
    session = book_treatment(clinic, local(29, 10, month=6))
    with pytest.raises(SchedulingError) as refused:
        appointment_reschedule(appointment=session, start=local(6, 10, month=7))
    assert REASON in refused.value.message
    session.refresh_from_db()
    moved = appointment_reschedule(appointment=session, start=local(6, 10, month=7), acknowledge_sun_exposure=True,
                                   by=receptionist)  # fmt: skip
    assert moved.sun_exposure_acknowledged_by == receptionist
    back = appointment_reschedule(appointment=moved, start=local(28, 10, month=6))
    assert back.sun_exposure_acknowledged_at is None


# Sessions already booked


def test_sessions_booked_in_a_new_exposure_are_flagged_and_the_patient_is_told(clinic, frozen, receptionist):
    inside = book_treatment(clinic, local(15, 10, month=7))
    outside = book_treatment(clinic, local(30, 10, month=8))
    exposure = holiday(clinic, date(2027, 7, 3), date(2027, 7, 10), by=receptionist)
    assert [(a.pk, e.pk) for a, e in flagged_sessions(now=frozen)] == [(inside.pk, exposure.pk)]
    emails = Notification.objects.filter(kind=Notification.Kind.SUN_EXPOSURE)
    assert [(n.appointment_id, n.due_at) for n in emails] == [(inside.pk, frozen)]
    assert not Notification.objects.filter(appointment=outside, kind=Notification.Kind.SUN_EXPOSURE).exists()
    message = build_message(emails.get())
    assert "beach holiday (3-10 July)" in message.body
    assert "no treatment until Sunday 25 July" in message.body
    assert "Thursday 15 July 2027 at 10:00" in message.body
    assert sending.unwanted_reason(emails.get()) == ""


def test_confirming_a_flagged_session_clears_it_until_the_exposure_changes(clinic, frozen, receptionist):
    session = book_treatment(clinic, local(15, 10, month=7))
    exposure = holiday(clinic, date(2027, 7, 3), date(2027, 7, 10))
    sun_exposure_confirm(appointment=session, by=receptionist)
    assert flagged_sessions(now=frozen) == []
    sun_exposure_change(exposure=exposure, first_day=date(2027, 7, 4), last_day=date(2027, 7, 11), what="sailing",
                        now=frozen + timedelta(minutes=1))  # fmt: skip
    assert [a.pk for a, _ in flagged_sessions(now=frozen)] == [session.pk]
    assert Notification.objects.filter(appointment=session, kind=Notification.Kind.SUN_EXPOSURE).count() == 2


def test_an_email_about_a_removed_exposure_is_skipped_when_it_falls_due(clinic, frozen):
    book_treatment(clinic, local(15, 10, month=7))
    exposure = holiday(clinic, date(2027, 7, 3), date(2027, 7, 10))
    sun_exposure_remove(exposure=exposure)
    email = Notification.objects.get(kind=Notification.Kind.SUN_EXPOSURE)
    assert sending.unwanted_reason(email).startswith("No planned sun exposure keeps treatment off")
    assert flagged_sessions(now=frozen) == []


# The record


def test_the_service_refuses_days_out_of_order_past_or_too_long_and_an_empty_description(clinic, frozen):
    cases = [
        (date(2027, 7, 10), date(2027, 7, 3), "beach", "last_day"),
        (date(2027, 2, 1), date(2027, 2, 20), "beach", "last_day"),
        (date(2027, 7, 1), date(2027, 12, 1), "beach", "last_day"),
        (date(2027, 7, 1), date(2027, 7, 3), "  ", "what"),
    ]
    for first, last, what, field in cases:
        with pytest.raises(SchedulingError) as refused:
            holiday(clinic, first, last, what=what)
        assert refused.value.field == field
    assert not SunExposure.objects.exists()


def test_recording_changing_and_removing_are_in_the_audit_trail_with_the_actor(clinic, frozen, receptionist):
    exposure = holiday(clinic, date(2027, 7, 3), date(2027, 7, 10), by=receptionist)
    pk = exposure.pk
    sun_exposure_change(exposure=exposure, first_day=date(2027, 7, 3), last_day=date(2027, 7, 12), what="beach",
                        by=receptionist)  # fmt: skip
    sun_exposure_remove(exposure=exposure, by=receptionist)
    logged = LogEntry.objects.filter(content_type__model="sunexposure", object_id=pk).order_by("timestamp", "pk")
    assert [(e.action, e.actor) for e in logged] == [
        (LogEntry.Action.CREATE, receptionist), (LogEntry.Action.UPDATE, receptionist),
        (LogEntry.Action.DELETE, receptionist),
    ]  # fmt: skip
