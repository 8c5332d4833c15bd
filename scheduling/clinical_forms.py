"""Forms of the dermatologist's pages: proposing or changing a course, and recording a session."""

from decimal import Decimal

from django import forms

from scheduling.models import SessionRecord, TreatmentArea
from scheduling.services.courses import MAX_INTERVAL_DAYS, MAX_SESSIONS


def add_service_error(form: forms.Form, error) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class CoursePlanForm(forms.Form):
    """A course's plan: how many sessions, how far apart, which areas."""

    planned_sessions = forms.IntegerField(min_value=1, max_value=MAX_SESSIONS)
    min_interval_days = forms.IntegerField(label="Minimum interval (days)", min_value=1, max_value=MAX_INTERVAL_DAYS)
    max_interval_days = forms.IntegerField(label="Maximum interval (days)", min_value=1, max_value=MAX_INTERVAL_DAYS)
    areas = forms.ModelMultipleChoiceField(
        label="Treatment areas",
        queryset=TreatmentArea.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one treatment area."},
    )

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_interval_days"), cleaned.get("max_interval_days")
        if low is not None and high is not None and high < low:
            self.add_error("max_interval_days", "The maximum interval cannot be shorter than the minimum.")
        return cleaned


class CourseProposalForm(CoursePlanForm):
    field_order = ["condition", "planned_sessions", "min_interval_days", "max_interval_days", "areas", "notes"]

    condition = forms.ModelChoiceField(queryset=None, empty_label=None, widget=forms.HiddenInput)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, conditions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition"].queryset = conditions


class SessionRecordForm(forms.Form):
    wavelength_nm = forms.IntegerField(
        label="Wavelength (nm)",
        min_value=300,
        max_value=2000,
        error_messages={
            "min_value": "A wavelength between 300 and 2000 nm, please.",
            "max_value": "A wavelength between 300 and 2000 nm, please.",
        },
    )
    fluence_j_cm2 = forms.DecimalField(
        label="Fluence (J/cm²)",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"min_value": "The fluence must be more than 0 J/cm²."},
    )
    spot_size_mm = forms.DecimalField(
        label="Spot size (mm)",
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0.1"),
        error_messages={"min_value": "The spot size must be more than 0 mm."},
    )
    pulses = forms.IntegerField(min_value=1, max_value=1_000_000, error_messages={"min_value": "At least one pulse."})
    area = forms.ModelChoiceField(queryset=None, required=False, empty_label="Not recorded")
    skin_reaction = forms.ChoiceField(choices=[("", "Choose the reaction seen")] + SessionRecord.Reaction.choices)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = course.areas.all()
