"""Slot search on django-appointment's own workload: prints the median time of the call the
side-by-side comparison (`../shared/bench/vs_peer/`) times, without the peer.

    .venv/bin/python bench/vs_peer_workload.py                        # SQLite, N = 1,000 and 10,000
    .venv/bin/python bench/vs_peer_workload.py --db postgres --ns 10000
    .venv/bin/python bench/vs_peer_workload.py --profile              # cProfile of the call, too

The workload is the comparison's (its workload.py and app_worker.py): 10 practitioners working
Mon-Fri 09:00-18:00 on a UTC clinic clock, a room each with no turnover buffer, N candidate
60-minute consultations on random weekdays in the next 90 days at random half-hour starts from
09:00 to 17:00 (seeded), those overlapping an earlier one of the same practitioner dropped. The
timed call is every free start of practitioner 0 over the 28 days from tomorrow:
`find_slots(start_date=, days=28, length=60 min, kind="consultation", practitioner=, limit=100000)`.

The database is a fresh SQLite file in a temporary folder, or with `--db postgres` the database
BENCH_VS_PEER_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_vs_peer), dropped and
created for each N. The ratio to the peer is measured only side by side: run
`../shared/bench/vs_peer/vs_peer.sh` for it (its README says how).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/bench_vs_peer"
STAFF, HORIZON_DAYS, LENGTH_MIN, WINDOW_DAYS = 10, 90, 60, 28
LIMIT = 100_000


def workload(n: int, today: date, seed: int = 42) -> list[tuple[int, date, int]]:
    """The comparison's appointments, drawn as its workload.py draws them: (practitioner index,
    day, start minute of the day)."""
    rng = random.Random(seed)  # nosec B311 # the same workload as the peer's, not a secret
    days = [today + timedelta(days=i) for i in range(1, HORIZON_DAYS + 1)]
    days = [day for day in days if day.weekday() < 5]
    starts = list(range(9 * 60, 18 * 60 - LENGTH_MIN + 1, 30))
    taken: dict[tuple[int, date], list[int]] = {}
    kept = []
    for _ in range(n):
        day, start, staff = rng.choice(days), rng.choice(starts), rng.randrange(STAFF)
        mine = taken.setdefault((staff, day), [])
        if any(abs(start - other) < LENGTH_MIN for other in mine):
            continue
        mine.append(start)
        kept.append((staff, day, start))
    return kept


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ["CLINIC_TIME_ZONE"] = "UTC"  # the peer's clock
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def fresh_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(rows, today: date):
    """The comparison's clinic, with bulk inserts as its app_worker.py does. Returns practitioner 0."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from catalogue.models import Practitioner, Room, WorkingHours
    from patients.models import Patient
    from scheduling.models import Appointment

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        users = get_user_model().objects.bulk_create(
            get_user_model()(username=f"perf-dr{i:02d}", first_name="Perf", last_name=f"Doctor {i:02d}")
            for i in range(STAFF)
        )
        practitioners = Practitioner.objects.bulk_create(Practitioner(user=u) for u in users)
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=p, weekday=day, start_time=clock(9), end_time=clock(18))
            for p in practitioners
            for day in range(5)
        )
        rooms = Room.objects.bulk_create(Room(name=f"Room {i + 1}", turnover_minutes=0) for i in range(STAFF))
        born = date(1990, 1, 1)
        patients = Patient.objects.bulk_create(
            (Patient(first_name=f"Patient{k}", last_name="Perf", date_of_birth=born) for k in range(len(rows))),
            batch_size=2000,
        )
        length = timedelta(minutes=LENGTH_MIN)
        appointments = []
        for patient, (who, day, minute) in zip(patients, rows, strict=True):
            start = datetime.combine(day, clock(0), tzinfo=UTC) + timedelta(minutes=minute)
            appointments.append(
                Appointment(
                    kind="consultation", patient=patient, practitioner=practitioners[who], room=rooms[who],
                    start=start, end=start + length, blocked_until=start + length, status="booked",
                )
            )  # fmt: skip
        Appointment.objects.bulk_create(appointments, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return practitioners[0]


def expected_starts(rows, today: date) -> int:
    """How many 15-minute starts the workload leaves free for practitioner 0 (nothing else binds)."""
    first = today + timedelta(days=1)
    busy: dict[date, list[int]] = {}
    for who, day, start in rows:
        if who == 0:
            busy.setdefault(day, []).append(start)
    count = 0
    for day in (first + timedelta(days=i) for i in range(WINDOW_DAYS)):
        if day.weekday() < 5:
            for start in range(9 * 60, 18 * 60 - LENGTH_MIN + 1, 15):
                count += all(not (b < start + LENGTH_MIN and start < b + LENGTH_MIN) for b in busy.get(day, []))
    return count


def measure(n: int, args) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduling.models import Appointment
    from scheduling.services import find_slots

    today = datetime.now(UTC).date()
    rows = workload(n, today)
    practitioner = seed(rows, today)

    def search():
        return find_slots(
            start_date=today + timedelta(days=1),
            days=WINDOW_DAYS,
            length=timedelta(minutes=LENGTH_MIN),
            kind=Appointment.Kind.CONSULTATION,
            practitioner=practitioner,
            limit=LIMIT,
        )

    for _ in range(20):  # warm up
        search()
    with CaptureQueriesContext(connection) as captured:
        found = len(search())
    samples = []
    for _ in range(args.runs):
        began = time.perf_counter()
        search()
        samples.append((time.perf_counter() - began) * 1000)
    expected = expected_starts(rows, today)
    unexpected = "" if found == expected else f" (expected {expected})"
    print(
        f"{connection.vendor} N={n:,} ({len(rows):,} landed): all free starts of one practitioner over 28 days: "
        f"median {statistics.median(samples):.2f} ms (min {min(samples):.2f}, max {max(samples):.2f}, "
        f"{args.runs} runs), {len(captured)} queries, {found} starts{unexpected}"
    )
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        for _ in range(50):
            search()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--ns", nargs="+", type=int, default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=200, help="timed searches per N")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of 50 searches")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for n in args.ns:
            # One process serves one database: every N gets its own, so run each N in a child.
            if len(args.ns) > 1:
                import subprocess  # nosec B404 # runs this very script again

                command = [sys.executable, __file__, "--db", args.db, "--ns", str(n), "--runs", str(args.runs)]
                subprocess.run(command + (["--profile"] if args.profile else []), check=True)  # noqa: S603 # nosec B603
                continue
            if args.db == "postgres":
                url = os.environ.get("BENCH_VS_PEER_DATABASE_URL", DEFAULT_PG)
                fresh_postgres(url)
            else:
                url = f"sqlite:///{folder}/vs_peer_{n}.sqlite3"
            setup_django(url)
            measure(n, args)


if __name__ == "__main__":
    main()
