"""The re-screen at check-in: the questions the desk asks before a treatment, and what the answers
flag for the dermatologist. The appointment page and the API ask the same questions, under the same
names, and turn the answers into flags here; `appointment_check_in(flags=...)` keeps them."""

from collections.abc import Mapping

from clinic.errors import IllegalTransition
from scheduling.models import Appointment

from .booking import appointment_cancel

# The prep checklist: ticked when the patient confirms it. Sun is the one that flags the session.
SUN = "no_sun"
PREP_CHECKLIST = {
    SUN: "No sun or tanning beds in the last two weeks",
    "no_peels_or_waxing": "No chemical peels or waxing",
    "clean_skin": "Clean skin: no make-up or creams",
    "eyewear": "Protective eyewear provided",
}
# Contraindications that may have arisen since the assessment: ticked when the patient reports one.
NEW_CONTRAINDICATIONS = {
    "new_medication": "New medication (e.g. photosensitising)",
    "pregnancy": "Pregnancy or breastfeeding",
    "recent_tan": "Recent tan",
    "skin_infection": "Skin infection in the area",
}
QUESTIONS = PREP_CHECKLIST | NEW_CONTRAINDICATIONS

SUN_NOT_RULED_OUT = "sun or tanning beds in the last two weeks not ruled out"


def check_in_flags(*, kind: str, answers: Mapping[str, bool]) -> list[str]:
    """What the dermatologist should look at before treating: sun exposure not ruled out (its box
    left unticked), and each new contraindication reported. A question not answered counts as an
    unticked box. Only a treatment is flagged; a consultation or review has no laser to hold back."""
    if kind != Appointment.Kind.TREATMENT:
        return []
    flags = [] if answers.get(SUN) else [SUN_NOT_RULED_OUT]
    flags += [label.lower() for name, label in NEW_CONTRAINDICATIONS.items() if answers.get(name)]
    return flags


def unconfirmed_prep(*, kind: str, answers: Mapping[str, bool]) -> list[str]:
    """The rest of a treatment's prep checklist not confirmed at the desk (no flag, a reminder)."""
    if kind != Appointment.Kind.TREATMENT:
        return []
    return [label for name, label in PREP_CHECKLIST.items() if name != SUN and not answers.get(name)]


DEFER_REASON = "Not treated: deferred after the check-in re-screen"


def defer_blocker(appointment: Appointment) -> str | None:
    """Why the session cannot be deferred, or None: only a checked-in treatment of a course is."""
    if appointment.kind != Appointment.Kind.TREATMENT or not appointment.course_id:
        return f"Only a treatment session is deferred; a {appointment.get_kind_display().lower()} is cancelled instead."
    if appointment.status != Appointment.Status.CHECKED_IN:
        return f"A session is deferred after its check-in; this one is {appointment.get_status_display().lower()}."
    return None


def appointment_defer(*, appointment: Appointment) -> Appointment:
    """The dermatologist does not treat a checked-in session today: it is called off, and the rest of
    its course is re-planned. Anything but a checked-in treatment is refused before anything changes
    (a consultation or review is cancelled, not deferred)."""
    blocker = defer_blocker(appointment)
    if blocker:
        raise IllegalTransition(blocker)
    # No lock is needed for the check: a checked-in session only moves on to completed or cancelled,
    # and the cancellation's own locked step refuses both.
    return appointment_cancel(appointment=appointment, reason=DEFER_REASON)
