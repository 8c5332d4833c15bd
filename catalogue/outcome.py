"""The outcome scales: how a session's and a course's result is scored, fitted to the condition.

Estimated clearance in percent (0 to 100) for tattoos and pigment; the 0-4 global aesthetic
improvement scale for acne scars and wrinkles. `score_error` is the one rule that says whether a
score fits a condition's scale: the session record's form and service, the API and the results
review all ask it.
"""

from clinic.errors import SchedulingError

from .models import Condition

Scale = Condition.OutcomeScale

# The improvement scale's points, each with its words.
IMPROVEMENT_WORDS = {
    0: "None",
    1: "Slight",
    2: "Moderate",
    3: "Marked",
    4: "Complete or near complete",
}
CLEARANCE_MAX = 100


def score_range(scale: str) -> tuple[int, int]:
    """The lowest and highest score of a scale."""
    return (0, CLEARANCE_MAX) if scale == Scale.CLEARANCE else (0, max(IMPROVEMENT_WORDS))


def score_error(scale: str, score) -> str | None:
    """What is wrong with `score` on `scale`, in words, or None when it fits (None is no score)."""
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, int):
        return "The outcome score is a whole number."
    low, high = score_range(scale)
    if low <= score <= high:
        return None
    if scale == Scale.CLEARANCE:
        return f"Estimated clearance is a percentage from {low} to {high}."
    return f"The improvement scale runs from {low} (none) to {high} (complete or near complete)."


def check_score(*, condition: Condition, score, field: str = "outcome_score") -> None:
    """Refuse a score that does not fit the condition's scale, on the field named."""
    error = score_error(condition.outcome_scale, score)
    if error:
        raise SchedulingError(error, field=field)


def score_words(scale: str, score) -> str:
    """A score as staff read it: "40 %" or "3 · Marked" ("" for no score)."""
    if score is None:
        return ""
    if scale == Scale.CLEARANCE:
        return f"{score} %"
    return f"{score} · {IMPROVEMENT_WORDS.get(score, '?')}"


def score_choices(scale: str) -> list[tuple[int, str]]:
    """The improvement scale's points for a select ("2 · Moderate"); a clearance is typed."""
    return [(point, score_words(scale, point)) for point in IMPROVEMENT_WORDS] if scale == Scale.IMPROVEMENT else []
