"""What the forms of every room share."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm


def add_service_error(form: forms.Form, error) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


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
