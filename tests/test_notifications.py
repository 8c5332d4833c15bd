"""The outbox: which emails a booking change plans, when, and how rows are claimed and sent."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outbox import sending as outbox
from outbox import tasks
from outbox.models import Notification
from scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_no_show,
    appointment_reschedule,
)
from tests.conftest import book_treatment, local
from tests.live import SMTPServer

pytestmark = pytest.mark.django_db
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.5", spot_size_mm="4.0", pulses=900, skin_reaction="mild_erythema")
K = Notification.Kind
S = Notification.Status


def planned(appointment_or_course, *statuses):
    rows = appointment_or_course.notifications.order_by("due_at", "kind")
    if statuses:
        rows = rows.filter(status__in=statuses)
    return [(row.kind, timezone.localtime(row.due_at), row.status) for row in rows]


def test_a_treatment_booked_a_month_ahead_plans_confirmation_prep_and_day_before_across_dst(clinic, frozen):
    appointment = book_treatment(clinic, local(31, 10))  # clocks go forward on 28 March
    assert planned(appointment) == [
        (K.CONFIRMATION, frozen, S.PENDING),
        (K.PREP_REMINDER, appointment.start - timedelta(days=16), S.PENDING),  # 2 days before the 14
        (K.DAY_BEFORE, local(30, 10), S.PENDING),  # 10:00 on the clinic clock, BST by then
    ]
    assert timezone.localtime(appointment.notifications.get(kind=K.DAY_BEFORE).due_at).hour == 10


def test_the_prep_reminder_arrives_a_configurable_lead_before_the_two_weeks_begin(clinic, frozen, settings):
    settings.NOTIFICATIONS = settings.NOTIFICATIONS | {"PREP_REMINDER_LEAD_DAYS": 5}
    appointment = book_treatment(clinic, local(31, 10))
    [prep] = [due for kind, due, _ in planned(appointment) if kind == K.PREP_REMINDER]
    assert prep == local(12, 10)  # the prep begins on 17 March (31 - 14), five days after
    moved = appointment_reschedule(appointment=appointment, start=local(19, 10))  # inside the lead: at once
    assert (K.PREP_REMINDER, frozen, S.PENDING) in planned(moved, S.PENDING)


def test_a_treatment_booked_five_days_ahead_sends_its_prep_reminder_at_once(clinic, frozen):
    appointment = book_treatment(clinic, local(6, 10) - timedelta(days=1))  # Friday 5 March
    assert (K.PREP_REMINDER, frozen, S.PENDING) in planned(appointment)


def test_a_consultation_gets_only_its_confirmation(clinic, frozen):
    visit = appointment_book(patient=clinic.patient, kind="consultation", start=local(3, 10),
                             practitioner=clinic.practitioner, room=clinic.room)  # fmt: skip
    assert [kind for kind, *_ in planned(visit)] == [K.CONFIRMATION]


def test_a_reschedule_replaces_the_pending_emails_with_a_notice_and_new_reminders(clinic, frozen):
    appointment = book_treatment(clinic, local(31, 10))
    moved = appointment_reschedule(appointment=appointment, start=local(7, 10, month=4))
    assert planned(moved, S.PENDING) == [
        (K.RESCHEDULED, frozen, S.PENDING),
        (K.PREP_REMINDER, moved.start - timedelta(days=16), S.PENDING),
        (K.DAY_BEFORE, local(6, 10, month=4), S.PENDING),
    ]
    # The first confirmation, still unsent, described the old time: it is withdrawn too.
    assert {kind for kind, _, _ in planned(moved, S.CANCELLED)} == {K.CONFIRMATION, K.PREP_REMINDER, K.DAY_BEFORE}
    assert moved.notifications.filter(status=S.PENDING, appointment_version=1).count() == 0


def test_a_cancellation_withdraws_everything_pending_and_sends_a_notice(clinic, frozen):
    appointment = book_treatment(clinic, local(31, 10))
    appointment_cancel(appointment=appointment, reason="Holiday")
    assert planned(appointment, S.PENDING) == [(K.CANCELLED, frozen, S.PENDING)]


def test_completion_gives_aftercare_and_next_session_prompts_until_the_next_session_is_booked(clinic, time_machine):
    time_machine.move_to(local(1, 8), tick=False)
    session = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 10, 40), tick=False)
    appointment_check_in(appointment=session)
    appointment_complete(appointment=session, record=dict(RECORD))
    now = timezone.now()
    assert (K.AFTERCARE, now, S.PENDING) in planned(session)
    prompts = planned(clinic.course)
    prompts = [(due, status) for kind, due, status in prompts if kind == K.NEXT_SESSION]
    # Two days later, then 14 days before the 42-56 day window closes (26 April, so 12 April 10:00).
    assert prompts == [(now + timedelta(days=2), S.PENDING), (local(12, 10, month=4), S.PENDING)]
    book_treatment(clinic, local(19, 10, month=4))
    assert not clinic.course.notifications.filter(kind=K.NEXT_SESSION, status=S.PENDING).exists()


def test_a_no_show_withdraws_the_pending_emails(clinic, time_machine):
    time_machine.move_to(local(1, 8), tick=False)
    session = book_treatment(clinic, local(2, 10))
    time_machine.move_to(local(2, 10, 20), tick=False)
    appointment_no_show(appointment=session)
    assert planned(session, S.PENDING) == []


# --- Claiming and sending ---------------------------------------------------------------------------


def test_the_dispatcher_claims_only_due_rows_and_claims_stale_ones_again(clinic, frozen, time_machine):
    appointment = book_treatment(clinic, local(31, 10))
    claimed = outbox.claim_due(now=frozen)
    assert [Notification.objects.get(pk=pk).kind for pk in claimed] == [K.CONFIRMATION]
    time_machine.move_to(frozen + timedelta(minutes=1), tick=False)
    assert outbox.claim_due() == []  # queued, not yet stale
    time_machine.move_to(frozen + timedelta(minutes=6), tick=False)
    assert outbox.claim_due() == claimed  # the queue lost it: again
    time_machine.move_to(frozen + timedelta(minutes=12), tick=False)
    later = outbox.claim_due(now=appointment.start)
    # The reminders are due now, and so again is the confirmation no worker ever sent.
    assert {Notification.objects.get(pk=pk).kind for pk in later} == {K.CONFIRMATION, K.PREP_REMINDER, K.DAY_BEFORE}


@pytest.mark.parametrize("change", [{"email": ""}, {"email_consent": False}], ids=["no-email", "no-consent"])
def test_an_email_nobody_may_receive_is_skipped_with_the_reason(clinic, frozen, change):
    for field, value in change.items():
        setattr(clinic.patient, field, value)
    clinic.patient.save()
    book_treatment(clinic, local(31, 10))
    [row] = outbox.claim_due(now=frozen)
    assert outbox.send(row) == "skipped"
    notification = Notification.objects.get(pk=row)
    assert notification.status == S.SKIPPED
    assert notification.last_error in ("The patient has no email address.", "The patient has not agreed to emails.")
    assert mail.outbox == []


def test_a_reminder_for_a_cancelled_appointment_is_never_sent(clinic, frozen):
    appointment = book_treatment(clinic, local(31, 10))
    claimed = outbox.claim_due(now=appointment.start)  # everything, as if the dispatcher ran late
    appointment.status = "cancelled"  # cancelled between the claim and the send
    appointment.save(update_fields=["status"])
    results = {Notification.objects.get(pk=pk).kind: outbox.send(pk) for pk in claimed}
    assert set(results.values()) == {"skipped"}
    assert mail.outbox == []


def test_a_row_is_sent_once_and_never_again(clinic, frozen):
    book_treatment(clinic, local(31, 10))
    [row] = outbox.claim_due(now=frozen)
    assert outbox.send(row) == "sent"
    assert outbox.send(row) == "not-claimed"
    assert len(mail.outbox) == 1
    notification = Notification.objects.get(pk=row)
    assert (notification.status, notification.attempts, notification.sent_at) == (S.SENT, 1, frozen)


def test_a_failing_mail_server_is_retried_with_growing_delays_then_shown_as_failed(clinic, frozen, settings):
    # A real SMTP connection to a port nobody listens on.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    book_treatment(clinic, local(31, 10))
    [row] = outbox.claim_due(now=frozen)
    delays = []
    for _ in range(settings.NOTIFICATIONS["MAX_ATTEMPTS"] - 1):
        assert outbox.send(row, now=frozen) == "retry"
        notification = Notification.objects.get(pk=row)
        delays.append((notification.due_at - frozen).total_seconds())
        assert outbox.claim_due(now=notification.due_at) == [row]
    assert delays == [60, 120, 240, 480]
    assert outbox.send(row, now=frozen) == "failed"
    notification = Notification.objects.get(pk=row)
    assert notification.status == S.FAILED
    assert notification.last_error


def test_dispatch_command_dry_run_lists_and_claims_nothing(clinic, frozen, capsys):
    book_treatment(clinic, local(31, 10))
    call_command("dispatch_notifications", "--dry-run", "--at", "2027-03-31T00:00+00:00")
    out = capsys.readouterr().out
    assert "3 due" in out
    assert not Notification.objects.exclude(status=S.PENDING).exists()


def test_dispatch_command_claims_what_is_due_at_the_given_time(clinic, frozen, capsys):
    book_treatment(clinic, local(31, 10))
    call_command("dispatch_notifications", "--at", "2027-03-31T00:00+00:00")
    assert "3 claimed" in capsys.readouterr().out
    assert set(Notification.objects.values_list("status", flat=True)) == {S.QUEUED}


def test_dispatch_command_refuses_a_time_without_offset(clinic, frozen):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="offset"):
        call_command("dispatch_notifications", "--at", "2027-03-31T00:00")


# --- Sending in batches ------------------------------------------------------------------------------


class MeddlingBackend(locmem.EmailBackend):
    """The test mail backend, which runs `meanwhile(sent_so_far)` after each message it takes:
    what another worker or the patient does while a batch is under way."""

    meanwhile = None

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        if MeddlingBackend.meanwhile:
            MeddlingBackend.meanwhile(len(mail.outbox))
        return sent


@pytest.fixture
def meanwhile(settings):
    settings.EMAIL_BACKEND = "tests.test_notifications.MeddlingBackend"

    def register(action):
        MeddlingBackend.meanwhile = action

    yield register
    MeddlingBackend.meanwhile = None


def three_due(clinic):
    """A treatment's confirmation, prep reminder and day-before note, all claimed by the dispatcher."""
    appointment = book_treatment(clinic, local(31, 10))
    claimed = outbox.claim_due(now=appointment.start)
    assert len(claimed) == 3
    return claimed


