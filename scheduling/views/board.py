"""What the boards' script asks of the server: moving a dropped card, and whether a board changed.

Both answer the script, not a person: the move answers JSON (the message to show, and on a
refusal the field it concerns); the "changed since" check answers 204 with no body while the
board's token still holds, and otherwise tells the page to fetch its board again.
"""

import logging
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.middleware import not_activity
from clinic.roles import ability_required
from scheduling.availability import day_bounds
from scheduling.forms import BoardChangesForm, BoardMoveForm
from scheduling.models import Appointment
from scheduling.selectors import board_token
from scheduling.services import (
    BookingConflict,
    IllegalTransition,
    PlanError,
    SchedulingError,
    appointment_reschedule,
    stays_in_place,
)

logger = logging.getLogger(__name__)

# What the page does when a board changed: an htmx event its script listens for.
CHANGED_EVENT = "board-changed"


def live_context(*, first_day: date, days: int, token: str) -> dict:
    """What a board's template needs to poll for changes (`scheduling/_board_live.html`): the URL
    that answers whether its days changed since `token` (`selectors.board_token` of its days, read
    before the board), and how often to ask."""
    query = urlencode({"from": first_day.isoformat(), "days": days, "token": token})
    return {
        "live_url": f"{reverse('scheduling:board_changes')}?{query}",
        "poll_seconds": settings.BOARD_POLL_SECONDS,
    }


@ability_required("book")
@require_POST
def appointment_move(request, pk):
    """Move a card dropped on a board through the reschedule service: 200 with the message, or
    the service's refusal with its message and field (409 for a clash or the appointment's state,
    400 for the rest), or 400 naming the input that could not be read."""
    appointment = get_object_or_404(Appointment.objects.select_related("patient"), pk=pk)
    form = BoardMoveForm(request.POST)
    if not form.is_valid():
        errors = {name: list(messages) for name, messages in form.errors.items()}
        field = next(iter(errors))
        return JsonResponse(
            {"ok": False, "field": field, "message": f"{field}: {errors[field][0]}", "errors": errors}, status=400
        )
    place = {name: form.cleaned_data[name] for name in ("start", "practitioner", "room", "device")}
    if stays_in_place(appointment, **place):
        return JsonResponse({"ok": True, "moved": False, "message": "The appointment is already there."})
    try:
        appointment_reschedule(
            appointment=appointment,
            acknowledge_short_prep=form.cleaned_data["acknowledge_short_prep"],
            acknowledge_sun_exposure=form.cleaned_data["acknowledge_sun_exposure"],
            by=request.user,
            **place,
        )
    except SchedulingError as error:
        refusal = {"ok": False, "field": error.field, "message": error.message}
        if isinstance(error, BookingConflict):
            refusal["conflicts"] = [{"resource": c.resource, "appointment": c.appointment_id} for c in error.conflicts]
        clash = isinstance(error, BookingConflict | IllegalTransition | PlanError)
        return JsonResponse(refusal, status=409 if clash else 400)
    logger.info("appointment %s moved from a board", appointment.pk)
    when = formats.date_format(timezone.localtime(appointment.start), "D j M Y H:i")
    where = ", ".join(str(r) for r in (appointment.room, appointment.device) if r is not None)
    message = f"Moved to {when} with {appointment.practitioner} ({where}). The patient will be asked to confirm again."
    return JsonResponse({"ok": True, "moved": True, "message": message})


@not_activity
@ability_required("view_schedule")
@require_GET
def board_changes(request):
    """Whether the appointments of the board's days (`from`, `days`) changed since its `token`:
    204 with no body if not; otherwise 204 with an `HX-Trigger` header that makes the page fetch
    its board again. One query of the page's own, however full the days."""
    form = BoardChangesForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"ok": False, "errors": form.errors}, status=400)
    first_day, days = form.cleaned_data["from"], form.cleaned_data["days"]
    tz = timezone.get_default_timezone()
    first = day_bounds(first_day, tz)[0]
    last = day_bounds(first_day + timedelta(days=days - 1), tz)[1]
    response = HttpResponse(status=204)
    if board_token(first=first, last=last) != form.cleaned_data["token"]:
        response["HX-Trigger"] = CHANGED_EVENT
    return response
