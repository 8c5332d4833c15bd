from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms


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