def statuses(ids):
    rows = dict(Notification.objects.filter(pk__in=ids).values_list("pk", "status"))
    return [rows[pk] for pk in ids]


def message_id(pk):
    return Notification.objects.get(pk=pk).message_id


@pytest.fixture
def smtp(settings):
    """A real SMTP server, and the mail backend pointed at it."""
    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
        yield server


def test_a_batch_goes_out_over_one_connection_to_the_mail_server(clinic, frozen, smtp):
    ids = three_due(clinic)
    assert outbox.send_batch(ids) == dict.fromkeys(ids, "sent")
    assert smtp.inbox.message_ids() == [message_id(pk) for pk in ids]
    assert smtp.inbox.connections() == 1
    assert statuses(ids) == [S.SENT] * 3


def test_a_refused_message_is_retried_and_the_rest_of_the_batch_goes_out_on_a_fresh_connection(clinic, frozen, smtp):
    first, refused, last = ids = three_due(clinic)
    smtp.inbox.refuse.add(message_id(refused))
    assert outbox.send_batch(ids) == {first: "sent", refused: "retry", last: "sent"}
    assert smtp.inbox.message_ids() == [message_id(first), message_id(last)]
    assert smtp.inbox.connections() == 2  # the connection that saw the failure was not used again
    assert statuses(ids) == [S.SENT, S.PENDING, S.SENT]
    assert "554" in Notification.objects.get(pk=refused).last_error


