"""What the patient page shows, read in a constant number of queries."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import F
from django.utils import timezone

from clinical.models import Assessment, ConsentSignature, SunExposure, TreatmentCourse
from clinical.selectors import consent_signatures, planned_sun_exposures
from outbox.models import Notification
from patients.models import Patient
from scheduling.models import Appointment, number_sessions
from scheduling.services.course_rules import takes_another_session
from scheduling.services.slots import interval_window
from scheduling.services.test_patch import step_among, step_words


@dataclass
class CourseProgress:
    """A course with its treatment sessions (every status, in time order) and what comes next."""

    course: TreatmentCourse
    sessions: list[Appointment] = field(default_factory=list)
    done: int = 0
    held: int = 0  # sessions done or booked
    next_sequence: int | None = None  # the first session not booked yet, if the course can book it
    next_window: tuple[date, date] | None = None  # its first and last allowed local days
    window_missed: bool = False  # the last allowed day has passed with the session unbooked
    patch: str = ""  # the test patch step, in words ("Test patch to book"), for a course that needs one

    @property
    def planned(self) -> int:
        return self.course.planned_sessions

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.planned)) if self.planned else 0


@dataclass
class PatientOverview:
    patient: Patient
    clinical: bool
    assessments: list[Assessment]
    courses: list[CourseProgress]
    upcoming: list[Appointment]
    past: list[Appointment]
    notifications: list[Notification]
    sun_exposures: list[SunExposure] = field(default_factory=list)  # planned, not yet over
    consent_signatures: list[ConsentSignature] = field(default_factory=list)  # newest first


def _window_days(previous_start: datetime, course: TreatmentCourse) -> tuple[date, date]:
    earliest, latest = interval_window(previous_start, course)
    # `latest` is exclusive: the start of the day after the last allowed one.
    return timezone.localdate(earliest), timezone.localdate(latest) - timedelta(days=1)


def _progress(course: TreatmentCourse, sessions: list[Appointment], *, today: date, patches=()) -> CourseProgress:
    held = [s for s in sessions if s.status in Appointment.ACTIVE_STATUSES]
    step = step_among(condition_requires=course.condition.test_patch_required, skin_type=course.assessed_skin_type,
                      patches=patches)  # fmt: skip
    progress = CourseProgress(
        course=course,
        sessions=sessions,
        done=sum(s.status == Appointment.Status.COMPLETED for s in held),
        held=len(held),
        # A course with sessions and no patch began before it needed one: no step to show.
        patch=step_words(step)
        if course.status in TreatmentCourse.BOOKABLE_STATUSES and (step.booked or not held)
        else "",
    )
    if takes_another_session(course, held=len(held)):
        progress.next_sequence = len(held) + 1
        if held:
            progress.next_window = _window_days(max(s.start for s in held), course)
            progress.window_missed = progress.next_window[1] < today
    return progress


def patient_overview(*, patient_id: int, clinical: bool, now: datetime | None = None) -> PatientOverview:
    """Everything the patient page shows, in a constant number of queries.

    Without `clinical`, assessments are loaded without their clinical details and session records
    not at all, so a page for reception cannot show them by mistake. Raises Patient.DoesNotExist.
    """
    now = now or timezone.now()
    patient = Patient.objects.get(pk=patient_id)
    assessments = Assessment.objects.filter(patient=patient)
    if clinical:
        assessments = assessments.select_related("dermatologist__user").prefetch_related("conditions")
    else:
        assessments = assessments.only("pk", "patient_id", "assessed_at", "candidate")
    appointments = Appointment.objects.filter(patient=patient).select_related(
        "practitioner__user", "room", "device", "course__condition"
    )
    if clinical:
        appointments = appointments.select_related("session_record")
    appointments = list(appointments.order_by("start", "pk"))
    number_sessions(appointments)  # a patient's appointments hold every session of their courses
    # The assessment's skin type only (test_patch.needs_test_patch), not its clinical details.
    courses = (
        TreatmentCourse.objects.filter(patient=patient).select_related("condition").prefetch_related("areas")
        .annotate(assessed_skin_type=F("assessment__skin_type"))
    )  # fmt: skip
    sessions: dict[int, list[Appointment]] = {}
    patches: dict[int, list[Appointment]] = {}
    for appointment in appointments:
        if appointment.kind == Appointment.Kind.TREATMENT and appointment.course_id:
            sessions.setdefault(appointment.course_id, []).append(appointment)
        elif appointment.kind == Appointment.Kind.TEST_PATCH:
            patches.setdefault(appointment.course_id, []).append(appointment)
    upcoming = [a for a in appointments if a.status in Appointment.UPCOMING_STATUSES and a.end > now]
    upcoming_ids = {a.pk for a in upcoming}
    return PatientOverview(
        patient=patient,
        clinical=clinical,
        assessments=list(assessments),
        courses=[
            _progress(
                course, sessions.get(course.pk, []), today=timezone.localdate(now), patches=patches.get(course.pk, [])
            )
            for course in courses
        ],  # fmt: skip
        upcoming=upcoming,
        past=[a for a in reversed(appointments) if a.pk not in upcoming_ids],
        notifications=list(Notification.objects.filter(patient=patient).order_by("-due_at", "-pk")),
        sun_exposures=list(planned_sun_exposures(patient, today=timezone.localdate(now))),
        consent_signatures=list(consent_signatures(patient)),
    )
