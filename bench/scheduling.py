"""Scheduling benchmarks on a generated clinic; prints figures (medians), asserts nothing about time.

    .venv/bin/python bench/scheduling.py                      # 50,000 appointments on PostgreSQL
    .venv/bin/python bench/scheduling.py --appointments 500000  # ten times as many
    .venv/bin/python bench/scheduling.py --only slots planning  # some of the figures
    .venv/bin/python bench/scheduling.py --only week day        # the boards' server time

The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/clinic_bench); it is
created, migrated and filled on the first run and reused while it has the same size.
"""

import argparse
import statistics
import threading
import time
from datetime import timedelta
from pathlib import Path

from clinic_setup import build, cpu_seconds, setup_django  # noqa: I001 - bench/ is run as a script


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appointments", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30, help="repetitions per figure")
    parser.add_argument("--only", nargs="+", choices=FIGURES, default=list(FIGURES), help="figures to print")
    args = parser.parse_args()

    url = setup_django()
    started = time.perf_counter()
    summary = build(args.appointments)
    print(f"database: {url.rsplit('@', 1)[-1]}")
    print(
        "clinic: "
        + ", ".join(f"{v:,} {k}" for k, v in summary.items())
        + f" (ready in {time.perf_counter() - started:.1f} s)"
    )
    print()
    for figure in args.only:
        FIGURES[figure](args.runs)


def median_ms(samples):
    return f"{statistics.median(samples) * 1000:.1f} ms (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})"


