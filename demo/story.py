"""The demo clinic's people and their stories: names, the diary that keeps the generated visits from
overlapping, and each patient's history (consultation, assessment, course, sessions, emails)."""

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from catalogue.models import Condition, TreatmentArea
from clinical.models import Assessment, ConsentSignature, ConsentText, Contraindication, TreatmentCourse
from clinical.services.courses import course_propose
from outbox import planning
from scheduling.models import Appointment, SessionRecord
from scheduling.services.test_patch import needs_test_patch, patch_length, wait_days

from .photos import course_photos

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
PHOTO_COURSES = 3  # courses whose done sessions get before photos: enough to compare, quick to seed
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
        self.photo_courses = 0

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
        if kind in Appointment.LASER_KINDS:
            minutes = sum(area.minutes for area in course.areas.all())
            if kind == Appointment.Kind.TEST_PATCH:
                minutes = int(patch_length().total_seconds() // 60)
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
            if rng.random() < 0.06 and kind != Appointment.Kind.TEST_PATCH:  # a missed patch would hold its course up
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
        if kind == Appointment.Kind.TEST_PATCH and status == Appointment.Status.COMPLETED:
            appt.patch_result, appt.patch_result_notes = Appointment.PatchResult.NO_REACTION, "No reaction at 7 days."
            appt.patch_result_by, appt.patch_result_at = practitioner, end
            appt.save(update_fields=["patch_result", "patch_result_notes", "patch_result_by", "patch_result_at"])
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
                outcome_score=self.outcome_score(course, start, rng),
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

    def outcome_score(self, course, start, rng) -> int:
        """The result so far on the condition's scale, better with each session."""
        done = course.appointments.filter(kind=Appointment.Kind.TREATMENT, start__lt=start).count()
        if course.condition.outcome_scale == Condition.OutcomeScale.CLEARANCE:
            return min(95, 10 + 12 * done + rng.randint(0, 8))
        return min(4, 1 + done // 2)

    def test_patch(self, course, derm, *, first_day, rng):
        """The patch a course needs before its first session, placed the wait or more before it;
        the day the first session may then be on."""
        needed = needs_test_patch(
            condition_requires=course.condition.test_patch_required, skin_type=course.assessment.skin_type
        )
        if not needed:
            return first_day
        patch = self.appointment(
            course.patient, Appointment.Kind.TEST_PATCH, first_day - timedelta(days=wait_days() + 7), derm,
            course=course, rng=rng,
        )  # fmt: skip
        if patch is None:
            return first_day
        return max(first_day, timezone.localdate(patch.start) + timedelta(days=wait_days()))

    def sessions(self, course, derm, *, first_day, count, rng):
        appointments = []
        day = self.test_patch(course, derm, first_day=first_day, rng=rng)
        for _ in range(count):
            appt = self.appointment(course.patient, Appointment.Kind.TREATMENT, day, derm, course=course, rng=rng)
            if appt is None:
                break
            appointments.append(appt)
            day = timezone.localdate(appt.start) + timedelta(days=course.min_interval_days + 3)
        if appointments and appointments[0].start <= self.now:
            self.consents(course, appointments[0], rng=rng)
            if self.photo_courses < PHOTO_COURSES and course_photos(course, appointments, by=derm.user) > 1:
                self.photo_courses += 1
        done = sum(a.status == Appointment.Status.COMPLETED for a in appointments)
        course.status = (
            TreatmentCourse.Status.COMPLETED if done >= course.planned_sessions else TreatmentCourse.Status.ACTIVE
        )
        course.save(update_fields=["status"])
        return appointments

    def consents(self, course, first, *, rng):
        """Signed on the tablet before the course's first session, with the photo consent: the
        first sessions still to come today are left unsigned, for the tablet at their check-in."""
        signed_at = first.start - timedelta(minutes=10)
        texts = ConsentText.objects.filter(kind=ConsentText.Kind.TREATMENT, condition=course.condition)
        photo = ConsentText.objects.filter(kind=ConsentText.Kind.PHOTO).order_by("-version").first()
        common = dict(patient=course.patient, typed_name=course.patient.full_name, signed_at=signed_at,
                      client_address="10.0.0.20", channel=ConsentSignature.Channel.TABLET,
                      witnessed_by=first.practitioner.user)  # fmt: skip
        treatment = texts.order_by("-version").first()
        if treatment is not None:
            ConsentSignature.objects.create(text=treatment, **common)
        standing = ConsentSignature.objects.filter(patient=course.patient, text__kind=ConsentText.Kind.PHOTO)
        if photo is not None and not standing.exists():  # one photo consent stands at a time
            ConsentSignature.objects.create(
                text=photo, photo_clinical=True, photo_marketing=rng.random() < 0.4, **common
            )
