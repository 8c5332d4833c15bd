"""The outbox's rules for the cases an outage, a bug or a change of mind brings: what unsubscribing
stops, mail that fell due before a visit that has begun, prompts after a cancelled session, rows
that never record an outcome, and the dispatcher run by hand at another time."""

import logging
from datetime import timedelta

import pytest
from billiard.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.celery import app as celery_app
from clinic.errors import IllegalTransition
from clinical.models import TreatmentCourse
from outbox import sending, tasks
from outbox.links import link_path, make_token
from outbox.models import Notification
from outbox.services import patient_unsubscribe
from scheduling.services import (
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_no_show,
    appointment_reschedule,
    course_cancel,
)
from tests.conftest import MONDAY_MORNING, book_treatment, local
from tests.factories import TreatmentCourseFactory

pytestmark = pytest.mark.django_db
K = Notification.Kind
S = Notification.Status
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.5", spot_size_mm="4.0", pulses=900, skin_reaction="mild_erythema")


def rows(subject, *kinds):
    found = subject.notifications.order_by("due_at", "kind")
    if kinds:
        found = found.filter(kind__in=kinds)
    return found


def send_everything_due(now=None):
    ids = sending.claim_due(now=now)
    return {Notification.objects.get(pk=pk).kind: result for pk, result in sending.send_batch(ids, now=now).items()}


# --- What unsubscribing stops ------------------------------------------------------------------------


def test_after_unsubscribing_a_patient_still_gets_the_clinics_changes_to_a_booked_visit(clinic, frozen):
    appointment = book_treatment(clinic, local(31, 10))
    patient_unsubscribe(patient=clinic.patient)
    assert send_everything_due() == {K.CONFIRMATION: "skipped"}
    moved = appointment_reschedule(appointment=appointment, start=local(1, 14, month=4))
    assert send_everything_due() == {K.RESCHEDULED: "sent"}
    assert "text/calendar" in str(mail.outbox[-1].message())
    appointment_cancel(appointment=moved, reason="Practitioner ill")
    assert send_everything_due() == {K.CANCELLED: "sent"}
    assert "text/calendar" in str(mail.outbox[-1].message())  # the CANCEL for the calendar entry
    assert len(mail.outbox) == 2
    # The reminders stop: nothing but the two notices went out, even once everything has fallen due.
    assert send_everything_due(local(1, 14, month=4)) == {}
    assert set(moved.notifications.filter(status=S.SENT).values_list("kind", flat=True)) == {K.RESCHEDULED, K.CANCELLED}


def test_a_change_notice_is_skipped_only_when_the_patient_has_no_address(clinic, frozen):
    appointment = book_treatment(clinic, local(31, 10))
    clinic.patient.email = ""
    clinic.patient.save()
    appointment_cancel(appointment=appointment)
    assert send_everything_due() == {K.CANCELLED: "skipped"}
    assert rows(appointment, K.CANCELLED).get().last_error == "The patient has no email address."


def test_the_unsubscribe_page_says_what_stops_and_what_never_does(clinic, client):
    page = client.get(link_path("unsubscribe", make_token("unsubscribe", patient=clinic.patient))).content.decode()
    page = " ".join(page.split())
    for stops in (
        "booking confirmations",
        "preparation reminders",
        "day-before reminders",
        "aftercare",
        "next session",
    ):
        assert stops in page
    assert "we will still email you if the clinic moves or cancels an appointment" in page


# --- Mail that only makes sense before the visit -----------------------------------------------------


def test_mail_that_fell_due_before_a_visit_is_skipped_once_the_visit_has_started(clinic, frozen, time_machine):
    appointment = book_treatment(clinic, local(31, 10))
    time_machine.move_to(appointment.start + timedelta(minutes=5), tick=False)  # the dispatcher was down
    assert send_everything_due() == dict.fromkeys((K.CONFIRMATION, K.PREP_REMINDER, K.DAY_BEFORE), "skipped")
    assert mail.outbox == []
    assert set(rows(appointment).values_list("last_error", flat=True)) == {
        "The appointment had already started when this email was due to go out."
    }


def test_mail_that_fell_due_still_goes_out_up_to_the_visits_start(clinic, frozen, time_machine):
    appointment = book_treatment(clinic, local(31, 10))
    time_machine.move_to(appointment.start - timedelta(minutes=1), tick=False)
    assert set(send_everything_due().values()) == {"sent"}


