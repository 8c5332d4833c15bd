"""A treatment session's place in its course, checked under the course's row lock: whether the
course takes bookings, has a planned session left and keeps its minimum interval, and the course's
status as its sessions are booked, done, cancelled or missed."""

from django.utils import formats, timezone

from clinic.errors import SchedulingError
from clinical.models import TreatmentCourse
from scheduling.models import Appointment

from .slots import course_sessions, days_apart


def check_course_bookable(course) -> None:
    if course.status == TreatmentCourse.Status.PROPOSED:
        raise SchedulingError(
            "This course has not been approved by a dermatologist yet, so its sessions cannot be booked.",
            field="course",
        )
    if course.status not in TreatmentCourse.BOOKABLE_STATUSES:
        raise SchedulingError(f"This course is {course.get_status_display().lower()}.", field="course")


def takes_another_session(course, *, held: int) -> bool:
    """Whether the course can book one more session with `held` booked or done: what the pages offer
    a booking by; `take_place_in_course` refuses by the same two facts under the course's lock."""
    return course.status in TreatmentCourse.BOOKABLE_STATUSES and held < course.planned_sessions


def take_place_in_course(appointment, *, check_spacing) -> None:
    """Lock the treatment's course and check that the session fits it.

    The course must still be bookable, with a planned session left, and (unless `check_spacing`
    is off) the session must keep the minimum interval from the others. The course's row lock is
    what keeps these checks true until the commit: every booking and move of a session of the
    course waits for it, after the resources' advisory locks, and reads the sessions only once it
    holds it, so it sees every session committed before. A cancellation or no-show only frees a
    place; it takes the lock after the session's row, to set the course's status (see
    `refresh_course`). The session's number is not written: it is counted when read (see
    scheduling.models).
    """
    course = appointment.course
    # The locked row, not the caller's copy, says whether the course can still be booked.
    status, planned, min_interval_days = (
        TreatmentCourse.objects.select_for_update().values_list("status", "planned_sessions", "min_interval_days")
    ).get(pk=course.pk)
    course.status = status
    check_course_bookable(course)
    # Read after the lock: under READ COMMITTED each statement sees what was committed before it.
    # Numbered as they stand, this session (if it is one already) at its old time.
    sessions = course_sessions(course).order_by("start", "pk").values_list("pk", "start")
    others = [(number, start) for number, (pk, start) in enumerate(sessions, 1) if pk != appointment.pk]
    if len(others) >= planned:
        raise SchedulingError(f"All {planned} planned sessions of this course are booked or done.", field="course")
    if check_spacing:
        for number, other_start in others:
            if days_apart(other_start, appointment.start) < min_interval_days:
                when = formats.date_format(timezone.localtime(other_start), "j M Y")
                raise SchedulingError(
                    f"Sessions of this course are at least {min_interval_days} days apart; session "
                    f"{number} is on {when}.",
                    field="start",
                )
    if status == TreatmentCourse.Status.APPROVED:  # its first booking makes the course active
        course.status = TreatmentCourse.Status.ACTIVE
        course.save(update_fields=["status"])  # saved, so the audit trail sees it


def refresh_course(course) -> None:
    """An approved course becomes active with its first booking and completed with its last session.

    Called after a session's status moved (its row is locked already); the course's row is locked
    next, as a booking locks it, so that the sessions read are the ones a booking racing this move
    committed, and the course's status cannot go back to approved under a session just booked.
    """
    if course.status not in TreatmentCourse.BOOKABLE_STATUSES:
        return
    course.status = TreatmentCourse.objects.select_for_update().values_list("status", flat=True).get(pk=course.pk)
    if course.status not in TreatmentCourse.BOOKABLE_STATUSES:
        return
    counts = course_sessions(course).values_list("status", flat=True)
    done = sum(status == Appointment.Status.COMPLETED for status in counts)
    status = TreatmentCourse.Status.ACTIVE if counts else TreatmentCourse.Status.APPROVED
    if done >= course.planned_sessions:
        status = TreatmentCourse.Status.COMPLETED
    if status != course.status:
        course.status = status
        course.save(update_fields=["status"])
