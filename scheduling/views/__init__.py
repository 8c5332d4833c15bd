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
