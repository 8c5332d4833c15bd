"""The JSON API under load on loopback: many clients searching for and booking the same few days.

    .venv/bin/python bench/api_load.py                               # 150 clients, 4 gunicorn workers
    .venv/bin/python bench/api_load.py --clients 50 --requests 600 --phases availability booking

It starts gunicorn (gunicorn.conf.py, sync workers) on a free port of 127.0.0.1 against the bench
clinic on PostgreSQL (BENCH_DATABASE_URL, built as for bench/scheduling.py), logs a Reception user
in with an API token, and runs one phase per kind of request, each bounded by `--requests` (or
`--duration` seconds, whichever comes first). Every client is a thread with its own keep-alive
connection (http.client, lighter than requests; a sync worker closes it after each answer, and the
client opens it again); all start together.

- `availability`: searches for a treatment of a course on the same `--days` days;
- `booking`: books treatments at times found free before the phase, the same times for every
  client, so most of them clash: a 409 is an expected answer, counted as a conflict, not an error;
- `mixed`: each client searches and then books one of the times it was offered, as a desk does.

For each phase it prints requests a second, latency percentiles, errors (a 5xx, another status
than expected, a dropped connection), conflicts, and CPU per request: the workers' CPU read from
/proc before and after the phase, divided by the requests they answered, and the client's own.
The bench's bookings are deleted afterwards. Prints figures; asserts nothing.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess  # nosec B404 # starts gunicorn from this checkout, with fixed arguments
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from clinic_setup import ROOT, build, cpu_seconds, setup_django  # noqa: I001 - bench/ is run as a script

BENCH_USER = "bench-api"
FIRST_DAY_AHEAD = 21  # past the 14-day prep window, so no booking needs the short-prep acknowledgement


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--requests", type=int, default=1500, help="requests per phase")
    parser.add_argument("--duration", type=float, default=120, help="at most this many seconds per phase")
    parser.add_argument("--days", type=int, default=3, help="the days everyone searches and books")
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    args = parser.parse_args()

    url = setup_django()
    summary = build()
    print(f"database: {url.rsplit('@', 1)[-1]}; clinic: " + ", ".join(f"{v:,} {k}" for k, v in summary.items()))
    token = bench_token()
    clear_bench_bookings()
    plan = Plan.make(days=args.days, requests=args.requests)
    server = Gunicorn(workers=args.workers, database_url=url)
    try:
        server.start()
        warm_up(server, token, plan)
        print(f"gunicorn on {server.address[0]}:{server.address[1]}, {args.workers} sync workers; "
              f"{args.clients} clients; {args.days} days from {plan.first_day}; "
              f"phases bounded by {args.requests} requests or {args.duration:.0f} s")  # fmt: skip
        for phase in args.phases:
            run_phase(phase, server=server, token=token, plan=plan, args=args)
    finally:
        server.stop()
        clear_bench_bookings()


# The clinic side


def bench_token() -> str:
    """The API token of a Reception user of the bench's own, made on the first run."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from clinic.roles import RECEPTION

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER, defaults={"first_name": "Bench"})
    user.groups.add(Group.objects.get(name=RECEPTION))
    return Token.objects.get_or_create(user=user)[0].key


def clear_bench_bookings() -> None:
    """Delete what earlier runs booked and vacuum, as autovacuum would: every run books the same days."""
    from django.db import connection

    from scheduling.models import Appointment

    Appointment.objects.filter(booked_by__username=BENCH_USER).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE scheduling_appointment, scheduling_notification")


BENCH_PATIENTS = "Bench API"  # the last name of the bench's own patients


def bench_courses(count: int) -> list[tuple[int, int]]:
    """(course, patient) of `count` approved courses of patients with nothing booked, made on the
    first run: a search for a course's next session then looks at the whole window, and a
    booking that clashes does so over a practitioner, room or laser, which the clients share."""
    from django.utils import timezone

    from catalogue.models import Condition, Practitioner, TreatmentArea
    from clinical.models import TreatmentCourse
    from patients.models import Patient

    existing = Patient.objects.filter(last_name=BENCH_PATIENTS).count()
    if existing < count:
        patients = Patient.objects.bulk_create(
            Patient(first_name=f"Desk {i}", last_name=BENCH_PATIENTS, date_of_birth="1990-01-01")
            for i in range(existing, count)
        )
        condition, dermatologist = Condition.objects.order_by("pk").first(), Practitioner.objects.order_by("pk")[0]
        courses = TreatmentCourse.objects.bulk_create(
            TreatmentCourse(patient=p, condition=condition, planned_sessions=10, min_interval_days=1,
                            max_interval_days=365, status="approved", approved_by=dermatologist,
                            approved_at=timezone.now())
            for p in patients
        )  # fmt: skip
        small = TreatmentArea.objects.get(name="Back of the hands")
        small.courses.add(*courses)
    courses = TreatmentCourse.objects.filter(patient__last_name=BENCH_PATIENTS).order_by("pk")
    return list(courses.values_list("pk", "patient_id")[:count])


