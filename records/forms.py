from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms

from clinic.forms import DatePickerInput
from clinical.services.sun_exposure import WHAT_MAX


class ErasureForm(forms.Form):
    """Erasure is for good: the manager types the record number to confirm and says why."""

    confirm = forms.IntegerField(label="Type the patient's record number to confirm")
    reason = forms.CharField(
        max_length=200,
        help_text="For the audit trail, e.g. the date of the patient's written request. No names, please.",
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "confirm", "reason", Submit("erase", "Erase personal details", css_class="btn-danger")
        )

    def clean_confirm(self):
        if self.cleaned_data["confirm"] != self.patient.pk:
            raise forms.ValidationError(f"That is not this patient's record number ({self.patient.pk}).")
        return self.cleaned_data["confirm"]


class SunExposureForm(forms.Form):
    """Planned sun exposure as the patient tells it; the rules are clinical.services.sun_exposure's."""

    what = forms.CharField(max_length=WHAT_MAX, help_text="A beach holiday, a ski trip.")
    first_day = forms.DateField(widget=DatePickerInput())
    last_day = forms.DateField(widget=DatePickerInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout("what", "first_day", "last_day", Submit("save", "Save"))
