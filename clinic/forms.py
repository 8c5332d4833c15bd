"""What the forms of every room share."""

from django import forms


def add_service_error(form: forms.Form, error) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)
