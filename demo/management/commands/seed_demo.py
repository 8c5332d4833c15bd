"""Load a demo clinic: staff and their hours, rooms, lasers, patients, courses and two weeks of
appointments around today. Running it again changes nothing that is already there."""

import random
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from catalogue.models import ClinicClosure, Condition, LaserDevice, Practitioner, Room, TreatmentArea, WorkingHours
from clinical.models import Assessment, Contraindication, TreatmentCourse
from clinical.services.courses import course_propose
from outbox import planning
from patients.models import Patient
from scheduling.models import Appointment, SessionRecord

DEMO_PASSWORD = "pico-demo-password"  # noqa: S105  # nosec B105 # the demo logins, published in the README
GRID = timedelta(minutes=15)
CONSULTATION = timedelta(minutes=30)

# username, first name, last name, {weekday: (start hour, end hour)}
DERMATOLOGISTS = [
    ("dr.patel", "Asha", "Patel", {0: (9, 17), 1: (9, 17), 2: (9, 17), 3: (9, 17), 4: (9, 17)}),
    ("dr.okafor", "Chidi", "Okafor", {0: (10, 18), 2: (10, 18), 4: (10, 18), 5: (9, 13)}),
    ("dr.lindqvist", "Elin", "Lindqvist", {1: (9, 17), 3: (9, 17), 4: (9, 13)}),
]
OFFICE_STAFF = [
    # username, first name, last name, group, is_staff (admin access)
    ("reception", "Sam", "Reed", "Reception", False),
    ("manager", "Morgan", "Hale", "Manager", True),
]
FIRST_NAMES = [
    "Olivia",
    "Noah",
    "Amelia",
    "Leo",
    "Isla",
    "Arjun",
    "Mia",
    "Kofi",
    "Sofia",
    "Yuki",
    "Grace",
    "Mateo",
    "Freya",
    "Omar",
    "Lily",
    "Ethan",
    "Zara",
    "Jonas",
    "Chloe",
    "Ravi",
]
LAST_NAMES = [
    "Smith",
    "Khan",
    "Nowak",
    "Garcia",
    "Brown",
    "Chen",
    "Murphy",
    "Silva",
    "Evans",
    "Ahmed",
    "Taylor",
    "Rossi",
    "Walsh",
    "Kim",
    "Jones",
    "Haddad",
    "Clarke",
    "Novak",
    "Singh",
    "Moreau",
]
AREAS_BY_CONDITION = {
    "acne-scars": ["Cheeks", "Full face"],
    "wrinkles-fine-lines": ["Around the eyes", "Forehead", "Full face"],
    "pigmentation": ["Back of the hands", "Cheeks", "Décolletage"],
    "tattoo-removal": ["Small tattoo (up to 5 × 5 cm)", "Medium tattoo (up to 15 × 15 cm)"],
}
WAVELENGTH_BY_CONDITION = {"acne-scars": 1064, "wrinkles-fine-lines": 1064, "pigmentation": 532, "tattoo-removal": 1064}


class Diary:
    """Finds non-overlapping times for demo appointments. Demo data only: real bookings go through
    the scheduling services."""

    def __init__(self, closures):
        self.busy = defaultdict(list)
        self.closed_days = closures

    def is_free(self, key, start, end):
        return all(end <= s or start >= e for s, e in self.busy[key])

    def take(self, key, start, end):
        self.busy[key].append((start, end))

    def place(self, *, day, derms, patient, minutes, rooms, devices):
        """First free start on `day` (or the next six days) for one of `derms`, a room and, for a
        treatment, one of `devices`. Returns (start, end, blocked_until, derm, room, device) or None."""
        length = timedelta(minutes=minutes)
        for offset in range(7):
            date = day + timedelta(days=offset)
            if date in self.closed_days:
                continue
            for derm in derms:
                hours = derm.demo_hours.get(date.weekday())
                if not hours:
                    continue
                start = timezone.make_aware(datetime.combine(date, time(hours[0])))
                closing = timezone.make_aware(datetime.combine(date, time(hours[1])))
                while start + length <= closing:
                    found = self._resources_at(start, length, derm, patient, rooms, devices)
                    if found:
                        return found
                    start += GRID
        return None

    def _resources_at(self, start, length, derm, patient, rooms, devices):
        end = start + length
        if not (self.is_free(("derm", derm.pk), start, end) and self.is_free(("patient", patient.pk), start, end)):
            return None
        room = next(
            (r for r in rooms if self.is_free(("room", r.pk), start, end + timedelta(minutes=r.turnover_minutes))), None
        )
        if room is None:
            return None
        device = None
        buffer = room.turnover_minutes
        if devices is not None:
            device = next(
                (
                    d
                    for d in devices
                    if self.is_free(("device", d.pk), start, end + timedelta(minutes=d.turnover_minutes))
                ),
                None,
            )
            if device is None:
                return None
            buffer = max(buffer, device.turnover_minutes)
        blocked_until = end + timedelta(minutes=buffer)
        self.take(("derm", derm.pk), start, end)
        self.take(("patient", patient.pk), start, end)
        self.take(("room", room.pk), start, blocked_until)
        if device:
            self.take(("device", device.pk), start, blocked_until)
        return start, end, blocked_until, derm, room, device


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


