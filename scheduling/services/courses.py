"""Cancelling a treatment course, with its sessions still to come."""

from django.db import transaction

from clinic.errors import IllegalTransition
from clinical.models import TreatmentCourse
from scheduling.models import Appointment

from .booking import appointment_cancel


def course_cancel(*, course: TreatmentCourse, reason: str = "") -> TreatmentCourse:
    """Stop a course and cancel its sessions still to come."""
    if course.status in (TreatmentCourse.Status.COMPLETED, TreatmentCourse.Status.CANCELLED):
        raise IllegalTransition(f"This course is already {course.get_status_display().lower()}.")
    with transaction.atomic():
        upcoming = course.appointments.filter(status__in=(Appointment.Status.BOOKED, Appointment.Status.CONFIRMED))
        for appointment in upcoming:
            appointment_cancel(appointment=appointment, reason=reason or "Course cancelled")
        course.status = TreatmentCourse.Status.CANCELLED
        if reason:
            course.notes = f"{course.notes}\nCancelled: {reason}".strip()
        course.save(update_fields=["status", "notes"])
    return course