@pytest.fixture
def dispatch(django_capture_on_commit_callbacks):
    """`manage.py dispatch_notifications ...`, with its send tasks run in this process as it queues
    them after its commit, as a worker would run them."""

    def run(*arguments):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("dispatch_notifications", *arguments)

    celery_app.conf.task_always_eager = True
    yield run
    celery_app.conf.task_always_eager = False


def test_dispatch_at_a_given_time_uses_that_time_for_the_before_the_visit_rule(clinic, frozen, dispatch, capsys):
    appointment = book_treatment(clinic, local(31, 10))
    dispatch("--at", "2027-03-31T10:05+01:00")  # five minutes into the visit
    assert {row.kind: row.status for row in rows(appointment)} == dict.fromkeys(
        (K.CONFIRMATION, K.PREP_REMINDER, K.DAY_BEFORE), S.SKIPPED
    )
    assert "3 claimed" in capsys.readouterr().out


def test_dispatch_at_a_time_before_the_visit_sends_what_falls_due_by_then(clinic, frozen, dispatch):
    appointment = book_treatment(clinic, local(31, 10))
    dispatch("--at", "2027-03-31T09:55+01:00")
    assert set(rows(appointment).values_list("status", flat=True)) == {S.SENT}
    assert len(mail.outbox) == 3


def test_dispatch_at_a_later_time_leaves_rows_a_worker_is_sending_to_it(clinic, frozen, dispatch):
    book_treatment(clinic, local(31, 10))
    [row] = sending.claim_due()
    assert sending._claim(row, now=timezone.now())  # a worker has it in hand right now
    dispatch("--at", "2027-03-31T00:00+01:00")
    notification = Notification.objects.get(pk=row)
    assert (notification.status, notification.attempts) == (S.SENDING, 1)


# --- Next-session prompts ---------------------------------------------------------------------------


@pytest.fixture
def first_session_done(clinic, time_machine):
    """Session 1 completed on 1 March at 10:40; its prompts pending until session 2 is booked."""
    time_machine.move_to(local(1, 8), tick=False)
    session = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 10, 40), tick=False)
    appointment_check_in(appointment=session)
    appointment_complete(appointment=session, record=dict(RECORD))
    return session


def pending_prompts(course):
    return [timezone.localtime(row.due_at) for row in rows(course, K.NEXT_SESSION).filter(status=S.PENDING)]


def test_cancelling_the_next_session_plans_the_prompts_to_book_it_again(clinic, first_session_done, time_machine):
    second = book_treatment(clinic, local(19, 10, month=4))
    assert pending_prompts(clinic.course) == []
    time_machine.move_to(local(3, 9), tick=False)
    appointment_cancel(appointment=second, reason="Holiday")
    # Two days on, and 14 days before the window after session 1 closes (26 April).
    assert pending_prompts(clinic.course) == [local(5, 9), local(12, 10, month=4)]
    results = send_everything_due(local(5, 9))
    assert (results[K.CANCELLED], results[K.NEXT_SESSION]) == ("sent", "sent")


def test_a_no_show_at_the_next_session_plans_the_prompts_again(clinic, first_session_done, time_machine):
    second = book_treatment(clinic, local(12, 10, month=4))
    time_machine.move_to(local(12, 10, 20, month=4), tick=False)
    appointment_no_show(appointment=second)
    # The window closes on 26 April: the second prompt, due before the first, is not planned.
    assert pending_prompts(clinic.course) == [local(14, 10, 20, month=4)]


def test_cancelling_a_course_withdraws_its_prompts_and_plans_none_for_its_sessions(
    clinic, first_session_done, time_machine
):
    book_treatment(clinic, local(19, 10, month=4))
    time_machine.move_to(local(3, 9), tick=False)
    course_cancel(course=clinic.course, reason="Patient moved away")
    assert rows(clinic.course, K.NEXT_SESSION).filter(status__in=(S.PENDING, S.QUEUED)).count() == 0

    other = TreatmentCourseFactory(patient=clinic.patient, approved=True, approved_by=clinic.practitioner)
    Notification.objects.create(patient=clinic.patient, course=other, kind=K.NEXT_SESSION, key="p", due_at=local(9, 9))
    course_cancel(course=other)
    assert other.notifications.get().status == S.CANCELLED


