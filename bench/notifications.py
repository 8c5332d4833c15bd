"""Outbox benchmarks on PostgreSQL; prints figures (medians), asserts nothing about time.

    .venv/bin/python bench/notifications.py

1. Claiming 1,000 due rows among 1,000,000 notifications (most of them long sent).
2. Mails per second end to end: the dispatcher, Redis, two `celery worker` processes and a local
   SMTP server (aiosmtpd), from claim to the last message received.

Uses the generated clinic of bench/scheduling.py (BENCH_DATABASE_URL, default clinic_bench) and a
Redis database of its own (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic_setup import build, cpu_seconds, setup_django  # noqa: E402

TOTAL = 1_000_000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=2000, help="mails for the end-to-end figure")
    parser.add_argument("--only", nargs="+", choices=("claim", "mail"), default=("claim", "mail"))
    args = parser.parse_args()
    # The dispatcher in this process and the workers share a Redis database of their own.
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    url = setup_django()
    build()
    print(f"database: {url.rsplit('@', 1)[-1]}")
    if "claim" in args.only:
        claim_benchmark()
    if "mail" in args.only:
        mail_benchmark(args.mails)


def _subject():
    from django.utils import timezone

    from scheduling.models import Appointment

    return (
        Appointment.objects.filter(status="booked", start__gt=timezone.now(), patient__email_consent=True)
        .select_related("patient")
        .order_by("start")
        .first()
    )


def fill(total=TOTAL, due=20_000):
    """`total` rows: all but `due` long sent, the rest pending and due over the last hour."""
    from django.db import connection

    from outbox.models import Notification

    bench_rows = Notification.objects.filter(key__startswith="bench.")
    bench_rows.filter(status__in=["queued", "sending"]).update(status="pending", claimed_at=None)
    if bench_rows.count() == total and bench_rows.filter(status="pending").count() == due:
        return
    appointment = _subject()
    Notification.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO scheduling_notification
              (patient_id, appointment_id, course_id, kind, key, appointment_version, due_at, status, attempts,
               last_error, claimed_at, sent_at, created_at)
            SELECT %(patient)s, %(appointment)s, NULL, 'confirmation', 'bench.' || n, %(version)s,
                   now() - make_interval(secs => n),
                   CASE WHEN n <= %(due)s THEN 'pending' ELSE 'sent' END, 0, '', NULL,
                   CASE WHEN n <= %(due)s THEN NULL ELSE now() - make_interval(secs => n) END, now()
            FROM generate_series(1, %(total)s) AS n
            """,
            {"patient": appointment.patient_id, "appointment": appointment.pk, "version": appointment.version,
             "due": due, "total": total},
        )  # fmt: skip
        cursor.execute("VACUUM ANALYZE scheduling_notification")


def claim_benchmark(runs=15):
    from django.utils import timezone

    from outbox.models import Notification
    from outbox.sending import claim_due

    began = time.perf_counter()
    fill()
    print(f"outbox: {Notification.objects.count():,} notifications (ready in {time.perf_counter() - began:.1f} s)")
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        ids = claim_due(now=timezone.now(), limit=1000)
        samples.append(time.perf_counter() - started)
        if len(ids) != 1000:
            raise SystemExit(f"claimed {len(ids)} notifications, not 1,000: the outbox is not as generated")
        # Put them back, so that every run claims from the same outbox.
        Notification.objects.filter(pk__in=ids).update(status="pending", claimed_at=None)
    median = statistics.median(samples) * 1000
    print(f"claim 1,000 due rows among {TOTAL:,}: median {median:.1f} ms (min {min(samples) * 1000:.1f} ms)")


def mail_benchmark(count):
    import redis
    from django.utils import timezone

    from outbox.models import Notification
    from outbox.tasks import dispatch_notifications
    from tests.live import SMTPServer, Worker, wait_for

    redis_url = os.environ["REDIS_URL"]
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()
    appointment = _subject()
    Notification.objects.filter(status__in=["pending", "queued", "sending"]).update(status="cancelled")
    Notification.objects.bulk_create(
        Notification(patient_id=appointment.patient_id, appointment=appointment, kind="confirmation",
                     key=f"mailbench.{time.time_ns()}.{i}", appointment_version=appointment.version,
                     due_at=timezone.now())
        for i in range(count)
    )  # fmt: skip
    with SMTPServer() as smtp:
        workers = [Worker(redis_url=redis_url, smtp_port=smtp.port, concurrency=1).start() for _ in range(2)]
        try:
            began, own_before, workers_before = time.perf_counter(), os.times(), _cpu_seconds(workers)
            claimed = 0
            while claimed < count:
                claimed += dispatch_notifications(limit=1000)
            wait_for(lambda: len(smtp.inbox.messages) >= count, timeout=600, message="every mail")
            elapsed, own_after, workers_after = time.perf_counter() - began, os.times(), _cpu_seconds(workers)
        finally:
            for worker in workers:
                worker.stop()
    broker.flushdb()
    print(f"end to end, 2 worker processes: {count / elapsed:.0f} mails per second ({count} in {elapsed:.1f} s)")
    own = own_after.user + own_after.system - own_before.user - own_before.system
    print(
        f"CPU per mail: workers {(workers_after - workers_before) / count * 1000:.1f} ms, "
        f"dispatcher and SMTP server {own / count * 1000:.1f} ms"
    )


def _cpu_seconds(workers) -> float:
    """CPU time used so far by the worker processes and their pool processes (Linux /proc)."""
    seconds = 0.0
    for worker in workers:
        pid = worker.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        seconds += sum(cpu_seconds(int(process)) for process in [pid, *children])
    return seconds


if __name__ == "__main__":
    main()