def disjoint(slots) -> list[dict]:
    """Those of `slots` that can all be booked together: each is free when the earlier ones are
    booked (a practitioner, room or laser is not taken twice, buffer included). The first try at
    each is booked, later ones clash."""
    taken: dict[tuple, list] = {}
    openings = []
    for slot in slots:
        until = slot.end + timedelta(minutes=max(slot.room.turnover_minutes, slot.device.turnover_minutes))
        keys = [("practitioner", slot.practitioner.pk), ("room", slot.room.pk), ("device", slot.device.pk)]
        if any(start < until and slot.start < end for key in keys for start, end in taken.get(key, ())):
            continue
        for key in keys:
            taken.setdefault(key, []).append((slot.start, until))
        openings.append({"start": slot.start.isoformat(), "practitioner": slot.practitioner.pk,
                         "room": slot.room.pk, "device": slot.device.pk})  # fmt: skip
    return openings


class Plan:
    """What the clients ask for: the days, the courses they search and book for (one per request,
    so that no course's own rules refuse a booking), and for the booking phase the times free
    before it starts, which every client tries."""

    def __init__(self, first_day, days, courses, openings):
        self.first_day, self.days, self.courses, self.openings = first_day, days, courses, openings

    @classmethod
    def make(cls, *, days: int, requests: int) -> "Plan":
        from django.utils import timezone

        from scheduling.services import find_slots

        first_day = timezone.localdate() + timedelta(days=FIRST_DAY_AHEAD)
        # The bench's courses take one area of 30 minutes.
        slots = find_slots(start_date=first_day, days=days, length=timedelta(minutes=30), limit=1000)
        return cls(first_day, days, bench_courses(requests), disjoint(slots))

    def search(self, n: int) -> str:
        course, _ = self.courses[n % len(self.courses)]
        return f"/api/v1/availability/?start={self.first_day}&days={self.days}&course={course}"

    def booking(self, n: int, opening: dict) -> str:
        course, patient = self.courses[n % len(self.courses)]
        return json.dumps({"patient": patient, "course": course, "kind": "treatment", **opening})


# The server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    def __init__(self, *, workers: int, database_url: str):
        self.workers, self.database_url = workers, database_url
        self.address = ("127.0.0.1", free_port())
        self.process = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only"),
            "ALLOWED_HOSTS": self.address[0],
            "SECURE_SSL_REDIRECT": "false",  # plain http on loopback; production sits behind TLS
            "SECURE_COOKIES": "false",
        }
        command = [
            str(Path(sys.executable).with_name("gunicorn")), "clinic.wsgi", "--config", "gunicorn.conf.py",
            "--bind", f"{self.address[0]}:{self.address[1]}", "--workers", str(self.workers),
        ]  # fmt: skip
        # The access log goes nowhere, but each worker still writes its lines, as in production; the
        # error log (Django's warnings about 4xx answers among it) is kept for a failed start.
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603 # our own gunicorn, fixed arguments
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.errors
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.errors.seek(0)
                sys.stderr.write(self.errors.read().decode(errors="replace"))
                raise SystemExit(f"gunicorn stopped at start (exit {self.process.returncode})")
            if len(self.worker_pids()) == self.workers and self._healthy():
                return
            time.sleep(0.2)
        raise SystemExit("gunicorn did not start within 60 s")

    def _healthy(self) -> bool:
        try:
            connection = http.client.HTTPConnection(*self.address, timeout=5)
            connection.request("GET", "/healthz/")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        """The master's children: its workers."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def workers_cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.worker_pids())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


# The clients


class Client:
    """One member of staff's program: a keep-alive connection, opened again when the server closes it."""

    def __init__(self, address, token):
        self.address, self.connection = address, None
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def call(self, method, path, body=None):
        """(status, parsed JSON or None); status None when the connection failed."""
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):  # a kept connection the server has just closed is opened once more
            if self.connection is None:
                self.connection = http.client.HTTPConnection(*self.address, timeout=120)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt:
                    return None, None
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            try:
                return response.status, json.loads(data) if data else None
            except ValueError:
                return response.status, None
        return None, None


