"""Cancelling a treatment course, with its sessions still to come."""

from django.db import transaction
from django.utils import timezone

from clinic.errors import IllegalTransition
from clinical.models import TreatmentCourse
from scheduling import events
from scheduling.models import Appointment

from .booking import appointment_cancel


def course_cancel(*, course: TreatmentCourse, reason: str = "") -> TreatmentCourse:
    """Stop a course, cancel its sessions still to come and withdraw its prompts to book one.

    The status is read and changed under the course's row lock, as a booking reads it, so no session
    is booked into a course being cancelled and a course completed meanwhile stays completed. The
    sessions' rows are locked first, in the order a cancellation of one session takes them (its row,
    then the course's), so the two never wait for each other. The course is cancelled before its
    sessions are, so their cancellations plan no prompt for a next session."""
    upcoming = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)
    with transaction.atomic():
        list(course.appointments.filter(status__in=upcoming).order_by("pk").select_for_update().values_list("pk"))
        locked = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
        course.status = locked.status
        if course.status in (TreatmentCourse.Status.COMPLETED, TreatmentCourse.Status.CANCELLED):
            raise IllegalTransition(f"This course is already {course.get_status_display().lower()}.")
        course.status = TreatmentCourse.Status.CANCELLED
        course.notes = locked.notes
        if reason:
            course.notes = f"{course.notes}\nCancelled: {reason}".strip()
        course.save(update_fields=["status", "notes"])
        for appointment in course.appointments.filter(status__in=upcoming).order_by("start", "pk"):
            appointment_cancel(appointment=appointment, reason=reason or "Course cancelled")
        events.announce_course(course, events.COURSE_CANCELLED, now=timezone.now())
    return course
