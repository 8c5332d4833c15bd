"""What the forms of every room share."""

from django import forms


def add_service_error(form: forms.Form, error) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class DatePickerInput(forms.DateInput):
    """A browser's date picker (`<input type=date>`). It takes only an ISO date (2026-12-15) and
    shows nothing for the locale's 15/12/2026, so the value is always written in ISO. A date typed
    in another format its field accepts (an old link, a browser without a picker) is written as the
    date it stands for; one that cannot be read stays as typed beside its error."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")

    def format_value(self, value):
        if isinstance(value, str) and value.strip():
            try:
                value = forms.DateField().to_python(value)
            except forms.ValidationError:
                return value
        return super().format_value(value)