def test_cancelling_a_course_reads_its_status_under_the_lock(clinic, first_session_done):
    stale = TreatmentCourse.objects.get(pk=clinic.course.pk)
    TreatmentCourse.objects.filter(pk=stale.pk).update(status=TreatmentCourse.Status.COMPLETED)  # meanwhile
    with CaptureQueriesContext(connection) as queries, pytest.raises(IllegalTransition, match="already completed"):
        course_cancel(course=stale)
    assert TreatmentCourse.objects.get(pk=stale.pk).status == TreatmentCourse.Status.COMPLETED
    if connection.features.has_select_for_update:
        course_table = TreatmentCourse._meta.db_table
        assert any(course_table in q["sql"] and "FOR UPDATE" in q["sql"] for q in queries.captured_queries)


# --- Rows that never record an outcome, and programming errors -------------------------------------


class SlowBackend(locmem.EmailBackend):
    """A mail server so slow that Celery's soft time limit strikes while a message is handed over."""

    def send_messages(self, messages):
        raise SoftTimeLimitExceeded()


def test_celerys_soft_time_limit_is_not_taken_for_a_delivery_failure(clinic, frozen, settings):
    appointment = book_treatment(clinic, local(31, 10))
    first, *rest = ids = sending.claim_due(now=appointment.start - timedelta(hours=1))
    settings.EMAIL_BACKEND = "tests.test_outbox_rules.SlowBackend"
    with pytest.raises(SoftTimeLimitExceeded):
        sending.send_batch(ids)
    statuses = dict(Notification.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == {first: S.SENDING, **dict.fromkeys(rest, S.PENDING)}  # in flight: its outcome unknown


def test_a_row_that_never_records_an_outcome_ends_failed_in_the_queue(clinic, frozen, settings, time_machine, manager):
    book_treatment(clinic, local(31, 10))
    settings.EMAIL_BACKEND = "tests.test_outbox_rules.SlowBackend"
    limit = settings.NOTIFICATIONS["MAX_ATTEMPTS"]
    [row] = sending.claim_due()
    for attempt in range(1, limit + 1):
        with pytest.raises(SoftTimeLimitExceeded):
            sending.send_batch([row])
        assert Notification.objects.get(pk=row).attempts == attempt
        time_machine.move_to(timezone.now() + timedelta(minutes=6), tick=False)
        claimed = sending.claim_due()
        assert claimed == ([row] if attempt < limit else [])
    notification = Notification.objects.get(pk=row)
    assert (notification.status, notification.attempts) == (S.FAILED, limit)
    assert notification.last_error.startswith(f"Sending stopped {limit} times before it could record an outcome")
    for _ in range(3):  # and it stays there
        time_machine.move_to(timezone.now() + timedelta(minutes=6), tick=False)
        assert sending.claim_due() == []
    browser = Client()
    browser.force_login(manager)
    page = browser.get(reverse("queues:index")).content.decode()
    assert "Booking confirmation" in page and "Sending stopped" in page


@pytest.fixture
def broken_template(settings, tmp_path):
    """A template with a mistake in it, found before the real one, as after a bad deploy."""
    (tmp_path / "emails").mkdir()
    (tmp_path / "emails" / "prep_reminder.txt").write_text("Hello {{ patient.first_name|no_such_filter }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]


def test_a_programming_error_fails_its_row_at_once_with_its_traceback_logged(clinic, frozen, broken_template, caplog):
    appointment = book_treatment(clinic, local(31, 10))
    ids = sending.claim_due(now=appointment.start - timedelta(hours=1))
    with caplog.at_level(logging.ERROR, logger="outbox.sending"):
        results = tasks.send_notifications(ids)
    assert results == {"sent": 2, "error": 1}
    broken = Notification.objects.get(kind=K.PREP_REMINDER)
    assert (broken.status, broken.attempts) == (S.FAILED, 1)
    assert broken.last_error == (
        "The email could not be built (TemplateSyntaxError), a fault in the application: not retried. "
        "Send it again once the fault is fixed."
    )
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info and f"notification {broken.pk}" in record.getMessage()
    assert clinic.patient.email not in caplog.text
    assert len(mail.outbox) == 2


def test_the_stale_rule_and_the_claim_time_use_the_real_clock(clinic, frozen):
    book_treatment(clinic, local(31, 10))
    ids = sending.claim_due(now=local(31, 9))
    assert set(Notification.objects.filter(pk__in=ids).values_list("claimed_at", flat=True)) == {MONDAY_MORNING}
    assert sending.claim_due(now=local(31, 9) + timedelta(days=1)) == []  # queued a moment ago: not stale
