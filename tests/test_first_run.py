"""A first run with nothing but Python: patient emails through a real `celery worker` process on
kombu's filesystem transport (no Redis), and a dispatch that cannot reach its broker.

Nothing is mocked: the worker and `manage.py dispatch_notifications` are processes of their own,
on this test's database (PostgreSQL, or SQLite copied to a file: `tests.live.shared_database`).
"""

import re
import sqlite3
import time
from contextlib import closing
from datetime import timedelta
from email import message_from_bytes

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from outbox import sending as outbox
from outbox.models import Notification
from scheduling.services import appointment_book
from tests.live import Worker, manage, process_env, shared_database, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
S = Notification.Status
BASE_URL = "http://127.0.0.1:8123"  # as scripts/run.sh sets CLINIC_BASE_URL for HOST=127.0.0.1 PORT=8123


def book_a_treatment_in_a_month(clinic):
    start = (timezone.localtime() + timedelta(days=30)).replace(hour=10, minute=0, second=0, microsecond=0)
    while start.weekday() >= 5:  # the clinic fixture's dermatologist works Monday to Friday
        start += timedelta(days=1)
    return appointment_book(
        patient=clinic.patient,
        kind="treatment",
        course=clinic.course,
        start=start,
        practitioner=clinic.practitioner,
        room=clinic.room,
        device=clinic.device,
    )


def statuses(database) -> dict[int, str]:
    """The outbox as the other processes see it right now."""
    if connection.vendor == "postgresql":
        return dict(Notification.objects.values_list("pk", "status"))
    with closing(sqlite3.connect(database.removeprefix("sqlite:///"))) as db:
        return dict(db.execute(f"SELECT id, status FROM {Notification._meta.db_table}"))  # noqa: S608 # nosec B608 # our own table name


def mail_files(folder):
    """The messages Django's file email backend wrote: each file holds messages, each followed by a line of dashes."""
    messages = []
    for path in sorted(folder.glob("*.log")) if folder.exists() else []:
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(message_from_bytes(chunk))
    return messages


@pytest.fixture(params=["filesystem", "redis"])
def broker(request, tmp_path):
    """The broker settings of a worker and a dispatcher: the first run's files, or Redis."""
    if request.param == "filesystem":
        yield {"redis_url": "", "extra_env": {"BROKER_DIR": str(tmp_path / "broker")}}
        return
    client = redis.Redis.from_url(settings.TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {settings.TEST_REDIS_URL}")
    client.flushdb()
    yield {"redis_url": settings.TEST_REDIS_URL, "extra_env": {}}
    client.flushdb()


def test_a_booking_email_goes_through_a_real_worker_into_the_mail_folder(clinic, broker, tmp_path):
    appointment = book_a_treatment_in_a_month(clinic)
    confirmation = Notification.objects.get(appointment=appointment, kind="confirmation")
    mail = tmp_path / "mail"
    extra = broker["extra_env"] | {"EMAIL_FILE_PATH": str(mail), "CLINIC_BASE_URL": BASE_URL}
    with shared_database(tmp_path) as database:
        env = process_env(redis_url=broker["redis_url"], database=database, extra_env=extra)
        worker = Worker(redis_url=broker["redis_url"], database=database, extra_env=extra).start()
        try:
            dispatch = manage("dispatch_notifications", env=env)
            assert dispatch.returncode == 0, dispatch.stderr
            assert "1 claimed" in dispatch.stdout  # the confirmation; the reminders are not due yet
            wait_for(lambda: statuses(database)[confirmation.pk] == S.SENT, message="the confirmation to be sent")
        finally:
            worker.stop()
    [message] = mail_files(mail)
    assert message["To"] == clinic.patient.email
    assert message["Message-ID"] == confirmation.message_id
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    links = re.findall(r"https?://\S+", text)
    assert links
    assert all(link.startswith(f"{BASE_URL}/") for link in links), links
    assert Notification.objects.get(pk=confirmation.pk).status == S.SENT


def test_dispatch_with_an_unreachable_broker_says_so_in_one_line_and_leaves_the_rows_pending(clinic, tmp_path):
    appointment = book_a_treatment_in_a_month(clinic)
    due = sorted(
        Notification.objects.filter(appointment=appointment, due_at__lte=timezone.now()).values_list("pk", flat=True)
    )
    assert due
    with shared_database(tmp_path) as database:
        env = process_env(redis_url="redis://127.0.0.1:1/0", database=database)  # nothing listens on port 1
        started = time.monotonic()
        result = manage("dispatch_notifications", env=env)
        took = time.monotonic() - started
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("CommandError: The Celery broker at redis://127.0.0.1:1/0 cannot be reached"), line
    assert took < 30  # gives up within seconds (and a test never hangs on it)
    rows = Notification.objects.filter(pk__in=due)
    assert set(rows.values_list("status", flat=True)) == {S.PENDING}
    assert set(rows.values_list("claimed_at", flat=True)) == {None}
    assert sorted(outbox.claim_due()) == due  # claimable again at once, not only after the stale delay
