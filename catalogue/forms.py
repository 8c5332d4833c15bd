"""The form field of an outcome score, fitted to the condition's scale (catalogue.outcome)."""

from django import forms

from .models import Condition
from .outcome import IMPROVEMENT_WORDS, Scale, score_choices, score_error, score_range


def _checked(scale):
    def validate(value):
        # A select's validators see the choice as typed ("3"), before it is coerced to a number.
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        error = score_error(scale, value)
        if error:
            raise forms.ValidationError(error)

    return validate


def outcome_score_field(condition: Condition, *, required: bool, label: str, help_text: str = "") -> forms.Field:
    """A select of the 0-4 improvement scale with its words, or a percentage typed for clearance;
    either validated by `score_error`, the scale's one rule."""
    scale = condition.outcome_scale
    if scale == Scale.IMPROVEMENT:
        empty = [("", "Choose the improvement seen" if required else "Not scored")]
        return forms.TypedChoiceField(
            label=f"{label} (improvement, 0–4)",
            choices=empty + score_choices(scale),
            coerce=int,
            empty_value=None,
            required=required,
            validators=[_checked(scale)],
            help_text=help_text
            or "Global aesthetic improvement: "
            + "; ".join(f"{point} {words.lower()}" for point, words in IMPROVEMENT_WORDS.items())
            + ".",
            error_messages={"invalid_choice": "Choose a point of the improvement scale, 0 to 4."},
        )
    low, high = score_range(scale)
    return forms.IntegerField(
        label=f"{label} (estimated clearance, %)",
        required=required,
        validators=[_checked(scale)],
        # The bounds only hint the browser; the rule is `score_error`'s.
        widget=forms.NumberInput(attrs={"min": low, "max": high, "step": 1, "inputmode": "numeric"}),
        help_text=help_text or f"How much has cleared, in percent: {low} % none, {high} % all.",
        error_messages={"invalid": f"A whole percentage, {low} to {high}."},
    )
