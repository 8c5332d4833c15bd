"""What the patient's pages show, read in a fixed number of queries whatever the history's length.

Only the signed-in patient's own records are read (every query is filtered by the patient), and
nothing clinical beyond what their emails already say: times, practitioner, the condition's
preparation and aftercare advice, the course's progress.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F
from django.http import Http404
from django.utils import timezone

from clinical.models import TreatmentCourse
from outbox.emails import subject_line
from outbox.models import Notification
from patients.models import Patient
from scheduling.models import Appointment, number_sessions
from scheduling.services.slots import is_short_prep, prep_begins
from scheduling.services.test_patch import step_among, step_words

from .booking import NextSession, change_refusal, move_refusal, moves_by_patient, next_session

PAST_SHOWN = 20
EMAILS_SHOWN = 30


@dataclass
class Visit:
    appointment: Appointment
    prep_from: datetime | None = None
    short_prep: bool = False
    moves: int = 0
    change_refusal: str = ""
    move_refusal: str = ""


@dataclass
class Course:
    course: TreatmentCourse
    done: int
    planned: int
    next: NextSession | None
    sessions: list[Appointment] = field(default_factory=list)
    patch: str = ""  # the test patch step before the first session, read-only ("Test patch booked for ...")


def _appointments(patient: Patient):
    return Appointment.objects.filter(patient=patient).select_related("practitioner__user", "course__condition")


def visit(appointment: Appointment, *, moves: int, now: datetime) -> Visit:
    """A visit with what to do before it (the 14 days of sun-free prep, from when) and what the
    patient may change online."""
    treatment = appointment.kind == Appointment.Kind.TREATMENT
    return Visit(
        appointment,
        prep_from=timezone.localtime(prep_begins(appointment.start)) if treatment else None,
        short_prep=is_short_prep(kind=appointment.kind, start=appointment.start, now=now),
        moves=moves,
        change_refusal=change_refusal(appointment, now=now),
        move_refusal=move_refusal(appointment, moves=moves, now=now),
    )


def overview(patient: Patient, *, now: datetime | None = None) -> dict:
    """The patient's home page: upcoming visits (with their prep), past visits, each course's
    progress and next window, and the emails sent (subject and date)."""
    now = now or timezone.now()
    appointments = list(_appointments(patient).order_by("start", "pk"))
    number_sessions(appointments)  # every appointment of the patient is here: no query
    upcoming = [a for a in appointments if a.status in Appointment.UPCOMING_STATUSES and a.end > now]
    past = [a for a in appointments if a not in upcoming and a.start <= now]
    moves = moves_by_patient(patient, [a.pk for a in upcoming])
    courses = []
    shown = TreatmentCourse.objects.filter(patient=patient).exclude(status=TreatmentCourse.Status.PROPOSED)
    # The assessment's skin type decides a test patch (test_patch.needs_test_patch); it is not shown.
    shown = shown.select_related("condition").annotate(assessed_skin_type=F("assessment__skin_type"))
    for course in shown.order_by("-created_at", "-pk"):
        sessions = [a for a in appointments if a.course_id == course.pk and a.is_session]
        done = sum(a.status == Appointment.Status.COMPLETED for a in sessions)
        patches = [a for a in appointments if a.course_id == course.pk and a.kind == Appointment.Kind.TEST_PATCH]
        step = step_among(condition_requires=course.condition.test_patch_required,
                          skin_type=course.assessed_skin_type, patches=patches)  # fmt: skip
        shown_step = course.status in TreatmentCourse.BOOKABLE_STATUSES and (step.booked or not sessions)
        patch = step_words(step) if shown_step else ""
        courses.append(Course(course, done, course.planned_sessions, next_session(course, sessions, now=now), sessions,
                              patch))  # fmt: skip
    emails = Notification.objects.filter(patient=patient, status=Notification.Status.SENT).select_related(
        "appointment__practitioner__user"
    )
    return {
        "upcoming": [visit(a, moves=moves.get(a.pk, 0), now=now) for a in upcoming],
        "past": list(reversed(past))[:PAST_SHOWN],
        "courses": courses,
        "emails": [(subject_line(email), email.sent_at) for email in emails.order_by("-sent_at")[:EMAILS_SHOWN]],
    }


def own_appointment(patient: Patient, appointment_id: int) -> Appointment:
    """One of the patient's own appointments, or 404 (another patient's id looks like no id at all)."""
    appointment = _appointments(patient).filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404("No such visit.")
    return appointment


def own_course(patient: Patient, course_id: int) -> Course:
    """One of the patient's own approved courses with its sessions and next session, or 404."""
    course = (
        TreatmentCourse.objects.select_related("condition", "patient")
        .filter(patient=patient, pk=course_id)
        .exclude(status=TreatmentCourse.Status.PROPOSED)
        .first()
    )
    if course is None:
        raise Http404("No such course.")
    sessions = list(course.appointments.sessions().select_related("practitioner__user").order_by("start", "pk"))
    done = sum(a.status == Appointment.Status.COMPLETED for a in sessions)
    return Course(course, done, course.planned_sessions, next_session(course, sessions, now=timezone.now()), sessions)
