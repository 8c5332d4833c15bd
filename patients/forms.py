from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms

from patients import services
from patients.models import Patient


class PatientDetailsChecks:
    """The patient rules a form's phone and date of birth are refused by (`patients.services`), for
    every form that takes them: the staff's and the online booking page's."""

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        services.check_phone(phone)
        return phone

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        services.check_date_of_birth(born)
        return born


class PatientForm(PatientDetailsChecks, forms.ModelForm):
    """A patient's details. The rules are the service's; the form runs them early so that every
    mistake shows at once, and the view still shows whatever the service refuses."""

    # A text box rather than a date picker: staff type birth dates faster than they pick them, and
    # a mistyped date comes back exactly as typed (a date picker shows nothing for it).
    date_of_birth = forms.DateField(
        input_formats=services.DATE_INPUT_FORMATS,
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "DD/MM/YYYY", "autocomplete": "off"}),
        help_text="DD/MM/YYYY or YYYY-MM-DD.",
    )

    class Meta:
        model = Patient
        fields = list(services.EDITABLE_FIELDS)
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"email_consent": "Agrees to emails"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["skin_type"].choices = [("", "Not known yet"), *self.fields["skin_type"].choices[1:]]
        self.fields["skin_type"].label = "Fitzpatrick skin type"
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's own form also holds the duplicate warning's box
        self.helper.layout = Layout(
            Row(Column("first_name", css_class="col-md-6"), Column("last_name", css_class="col-md-6")),
            Row(Column("date_of_birth", css_class="col-md-4"), Column("skin_type", css_class="col-md-8")),
            Row(Column("email", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
            "email_consent",
            "notes",
            Submit("save", "Save patient"),
        )


class DuplicateConfirmForm(forms.Form):
    """Registering past the warning that someone like this is on file already."""

    not_a_duplicate = forms.BooleanField(
        required=False, label="This is a different person: register them anyway", widget=forms.CheckboxInput
    )
