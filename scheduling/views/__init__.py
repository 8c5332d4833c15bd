"""The staff pages of scheduling: the day board, the appointment page and booking.

Each view checks the role, validates its input with a form from `scheduling.forms`, calls one
scheduling service and renders or redirects; a service refusal becomes a message on the page.
"""

from django.contrib import messages

from scheduling.services import BookingConflict, SchedulingError


def refuse(request, error: SchedulingError) -> list:
    """Show a service refusal as a message; answer the conflicts of a clash, for the page to list."""
    messages.error(request, error.message)
    return error.conflicts if isinstance(error, BookingConflict) else []


def sun_override(error: SchedulingError, form) -> dict | None:
    """The posted slot again, for the page to offer booking or moving it anyway when planned sun
    exposure refused it (staff may, with the acknowledgement: `_sun_override.html`)."""
    return form.cleaned_data if error.field == "acknowledge_sun_exposure" else None