def test_a_refusal_naming_the_patients_address_is_logged_without_it(clinic, frozen, smtp, caplog):
    first, refused, last = ids = three_due(clinic)
    smtp.inbox.refuse.add(message_id(refused))
    with caplog.at_level("WARNING"):
        outbox.send_batch(ids)
    assert clinic.patient.email in Notification.objects.get(pk=refused).last_error  # for staff, on the row
    assert f"notification {refused}: sending failed" in caplog.text
    assert clinic.patient.email not in caplog.text


def test_a_row_taken_elsewhere_during_a_batch_is_left_alone_and_a_sent_row_is_not_sent_again(clinic, frozen, meanwhile):
    first, already_sent, taken = ids = three_due(clinic)
    Notification.objects.filter(pk=already_sent).update(status=S.SENT)  # another worker's batch sent it

    def another_worker_claims_the_last_row(sent_so_far):
        if sent_so_far == 1:
            Notification.objects.filter(pk=taken, status=S.QUEUED).update(status=S.SENDING)

    meanwhile(another_worker_claims_the_last_row)
    assert outbox.send_batch(ids) == {first: "sent", already_sent: "not-claimed", taken: "not-claimed"}
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [message_id(first)]
    assert statuses(ids) == [S.SENT, S.SENT, S.SENDING]  # the other worker's to finish


