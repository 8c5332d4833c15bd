"""Load a demo clinic: staff and their hours, rooms, lasers, patients, courses and two weeks of
appointments around today. Running it again changes nothing that is already there."""

import random
from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from catalogue.models import ClinicClosure, Condition, LaserDevice, Practitioner, Room, WorkingHours
from demo.story import DEMO_PASSWORD, DERMATOLOGISTS, FIRST_NAMES, LAST_NAMES, OFFICE_STAFF, DemoHistory, Diary
from patients.models import Patient
from scheduling.models import Appointment


class Command(BaseCommand):
    help = "Load a demo clinic (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        with transaction.atomic():
            created = self.seed()
        self.stdout.write(self.style.SUCCESS(f"Demo clinic ready ({created} new patients)."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, *_ in DERMATOLOGISTS:
            self.stdout.write(f"  {username:<14} dermatologist")
        for username, _, _, group, is_staff in OFFICE_STAFF:
            extra = ", admin" if is_staff else ""
            self.stdout.write(f"  {username:<14} {group.lower()}{extra}")

    def seed(self):
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in ("Reception", "Dermatologist", "Manager")}
        derms = [self.dermatologist(*row, group=groups["Dermatologist"]) for row in DERMATOLOGISTS]
        for username, first, last, group, is_staff in OFFICE_STAFF:
            user = self.user(username, first, last, is_staff=is_staff)
            user.groups.add(groups[group])

        rooms = [Room.objects.get_or_create(name=name)[0] for name in ("Room 1", "Room 2")]
        conditions = {c.slug: c for c in Condition.objects.all()}
        picoway, _ = LaserDevice.objects.get_or_create(
            name="PicoWay", defaults={"model": "Candela PicoWay", "wavelengths_nm": "532, 785, 1064"}
        )
        picoway.conditions.add(*conditions.values())
        picosure, _ = LaserDevice.objects.get_or_create(
            name="PicoSure Pro", defaults={"model": "Cynosure PicoSure Pro", "wavelengths_nm": "532, 755"}
        )
        picosure.conditions.add(*(c for slug, c in conditions.items() if slug != "tattoo-removal"))

        today = timezone.localdate()
        christmas = today.replace(month=12, day=25)
        if christmas < today:
            christmas = christmas.replace(year=today.year + 1)
        ClinicClosure.objects.get_or_create(
            start_date=christmas, defaults={"end_date": christmas + timedelta(days=1), "reason": "Christmas"}
        )

        closed = set()
        for closure in ClinicClosure.objects.all():
            day = closure.start_date
            while day <= closure.end_date:
                closed.add(day)
                day += timedelta(days=1)
        diary = Diary(closed)
        for appt in Appointment.objects.filter(status__in=Appointment.ACTIVE_STATUSES):
            diary.take(("derm", appt.practitioner_id), appt.start, appt.end)
            diary.take(("patient", appt.patient_id), appt.start, appt.end)
            diary.take(("room", appt.room_id), appt.start, appt.blocked_until)
            if appt.device_id:
                diary.take(("device", appt.device_id), appt.start, appt.blocked_until)

        builder = DemoHistory(
            diary=diary, derms=derms, rooms=rooms, devices=[picoway, picosure], conditions=conditions, today=today
        )
        rng = random.Random(2026)  # nosec B311 # the same demo clinic every time, not a secret
        created = 0
        for index in range(40):
            first, last = FIRST_NAMES[index % 20], LAST_NAMES[(index * 7) % 20]
            patient, is_new = Patient.objects.get_or_create(
                email=f"{first}.{last}{index}@example.com".lower(),
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": today.replace(year=today.year - 22 - (index * 3) % 45, day=1),
                    "phone": f"+44 7700 900{index:03d}",
                    "skin_type": 1 + index % 6,
                    "email_consent": index % 9 != 4,
                },
            )
            # Draw the same numbers whether or not the patient exists, so a partial run completes
            # exactly as a fresh one would have.
            scenario_rng = random.Random(rng.random())  # nosec B311 # demo data, not a secret
            if is_new:
                created += 1
                builder.history(patient, index, scenario_rng)
        return created

    def user(self, username, first, last, *, is_staff=False, is_superuser=False):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@clinic.example.com",
                "is_staff": is_staff,
                "is_superuser": is_superuser,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def dermatologist(self, username, first, last, hours, *, group):
        user = self.user(username, first, last)
        user.groups.add(group)
        practitioner, _ = Practitioner.objects.get_or_create(
            user=user, defaults={"role": Practitioner.Role.DERMATOLOGIST}
        )
        for weekday, (start, end) in hours.items():
            WorkingHours.objects.get_or_create(
                practitioner=practitioner, weekday=weekday, start_time=time(start), defaults={"end_time": time(end)}
            )
        practitioner.demo_hours = hours
        return practitioner