def slot_search(runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from scheduling.services import find_slots

    today = timezone.localdate()
    samples, queries, found = [], [], []
    for i in range(runs):
        start_date = today + timedelta(days=1 + (i * 5) % 150)
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            slots = find_slots(start_date=start_date, days=28, length=timedelta(minutes=45), limit=10)
            samples.append(time.perf_counter() - began)
        queries.append(len(captured))
        found.append(len(slots))
    print(f"slot search, first 10 slots over 28 days: median {median_ms(samples)}, "
          f"{max(queries)} queries, {min(found)}-{max(found)} slots found")  # fmt: skip


def course_planning(runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from catalogue.models import Condition, Practitioner, TreatmentArea
    from clinical.services.assessments import assessment_record
    from clinical.services.courses import course_approve, course_propose
    from patients.models import Patient
    from scheduling.services import course_cancel, course_plan

    tattoo = Condition.objects.get(slug="tattoo-removal")
    area = TreatmentArea.objects.get(name="Medium tattoo (up to 15 × 15 cm)")
    patient = Patient.objects.order_by("pk").first()
    dermatologist = Practitioner.objects.filter(role=Practitioner.Role.DERMATOLOGIST, active=True).order_by("pk")[0]
    assessment = assessment_record(
        patient=patient,
        dermatologist=dermatologist,
        skin_type=patient.skin_type or 3,
        conditions=[tattoo],
        candidate=True,
    )
    course = course_propose(assessment=assessment, condition=tattoo, areas=[area], proposed_by=dermatologist)
    course_approve(course=course, by=dermatologist)
    samples, sessions, queries = [], 0, []
    for i in range(runs):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            plan = course_plan(course=course, start_date=timezone.localdate() + timedelta(days=14 + i))
            samples.append(time.perf_counter() - began)
        sessions = len(plan)
        queries.append(len(captured))
    course_cancel(course=course, reason="benchmark")
    print(f"course planning, {sessions}-session tattoo course: median {median_ms(samples)}, "
          f"{min(queries)}-{max(queries)} queries")  # fmt: skip


def _bench_wing(patients=600):
    """A practitioner, a room and patients with empty diaries, so that every sequential booking
    can succeed however full the generated clinic is."""
    from datetime import date
    from datetime import time as clock

    from django.contrib.auth import get_user_model

    from catalogue.models import Practitioner, Room, WorkingHours
    from patients.models import Patient

    existing = Patient.objects.filter(last_name="Bench wing").count()
    Patient.objects.bulk_create(
        Patient(first_name=f"Walk-in {i}", last_name="Bench wing", date_of_birth=date(1990, 1, 1))
        for i in range(existing, patients)
    )

    user, _ = get_user_model().objects.get_or_create(username="bench-wing")
    practitioner, _ = Practitioner.objects.get_or_create(user=user)
    for weekday in range(7):
        WorkingHours.objects.get_or_create(
            practitioner=practitioner, weekday=weekday, start_time=clock(0), defaults={"end_time": clock(23, 45)}
        )
    room, _ = Room.objects.get_or_create(name="Bench wing", defaults={"turnover_minutes": 0})
    return practitioner, room, list(Patient.objects.filter(last_name="Bench wing").order_by("pk"))


def _clear_bench_wing(practitioner):
    """Delete the wing's bookings and, on PostgreSQL, vacuum what they leave behind, as autovacuum
    would in a running clinic: every run books the same times, and index entries of deleted rows
    piling up there would slow each run down a little more than the last."""
    from django.db import connection

    from scheduling.models import Appointment

    Appointment.objects.filter(practitioner=practitioner).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE scheduling_appointment, scheduling_notification")


def booking_throughput(count=600):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from scheduling.services import appointment_book

    practitioner, room, patients = _bench_wing(count + 1)
    _clear_bench_wing(practitioner)
    first = timezone.localtime(timezone.now() + timedelta(days=400)).replace(hour=0, minute=0, second=0, microsecond=0)

    def book(i):
        start = first + timedelta(days=i // 90, minutes=15 * (i % 90))
        appointment_book(patient=patients[i], kind="consultation", start=start, practitioner=practitioner, room=room,
                         duration_minutes=15)  # fmt: skip

    server = _server_cpu_reader()
    began, own_before, server_before = time.perf_counter(), time.process_time(), server()
    for i in range(count):
        book(i)
    elapsed = time.perf_counter() - began
    own, on_server = time.process_time() - own_before, server() - server_before
    with CaptureQueriesContext(connection) as captured:  # one more, to count its statements
        book(count)
    _clear_bench_wing(practitioner)
    print(f"sequential bookings through the service: {count / elapsed:.0f} per second ({count} in {elapsed:.2f} s), "
          f"{len(captured)} statements each with BEGIN and COMMIT")  # fmt: skip
    cpu = f"{own / count * 1000:.2f} ms here"
    if on_server is not None:
        cpu += f", {on_server / count * 1000:.2f} ms in the database server"
    print(f"  each booking took {elapsed / count * 1000:.2f} ms, of which CPU {cpu}; the rest is waiting "
          "(the commit's flush, the other core's work)")  # fmt: skip


def _server_cpu_reader():
    """A function giving the CPU seconds this connection's PostgreSQL backend has used, read from
    /proc when the server runs on this machine; otherwise one that gives None."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    if not Path(f"/proc/{pid}").exists():
        return lambda: None
    return lambda: cpu_seconds(pid)


def concurrent_booking(threads=32):
    from django.db import connections
    from django.utils import timezone

    from scheduling.models import Appointment
    from scheduling.services import BookingConflict, appointment_book

    practitioner, room, patients = _bench_wing()
    _clear_bench_wing(practitioner)
    patients = patients[:threads]
    start = timezone.localtime(timezone.now() + timedelta(days=401)).replace(hour=10, minute=0, second=0, microsecond=0)
    barrier, outcomes = threading.Barrier(threads), []

    def book(patient):
        try:
            barrier.wait()
            appointment_book(patient=patient, kind="consultation", start=start, practitioner=practitioner, room=room)
            outcomes.append("booked")
        except BookingConflict:
            outcomes.append("conflict")
        except Exception as error:  # noqa: BLE001 - reported, not hidden
            outcomes.append(f"error: {error!r}")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=book, args=(p,)) for p in patients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stored = Appointment.objects.filter(practitioner=practitioner, start=start).count()
    _clear_bench_wing(practitioner)
    errors = [o for o in outcomes if o.startswith("error")]
    print(f"{threads} concurrent bookings of one slot: {outcomes.count('booked')} booked, "
          f"{outcomes.count('conflict')} conflicts, {len(errors)} errors, {stored} stored")  # fmt: skip
    for error in errors[:3]:
        print("  ", error)


def _reception_client():
    """A django.test.Client logged in as a receptionist, asking as the production server is asked
    (over HTTPS, to an allowed host), so each request runs the middleware, the view and the render."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from clinic.roles import RECEPTION

    user, _ = get_user_model().objects.get_or_create(username="bench-reception")
    user.groups.add(Group.objects.get_or_create(name=RECEPTION)[0])
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def _page_times(name, days, runs):
    """Median server time of the board `name` for each of `days` in turn, over `runs` requests
    (after one warm-up request each), with the number of cards and SQL queries of the page."""
    from django.conf import settings
    from django.test import override_settings

    # The pages name their static files; without `collectstatic` there is no manifest to hash them.
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=plain):
        return _timed(name, days, runs)


def _timed(name, days, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = _reception_client()
    urls = [reverse(name, kwargs={"day": day}) for day in days]
    for url in urls:  # compile the templates, warm the caches
        status = client.get(url, secure=True).status_code
        if status != 200:  # a benchmark of a broken page is no figure
            raise SystemExit(f"{url} answered {status}")
    samples, cpu, queries, cards = [], [], [], []
    for i in range(runs):
        url = urls[i % len(urls)]
        with CaptureQueriesContext(connection) as captured:
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, secure=True)
            samples.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
        queries.append(len(captured))
        cards.append(response.content.count(b'class="db-card '))
    return samples, cpu, queries, cards


def week_view(runs):
    from django.utils import timezone

    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    weeks = [monday + timedelta(weeks=n) for n in range(4)]
    samples, cpu, queries, cards = _page_times("scheduling:week_board_date", weeks, runs)
    print(f"week view, by practitioner, rendered: median {median_ms(samples)}, {min(queries)}-{max(queries)} "
          f"queries, {min(cards)}-{max(cards)} cards (target 150 ms)")  # fmt: skip
    print(f"  CPU of this process (Django) per request: median {median_ms(cpu)}; the rest is the database and waiting")


def day_view(runs):
    from django.utils import timezone

    days = [timezone.localdate() + timedelta(days=n) for n in range(1, 5)]
    samples, cpu, queries, cards = _page_times("scheduling:day_board_date", days, runs)
    print(f"day view, by practitioner, rendered: median {median_ms(samples)}, {min(queries)}-{max(queries)} "
          f"queries, {min(cards)}-{max(cards)} cards (target 60 ms)")  # fmt: skip
    print(f"  CPU of this process (Django) per request: median {median_ms(cpu)}; the rest is the database and waiting")


FIGURES = {
    "slots": slot_search,
    "week": week_view,
    "day": day_view,
    "planning": lambda runs: course_planning(max(5, runs // 3)),
    "booking": lambda runs: booking_throughput(),
    "concurrency": lambda runs: concurrent_booking(),
}

if __name__ == "__main__":
    main()
