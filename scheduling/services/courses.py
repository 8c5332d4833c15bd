"""Cancelling a treatment course, with its sessions still to come."""

from django.db import transaction
from django.utils import timezone

from clinic.errors import IllegalTransition
from clinical.models import TreatmentCourse
from scheduling import events
from scheduling.models import Appointment

from . import guard
from .booking import appointment_cancel


@guard.retrying
def course_cancel(*, course: TreatmentCourse, reason: str = "") -> TreatmentCourse:
    """Stop a course, cancel its sessions still to come and withdraw its prompts to book one.

    In the order of locks (guard.py): the patient's advisory lock first, which every booking and
    move of the course's sessions takes too, so none is under way while the sessions are read; then
    their rows in id order; then the course's row, whose status is read under that lock, so no
    session is booked into a course being cancelled and a course completed meanwhile stays
    completed. The course is cancelled before its sessions are, so their cancellations plan no
    prompt for a next session."""
    upcoming = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)
    with transaction.atomic():
        guard.lock_resources(patients=[course.patient_id])
        sessions = list(course.appointments.filter(status__in=upcoming).order_by("pk").select_for_update())
        locked = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
        course.status = locked.status
        if course.status in (TreatmentCourse.Status.COMPLETED, TreatmentCourse.Status.CANCELLED):
            raise IllegalTransition(f"This course is already {course.get_status_display().lower()}.")
        course.status = TreatmentCourse.Status.CANCELLED
        course.notes = locked.notes
        if reason:
            course.notes = f"{course.notes}\nCancelled: {reason}".strip()
        course.save(update_fields=["status", "notes"])
        for appointment in sorted(sessions, key=lambda session: (session.start, session.pk)):
            appointment_cancel(appointment=appointment, reason=reason or "Course cancelled")
        events.announce_course(course, events.COURSE_CANCELLED, now=timezone.now())
    return course
