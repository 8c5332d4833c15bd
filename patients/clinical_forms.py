"""The dermatologist's assessment form: the consultation's outcome as the service takes it."""

from django import forms

from patients.models import Condition, Contraindication, SkinType


class AssessmentForm(forms.Form):
    skin_type = forms.TypedChoiceField(
        label="Fitzpatrick skin type",
        choices=[("", "Choose a skin type")] + SkinType.choices,
        coerce=int,
        error_messages={"required": "Choose the patient's skin type."},
    )
    conditions = forms.ModelMultipleChoiceField(
        label="Conditions found",
        queryset=Condition.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    contraindications = forms.MultipleChoiceField(
        choices=Contraindication.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Any of these blocks proposing a course until a new assessment finds it resolved.",
    )
    candidate = forms.TypedChoiceField(
        label="Good candidate for pico-laser treatment?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the patient is a good candidate."},
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
