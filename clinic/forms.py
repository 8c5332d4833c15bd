"""What the forms of every room share."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm


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


class _UsernameFits:
    """A username longer than any user's is a wrong login, refused before authenticating: the login
    lockout (django-axes) would otherwise try to store it in its 255-character column and fail.
    Django's form sets the field's max_length after the field is built, so it checks nothing."""

    def clean_username(self):
        username = self.cleaned_data["username"]
        if len(username) > (self.username_field.max_length or 150):
            raise self.get_invalid_login_error()
        return username


class LoginForm(_UsernameFits, AuthenticationForm):
    pass


class AdminLoginForm(_UsernameFits, AdminAuthenticationForm):
    pass