class DemoHistory:
    """Writes one patient's story: consultation, assessment, course and its sessions."""

    def __init__(self, *, diary, derms, rooms, devices, conditions, today):
        self.diary = diary
        self.derms = derms
        self.rooms = rooms
        self.devices = devices
        self.conditions = conditions
        self.today = today
        self.now = timezone.now()

    def history(self, patient, index, rng):
        derm = self.derms[index % len(self.derms)]
        condition = list(self.conditions.values())[index % len(self.conditions)]
        if index < 4:  # new patients waiting for their first consultation
            self.appointment(
                patient, Appointment.Kind.CONSULTATION, self.today + timedelta(days=1 + index), derm, rng=rng
            )
            return
        if index < 6:  # assessed, not a candidate
            consult = self.appointment(
                patient, Appointment.Kind.CONSULTATION, self.today - timedelta(days=6 - index), derm, rng=rng
            )
            self.assessment(
                patient,
                derm,
                condition,
                consult.start,
                candidate=False,
                contraindications=[Contraindication.ISOTRETINOIN],
            )
            return
        consult_day = (
            self.today - timedelta(days=rng.randint(60, 200))
            if index >= 13
            else self.today - timedelta(days=rng.randint(1, 7))
        )
        consult = self.appointment(patient, Appointment.Kind.CONSULTATION, consult_day, derm, rng=rng)
        assessment = self.assessment(patient, derm, condition, consult.start, candidate=True, contraindications=[])
        course = self.course(patient, condition, derm, assessment, rng)
        if index < 10:
            return  # proposed, waiting for a dermatologist's approval
        self.approve(course, derm, consult.start + timedelta(days=1))
        if index < 13:
            return  # approved, nothing booked yet
        if 32 <= index < 36:
            self.sessions(
                course, derm, first_day=consult_day + timedelta(days=7), count=course.planned_sessions, rng=rng
            )
            if index < 34:
                self.appointment(
                    patient, Appointment.Kind.REVIEW, self.today + timedelta(days=index - 30), derm, rng=rng
                )
            return
        if 36 <= index < 38:
            self.sessions(course, derm, first_day=consult_day + timedelta(days=7), count=1, rng=rng)
            course.status = TreatmentCourse.Status.CANCELLED
            course.notes = "Patient moved away."
            course.save(update_fields=["status", "notes"])
            return
        # An active course: some sessions done, one inside the two weeks around today.
        done = rng.randint(0, course.planned_sessions - 2)
        if index % 4 == 0:
            done = 0  # a first session today, so that today's board is busy
        offset = rng.randint(-7, 7)
        window_day = self.today + timedelta(days=0 if index % 4 == 0 else offset)
        first_day = window_day - timedelta(days=done * (course.min_interval_days + 3))
        appointments = self.sessions(course, derm, first_day=first_day, count=done + 1, rng=rng)
        if index >= 38 and appointments and appointments[-1].start > self.now:
            cancelled = appointments[-1]
            cancelled.status = Appointment.Status.CANCELLED
            cancelled.cancel_reason = "Patient unwell"
            cancelled.save(update_fields=["status", "cancel_reason"])
            planning.plan_for_cancellation(cancelled, now=self.now)

    def appointment(self, patient, kind, day, derm, *, rng, course=None):
        minutes = 30
        devices = None
        if kind == Appointment.Kind.TREATMENT:
            minutes = sum(area.minutes for area in course.areas.all())
            devices = [d for d in self.devices if course.condition in d.conditions.all()]
        derms = [derm] + [d for d in self.derms if d != derm]
        slot = self.diary.place(
            day=day, derms=derms, patient=patient, minutes=minutes, rooms=self.rooms, devices=devices
        )
        if slot is None:
            return None
        start, end, blocked_until, practitioner, room, device = slot
        if end <= self.now:
            status = Appointment.Status.COMPLETED
            if rng.random() < 0.06:
                status = Appointment.Status.NO_SHOW
        elif start <= self.now:
            status = Appointment.Status.CHECKED_IN
        else:
            status = Appointment.Status.CONFIRMED if rng.random() < 0.4 else Appointment.Status.BOOKED
        appt = Appointment.objects.create(
            kind=kind,
            patient=patient,
            course=course,
            start=start,
            end=end,
            blocked_until=blocked_until,
            practitioner=practitioner,
            room=room,
            device=device,
            status=status,
            created_at=min(start - timedelta(days=21), self.now),
        )
        if start > self.now:
            # The emails its booking plans, as the booking service would: the confirmation and a
            # prep reminder due at once, the day-before note at 10:00 the day before. A first run's
            # worker sends them (to var/mail/) at its first dispatch.
            planning.plan_for_booking(appt, now=self.now)
        if kind == Appointment.Kind.TREATMENT and status == Appointment.Status.COMPLETED:
            SessionRecord.objects.create(
                appointment=appt,
                area=course.areas.first(),
                wavelength_nm=WAVELENGTH_BY_CONDITION[course.condition.slug],
                fluence_j_cm2=Decimal(rng.randint(8, 30)) / 10,
                spot_size_mm=Decimal(rng.randint(30, 80)) / 10,
                pulses=rng.randint(300, 2500),
                skin_reaction=rng.choice(["none", "mild_erythema", "mild_erythema", "moderate_erythema"]),
                recorded_by=practitioner,
                recorded_at=end,
            )
        return appt

    def assessment(self, patient, derm, condition, when, *, candidate, contraindications):
        assessment = Assessment.objects.create(
            patient=patient,
            dermatologist=derm,
            assessed_at=when,
            skin_type=patient.skin_type,
            candidate=candidate,
            contraindications=contraindications,
            notes="Good candidate; discussed expectations." if candidate else "Not a candidate at present.",
        )
        assessment.conditions.add(condition)
        return assessment

    def course(self, patient, condition, derm, assessment, rng):
        names = AREAS_BY_CONDITION[condition.slug]
        area = TreatmentArea.objects.get(name=names[rng.randrange(len(names))])
        course = course_propose(assessment=assessment, condition=condition, areas=[area], proposed_by=derm)
        course.created_at = assessment.assessed_at  # proposed at the consultation, in the demo's past
        course.save(update_fields=["created_at"])
        return course

    def approve(self, course, derm, when):
        course.status = TreatmentCourse.Status.APPROVED
        course.approved_by = derm
        course.approved_at = min(when, self.now)
        course.save(update_fields=["status", "approved_by", "approved_at"])

    def sessions(self, course, derm, *, first_day, count, rng):
        appointments = []
        day = first_day
        for _ in range(count):
            appt = self.appointment(course.patient, Appointment.Kind.TREATMENT, day, derm, course=course, rng=rng)
            if appt is None:
                break
            appointments.append(appt)
            day = timezone.localdate(appt.start) + timedelta(days=course.min_interval_days + 3)
        done = sum(a.status == Appointment.Status.COMPLETED for a in appointments)
        course.status = (
            TreatmentCourse.Status.COMPLETED if done >= course.planned_sessions else TreatmentCourse.Status.ACTIVE
        )
        course.save(update_fields=["status"])
        return appointments
