"""Helpers for the test patch tests: a course whose condition asks for a patch, booking a patch and
recording its result."""

from datetime import timedelta

from catalogue.models import Condition
from scheduling.services import appointment_book, test_patch


def require_patch(clinic):
    """The clinic's course with its condition asking for a test patch."""
    Condition.objects.filter(pk=clinic.course.condition_id).update(test_patch_required=True)
    clinic.course.condition.refresh_from_db()
    return clinic


def book_patch(clinic, start, **overrides):
    arguments = dict(
        patient=clinic.patient, kind="test_patch", course=clinic.course, start=start,
        practitioner=clinic.practitioner, room=clinic.room, device=clinic.device,
    )  # fmt: skip
    return appointment_book(**arguments | overrides)


def record(patch, result, dermatologist, time_machine):
    """The dermatologist records the patch's result 20 minutes after it began."""
    time_machine.move_to(patch.start + timedelta(minutes=20), tick=False)
    return test_patch.patch_result_record(appointment=patch, result=result, by=dermatologist)
