"""Build a generated clinic for the benchmarks: 20 practitioners, 10 rooms, 6 lasers, 5,000 patients
and 50,000 appointments (or `appointments=`) that never overlap on any resource.

The calendar is laid out directly with bulk inserts (fast, for benchmarks only): rooms 1-6 each
hold one laser and run treatments, rooms 7-10 run consultations and reviews. Every room is staffed
by one practitioner a day (practitioners 1-10 on Mondays, Wednesdays, Fridays and Sundays, 11-20
on the other days), working 08:00-20:00. Gaps are left at random so that free slots exist.
"""

import os
import random
import sys
from datetime import datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/clinic_bench"
PER_YEAR = 50_000
PRACTITIONERS, ROOMS, DEVICES, PATIENTS = 20, 10, 6, 5_000


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process of this machine has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def setup_django(database_url: str | None = None) -> str:
    """Point Django at the benchmark database (created if missing) and migrate it."""
    url = database_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    sys.path.insert(0, str(ROOT))
    if url.startswith("postgres"):
        _create_database(url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return url


def _create_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def build(appointments: int = PER_YEAR, seed: int = 1) -> dict:
    """Generate the clinic unless one of this size is already there. Returns what it holds."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from catalogue.models import (
        ClinicClosure,
        Condition,
        LaserDevice,
        Practitioner,
        Room,
        TimeOff,
        TreatmentArea,
        WorkingHours,
    )
    from clinical.models import TreatmentCourse
    from patients.models import Patient
    from scheduling.models import Appointment

    generated = Practitioner.objects.filter(user__username__startswith="bench-dr").count() == PRACTITIONERS
    if generated and _generated_appointments().count() == appointments:
        return _summary()
    rng = random.Random(seed)  # nosec B311 # the same generated clinic every time, not a secret
    with transaction.atomic():
        for model in (Appointment, TreatmentCourse, Patient, TimeOff, ClinicClosure, WorkingHours, Practitioner):
            model.objects.all().delete()
        get_user_model().objects.filter(username__startswith="bench-").delete()
        LaserDevice.objects.all().delete()
        Room.objects.all().delete()

        User = get_user_model()
        users = User.objects.bulk_create(
            User(username=f"bench-dr{i:02d}", first_name="Bench", last_name=f"Doctor {i:02d}")
            for i in range(PRACTITIONERS)
        )
        practitioners = Practitioner.objects.bulk_create(Practitioner(user=u) for u in users)
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=p, weekday=day, start_time=time(8), end_time=time(20))
            for i, p in enumerate(practitioners)
            for day in ((0, 2, 4, 6) if i < 10 else (1, 3, 5))
        )
        rooms = Room.objects.bulk_create(Room(name=f"Room {i + 1}") for i in range(ROOMS))
        devices = LaserDevice.objects.bulk_create(LaserDevice(name=f"Laser {i + 1}") for i in range(DEVICES))
        conditions = list(Condition.objects.order_by("pk"))
        for device in devices:
            device.conditions.set(conditions)
        patients = Patient.objects.bulk_create(
            Patient(first_name=f"Patient{i}", last_name=f"Bench{i % 97}", date_of_birth="1990-01-01",
                    email=f"p{i}@example.com", email_consent=True)
            for i in range(PATIENTS)
        )  # fmt: skip
        small = TreatmentArea.objects.get(name="Back of the hands")
        now = timezone.now()
        courses = TreatmentCourse.objects.bulk_create(
            TreatmentCourse(patient=p, condition=conditions[i % len(conditions)], planned_sessions=30000,
                            min_interval_days=1, max_interval_days=365, status="active",
                            approved_by=practitioners[0], approved_at=now)
            for i, p in enumerate(patients)
        )  # fmt: skip
        TreatmentCourse.areas.through.objects.bulk_create(
            TreatmentCourse.areas.through(treatmentcourse_id=c.pk, treatmentarea_id=small.pk) for c in courses
        )

        years = appointments / PER_YEAR
        # Most of the history lies in the past; half a year of bookings lies ahead.
        first_day = timezone.localdate() - timedelta(days=int(365 * years) - 182)
        batch, made, day_index = [], 0, 0
        while made < appointments:
            day = first_day + timedelta(days=day_index)
            staff = practitioners[:10] if day.weekday() in (0, 2, 4, 6) else practitioners[10:]
            for r, room in enumerate(rooms):
                start = timezone.make_aware(datetime.combine(day, time(8)))
                close = timezone.make_aware(datetime.combine(day, time(20)))
                pool = (r * 500 + day_index * 37) % PATIENTS  # each room draws its own patients that day
                k = 0
                while made < appointments:
                    start += timedelta(minutes=15 * rng.choice((0, 0, 0, 0, 1, 2, 4)))
                    minutes = rng.choice((30, 45, 60)) if r < DEVICES else rng.choice((15, 30))
                    end = start + timedelta(minutes=minutes)
                    if end > close:
                        break
                    patient_index = (pool + k) % PATIENTS
                    treatment = r < DEVICES
                    batch.append(
                        Appointment(
                            kind="treatment" if treatment else rng.choice(("consultation", "review")),
                            patient_id=patients[patient_index].pk,
                            course_id=courses[patient_index].pk if treatment else None,
                            start=start, end=end, blocked_until=end + timedelta(minutes=10),
                            practitioner_id=staff[r].pk, room_id=room.pk,
                            device_id=devices[r].pk if treatment else None,
                            status="completed" if end < now else "booked",
                        )
                    )  # fmt: skip
                    made += 1
                    k += 1
                    start = end + timedelta(minutes=15)  # the 10-minute turnover, on the grid
            day_index += 1
            if len(batch) >= 5000:
                Appointment.objects.bulk_create(batch)
                batch = []
        Appointment.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        # What autovacuum does in a running clinic: statistics, and the visibility map that lets
        # slot search read the covering index alone.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return _summary()


def _generated_appointments():
    """The generated calendar, leaving out what the benchmarks book in their own test wing."""
    from scheduling.models import Appointment

    return Appointment.objects.filter(practitioner__user__username__startswith="bench-dr")


def _summary() -> dict:
    from catalogue.models import LaserDevice, Practitioner, Room
    from patients.models import Patient

    return {
        "practitioners": Practitioner.objects.filter(user__username__startswith="bench-dr").count(),
        "rooms": Room.objects.exclude(name="Bench wing").count(),
        "devices": LaserDevice.objects.count(),
        "patients": Patient.objects.exclude(last_name="Bench wing").count(),
        "appointments": _generated_appointments().count(),
    }
