"""An appointment's status moves (confirm, check in, complete, no-show, cancel): which statuses
each may leave, made as one locked step. The booking services call it after their own rules."""

from django.db import transaction

from clinic.errors import IllegalTransition
from scheduling.models import Appointment

LEGAL_MOVES = {
    "confirm": (Appointment.Status.BOOKED,),
    "check_in": (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED),
    "complete": (Appointment.Status.CHECKED_IN,),
    "no_show": (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED),
    # A checked-in session can still be called off: the dermatologist defers it after the re-screen.
    "cancel": (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED, Appointment.Status.CHECKED_IN),
}


def status_move(appointment, move: str, status: str, *, reason: str = "") -> Appointment:
    """Change the status if the row is still in a state that allows `move`, as one locked step."""
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if current.status not in LEGAL_MOVES[move]:
            label = move.replace("_", "-")
            raise IllegalTransition(f"A {current.get_status_display().lower()} appointment cannot be {_PAST[label]}.")
        current.status = status
        fields = ["status", "updated_at"]
        if move == "cancel":
            current.cancel_reason = reason
            current.version += 1
            fields += ["cancel_reason", "version"]
        current.save(update_fields=fields)
    appointment.refresh_from_db()
    return appointment


_PAST = {
    "confirm": "confirmed",
    "check-in": "checked in",
    "complete": "completed",
    "no-show": "marked a no-show",
    "cancel": "cancelled",
}
