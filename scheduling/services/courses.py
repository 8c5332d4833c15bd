"""Cancelling a treatment course, with its sessions still to come."""

from django.db import transaction

from clinic.errors import IllegalTransition
from clinical.models import TreatmentCourse
from scheduling.models import Appointment

from . import guard
from .booking import appointment_cancel


@guard.retrying
def course_cancel(*, course: TreatmentCourse, reason: str = "") -> TreatmentCourse:
    """Stop a course and cancel its sessions still to come.

    In the order of locks (guard.py): the patient's advisory lock first, which every booking and
    move of the course's sessions takes too, so none is under way while the sessions are read; then
    their rows in id order; then the course's row, as each cancellation sets its status.
    """
    with transaction.atomic():
        guard.lock_resources(patients=[course.patient_id])
        course.status = TreatmentCourse.objects.values_list("status", flat=True).get(pk=course.pk)
        if course.status in (TreatmentCourse.Status.COMPLETED, TreatmentCourse.Status.CANCELLED):
            raise IllegalTransition(f"This course is already {course.get_status_display().lower()}.")
        upcoming = course.appointments.filter(status__in=(Appointment.Status.BOOKED, Appointment.Status.CONFIRMED))
        for appointment in upcoming.select_for_update().order_by("pk"):
            appointment_cancel(appointment=appointment, reason=reason or "Course cancelled")
        course.status = TreatmentCourse.Status.CANCELLED
        if reason:
            course.notes = f"{course.notes}\nCancelled: {reason}".strip()
        course.save(update_fields=["status", "notes"])
    return course
