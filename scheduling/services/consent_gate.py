"""Consent at check-in: a treatment session of a course is checked in only once the patient has
signed the current version of the course's condition's treatment consent.

This is the one place the rule lives; `booking.appointment_check_in` (the appointment page, the API)
asks it, and the appointment page asks it to offer the tablet. The course's first session needs the
signature; a later session needs it again only when the clinic has published a newer version since
(so a new wording asks again at the patient's next visit). A consultation or a review needs none,
and a condition the clinic wrote no consent text for has nothing to sign.
"""

from datetime import datetime

from clinic.errors import SchedulingError
from clinical.models import ConsentText
from clinical.services.consent import unsigned_treatment_text
from scheduling.models import Appointment

WHAT_TO_DO = "Ask the patient to sign the consent on the tablet, then check them in."


def check_in_consent_missing(appointment: Appointment, *, now: datetime | None = None) -> ConsentText | None:
    """The treatment consent the patient must sign before this appointment is checked in, or None."""
    if appointment.kind != Appointment.Kind.TREATMENT or not appointment.course_id:
        return None
    return unsigned_treatment_text(patient=appointment.patient, condition=appointment.course.condition, now=now)


def require_check_in_consent(appointment: Appointment, *, now: datetime | None = None) -> None:
    """Refuse the check-in, saying what to do, while the current treatment consent is unsigned."""
    missing = check_in_consent_missing(appointment, now=now)
    if missing is not None:
        raise SchedulingError(
            f"{appointment.patient.full_name} has not signed “{missing.title}” (version {missing.version}), "
            f"which this treatment needs. {WHAT_TO_DO}",
            field="consent",
        )
