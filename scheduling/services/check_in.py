"""The re-screen at check-in: the questions the desk asks before a treatment, and what the answers
flag for the dermatologist. The appointment page and the API ask the same questions, under the same
names, and turn the answers into flags here; `appointment_check_in(flags=...)` keeps them."""

from collections.abc import Mapping

from scheduling.models import Appointment

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