def test_an_unsubscribe_during_a_batch_stops_the_rest_of_its_emails(clinic, frozen, meanwhile):
    from outbox.services import patient_unsubscribe

    ids = three_due(clinic)
    meanwhile(lambda sent_so_far: patient_unsubscribe(patient=clinic.patient))
    assert list(outbox.send_batch(ids).values()) == ["sent", "skipped", "skipped"]
    assert len(mail.outbox) == 1
    assert Notification.objects.get(pk=ids[2]).last_error == "The patient has not agreed to emails."


def test_a_cancellation_during_a_batch_withdraws_the_rest_of_its_emails(clinic, frozen, meanwhile):
    ids = three_due(clinic)
    appointment = Notification.objects.get(pk=ids[0]).appointment
    meanwhile(lambda sent_so_far: appointment_cancel(appointment=appointment, reason="Holiday"))
    assert list(outbox.send_batch(ids).values()) == ["sent", "not-claimed", "not-claimed"]
    assert statuses(ids) == [S.SENT, S.CANCELLED, S.CANCELLED]


def test_a_batch_out_of_time_puts_its_unsent_rows_back_for_the_next_dispatch(clinic, frozen, meanwhile, monkeypatch):
    first, *rest = ids = three_due(clinic)
    clock = [0.0]
    monkeypatch.setattr(outbox, "monotonic", lambda: clock[0])

    def a_slow_mail_server(sent_so_far):
        clock[0] += 61

    meanwhile(a_slow_mail_server)
    assert outbox.send_batch(ids, stop_after=60) == {first: "sent", **dict.fromkeys(rest, "released")}
    assert statuses(ids) == [S.SENT, S.PENDING, S.PENDING]
    assert sorted(outbox.claim_due(now=local(31, 10))) == sorted(rest)  # the next dispatch takes them


def break_row(monkeypatch, broken, error):
    still_wanted = outbox.unwanted_reason

    def unwanted_reason(notification, *, now):
        if notification.pk == broken:
            raise error
        return still_wanted(notification, now=now)

    monkeypatch.setattr(outbox, "unwanted_reason", unwanted_reason)


def test_a_row_that_breaks_its_batch_strands_only_itself(clinic, frozen, monkeypatch):
    first, broken, last = ids = three_due(clinic)
    break_row(monkeypatch, broken, OperationalError("the database went away"))
    with pytest.raises(OperationalError):
        outbox.send_batch(ids)
    # The broken row is claimed again once stale; the one after it goes out with the next dispatch.
    assert statuses(ids) == [S.SENT, S.SENDING, S.PENDING]


def test_a_bug_met_by_one_row_fails_that_row_and_the_batch_goes_on(clinic, frozen, monkeypatch):
    first, broken, last = ids = three_due(clinic)
    break_row(monkeypatch, broken, RuntimeError("a bug"))
    assert outbox.send_batch(ids) == {first: "sent", broken: "error", last: "sent"}
    assert statuses(ids) == [S.SENT, S.FAILED, S.SENT]


def test_each_row_is_read_after_its_claim_and_what_only_shapes_the_text_once_a_batch(clinic, frozen):
    ids = three_due(clinic)
    with CaptureQueriesContext(connection) as queries:
        assert set(outbox.send_batch(ids).values()) == {"sent"}
    statements = Counter(query["sql"].split(maxsplit=1)[0] for query in queries.captured_queries)
    # The batch's practitioners and courses; then per row: claim, read, record the outcome.
    assert (statements["SELECT"], statements["UPDATE"]) == (1 + 3, 2 * 3)


def test_dispatch_queues_the_claimed_rows_in_batches_on_the_mail_queue(
    clinic, frozen, time_machine, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SEND_BATCH_SIZE": 2}
    queued = []
    monkeypatch.setattr(tasks.send_notifications, "delay", queued.append)
    appointment = book_treatment(clinic, local(31, 10))
    time_machine.move_to(appointment.start, tick=False)  # all three are due
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch_notifications() == 3
    ids = list(Notification.objects.filter(status=S.QUEUED).order_by("due_at").values_list("pk", flat=True))
    assert queued == [ids[:2], ids[2:]]
    assert settings.CELERY_TASK_ROUTES["scheduling.tasks.send_notifications"] == {"queue": "mail"}


def test_the_send_task_reports_what_happened_to_its_batch(clinic, frozen):
    ids = three_due(clinic)
    Notification.objects.filter(pk=ids[0]).update(status=S.SENT)
    assert tasks.send_notifications(ids) == {"not-claimed": 1, "sent": 2}
