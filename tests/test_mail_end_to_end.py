"""Patient emails end to end, with no mocks: real Redis, a real `celery worker` process and a real
SMTP server. Then the faults the outbox is built for: the broker's queue lost mid-dispatch, and a
worker killed mid-batch."""

import math
import re
from collections import Counter
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from icalendar import Calendar

from outbox import sending as outbox
from outbox.models import Notification
from outbox.tasks import dispatch_notifications, enqueue
from scheduling.models import Appointment
from scheduling.services import appointment_book
from tests.live import SMTPServer, Worker, wait_for

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker process shares a PostgreSQL database"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
S = Notification.Status


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.TEST_REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def start_worker(broker, smtp):
    workers = []

    def start():
        worker = Worker(redis_url=settings.TEST_REDIS_URL, smtp_port=smtp.port).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def ten_o_clock_in_a_month():
    return (timezone.localtime() + timedelta(days=30)).replace(hour=10, minute=0, second=0, microsecond=0)


def counts():
    return Counter(Notification.objects.values_list("status", flat=True))


def many_due_emails(clinic, count):
    """`count` due emails about one booked treatment, as if that many events had happened."""
    appointment = appointment_book(
        patient=clinic.patient,
        kind="treatment",
        course=clinic.course,
        start=ten_o_clock_in_a_month(),
        practitioner=clinic.practitioner,
        room=clinic.room,
        device=clinic.device,
    )
    Notification.objects.all().delete()
    Notification.objects.bulk_create(
        Notification(
            patient=clinic.patient,
            appointment=appointment,
            course=clinic.course,
            kind="confirmation",
            key=f"load.{i}",
            appointment_version=appointment.version,
            due_at=timezone.now(),
        )
        for i in range(count)
    )
    return appointment


def idle(smtp, quiet_polls=3):
    """True once the inbox has stopped growing for a few polls in a row: the worker has nothing
    left it can send (rows a killed worker held stay stranded until they are claimed again)."""
    history = []

    def settled():
        history.append(len(smtp.inbox.messages))
        return len(history) > quiet_polls and len(set(history[-quiet_polls - 1 :])) == 1

    return settled


def reclaim_everything_stranded():
    """What the next dispatches do once REQUEUE_AFTER_SECONDS have passed, without the wait: the rows
    still held were claimed that long ago (staleness is the real clock's, whatever `now` a dispatch is given)."""
    long_ago = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS["REQUEUE_AFTER_SECONDS"] + 1)
    Notification.objects.filter(status__in=(S.QUEUED, S.SENDING)).update(claimed_at=long_ago)
    ids = outbox.claim_due()
    enqueue(ids)
    return ids


@pytest.fixture
def open_clinic(clinic):
    for weekday in (5, 6):
        clinic.practitioner.working_hours.create(weekday=weekday, start_time="09:00", end_time="17:00")
    return clinic


def test_a_booking_reaches_the_patient_with_an_invitation_and_working_links(open_clinic, start_worker, smtp, client):
    clinic = open_clinic
    start_worker()
    start = ten_o_clock_in_a_month()
    appointment = appointment_book(
        patient=clinic.patient,
        kind="treatment",
        course=clinic.course,
        start=start,
        practitioner=clinic.practitioner,
        room=clinic.room,
        device=clinic.device,
    )
    assert dispatch_notifications() == 1  # the confirmation; the reminders are not due yet
    wait_for(lambda: counts()[S.SENT] == 1, message="the confirmation to be sent")
    [message] = smtp.inbox.messages
    assert message["To"] == clinic.patient.email
    confirmation = Notification.objects.get(kind="confirmation")
    assert message["Message-ID"] == confirmation.message_id
    assert "List-Unsubscribe=One-Click" in message["List-Unsubscribe-Post"]
    [invite] = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert invite.get_param("method") == "REQUEST"
    event = Calendar.from_ical(invite.get_payload(decode=True)).walk("VEVENT")[0]
    assert str(event["UID"]) == str(appointment.calendar_uid)
    assert event.decoded("DTSTART") == appointment.start
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    confirm = next(url for url in re.findall(r"https?://\S+", text) if "/p/confirm/" in url)
    path = confirm.split("127.0.0.1:8000", 1)[1]
    assert client.get(path).status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == "booked"  # opening the link changes nothing
    page = client.get(path)
    client.post(path, {"csrfmiddlewaretoken": page.cookies["csrftoken"].value} if "csrftoken" in page.cookies else {})
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"


def test_flushing_the_broker_mid_dispatch_delays_mail_but_loses_or_repeats_none(
    open_clinic, start_worker, smtp, broker
):
    many_due_emails(open_clinic, 500)
    start_worker()
    assert dispatch_notifications() == 500
    wait_for(lambda: len(smtp.inbox.messages) >= 50, message="the first mails")
    broker.flushdb()  # the queue, and every task still waiting in it, is gone
    wait_for(idle(smtp), interval=1.0, message="the worker to run dry")
    assert counts()[S.SENT] < 500  # some mail really was stranded
    stranded = reclaim_everything_stranded()
    assert stranded
    wait_for(lambda: counts()[S.SENT] == 500, timeout=180, message="every row to be sent")
    ids = smtp.inbox.message_ids()
    assert len(ids) == 500
    assert len(set(ids)) == 500  # each exactly once
    size = settings.NOTIFICATIONS["SEND_BATCH_SIZE"]
    batches = math.ceil(500 / size) + math.ceil(len(stranded) / size)
    assert smtp.inbox.connections() <= batches  # one connection to the mail server per batch, not per mail


def test_killing_a_worker_mid_batch_loses_no_mail_and_repeats_only_what_was_in_flight(open_clinic, start_worker, smtp):
    many_due_emails(open_clinic, 500)
    worker = start_worker()
    assert dispatch_notifications() == 500
    wait_for(lambda: len(smtp.inbox.messages) >= 100, message="the first mails")
    worker.kill()
    start_worker()
    wait_for(idle(smtp), interval=1.0, message="the new worker to run dry")
    reclaim_everything_stranded()
    wait_for(lambda: counts()[S.SENT] == 500, timeout=180, message="every row to be sent")
    wait_for(idle(smtp), interval=1.0, message="the last mails")
    received = Counter(smtp.inbox.message_ids())
    expected = set(Notification.objects.values_list("message_id", flat=True))
    assert set(received) == expected
    repeated = [mid for mid, n in received.items() if n > 1]
    assert len(repeated) <= worker.concurrency  # only what a killed pool process had in flight
    assert all(received[mid] == 2 for mid in repeated)
    assert Appointment.objects.count() == 1