def warm_up(server, token, plan) -> None:
    """A few searches and a refused booking per worker first: imports, URL patterns, first queries."""
    client = Client(server.address, token)
    for n in range(4 * server.workers):
        client.call("GET", plan.search(n))
        client.call("POST", "/api/v1/appointments/", "{}")


class Phase:
    """Requests handed out to the clients until the count or the time is up; outcomes collected."""

    def __init__(self, *, limit: int, duration: float):
        self.limit, self.deadline, self.lock = limit, None, threading.Lock()
        self.issued, self.duration = 0, duration
        self.results: list[tuple[str, float, str]] = []  # kind, seconds, outcome

    def take(self) -> int | None:
        with self.lock:
            if self.issued >= self.limit or time.perf_counter() > self.deadline:
                return None
            self.issued += 1
            return self.issued - 1

    def timed(self, client, kind, method, path, body=None, *, expect):
        began = time.perf_counter()
        status, data = client.call(method, path, body)
        took = time.perf_counter() - began
        if status == expect:
            outcome = "ok"
        elif status == 409 and kind == "booking":
            outcome = "conflict"
        elif status is None:
            outcome = "no answer"
        else:
            outcome = f"HTTP {status}"
        with self.lock:
            self.results.append((kind, took, outcome))
        return status, data


def availability_client(phase, client, plan):
    while (n := phase.take()) is not None:
        phase.timed(client, "availability", "GET", plan.search(n), expect=200)


def booking_client(phase, client, plan):
    while (n := phase.take()) is not None:
        # The clients walk the same times: the first try at each is booked, the later ones clash.
        opening = plan.openings[n % len(plan.openings)]
        phase.timed(client, "booking", "POST", "/api/v1/appointments/", plan.booking(n, opening), expect=201)


def mixed_client(phase, client, plan):
    while (n := phase.take()) is not None:
        status, data = phase.timed(client, "availability", "GET", plan.search(n), expect=200)
        slots = data.get("slots", []) if status == 200 and isinstance(data, dict) else []
        if not slots or (n := phase.take()) is None:
            continue
        slot = slots[n % min(3, len(slots))]  # one of the first few, as a desk takes the earliest
        opening = {k: slot[k] for k in ("start", "practitioner", "room", "device")}
        phase.timed(client, "booking", "POST", "/api/v1/appointments/", plan.booking(n, opening), expect=201)


PHASES = {"availability": availability_client, "booking": booking_client, "mixed": mixed_client}


def run_phase(name, *, server, token, plan, args):
    clear_bench_bookings()  # each phase finds the same days free
    phase = Phase(limit=args.requests, duration=args.duration)
    clients = [Client(server.address, token) for _ in range(args.clients)]
    start = threading.Barrier(args.clients + 1)

    def run(client):
        start.wait()
        PHASES[name](phase, client, plan)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    workers_before, client_before = server.workers_cpu(), time.process_time()
    phase.deadline = time.perf_counter() + args.duration
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    workers_cpu, client_cpu = server.workers_cpu() - workers_before, time.process_time() - client_before
    report(name, phase.results, took=took, workers_cpu=workers_cpu, client_cpu=client_cpu)


def report(name, results, *, took, workers_cpu, client_cpu):
    count = len(results)
    outcomes = Counter(outcome for _, _, outcome in results)
    errors = {o: n for o, n in outcomes.items() if o not in ("ok", "conflict")}
    kinds = Counter(kind for kind, _, _ in results)
    latencies = [seconds * 1000 for _, seconds, _ in results]
    q = statistics.quantiles(latencies, n=100) if count > 1 else [latencies[0]] * 99
    print(f"\n{name}: {count:,} requests in {took:.1f} s, {count / took:.1f} a second "
          f"({', '.join(f'{n:,} {k}' for k, n in sorted(kinds.items()))})")  # fmt: skip
    print(f"  latency: p50 {q[49]:.0f} ms, p90 {q[89]:.0f} ms, p99 {q[98]:.0f} ms, max {max(latencies):.0f} ms")
    booked = sum(1 for kind, _, o in results if kind == "booking" and o == "ok")
    line = f"  errors: {sum(errors.values())}" + "".join(f"; {n} {o}" for o, n in errors.items())
    if kinds["booking"]:
        line += f"; bookings made: {booked}, conflicts (409): {outcomes['conflict']}"
    print(line)
    print(f"  CPU per request: workers {workers_cpu / count * 1000:.1f} ms, client {client_cpu / count * 1000:.1f} ms "
          f"(workers {workers_cpu:.1f} s, client {client_cpu:.1f} s in all)")  # fmt: skip


if __name__ == "__main__":
    main()
