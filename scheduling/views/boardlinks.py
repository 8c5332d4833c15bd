"""Links between the boards, to an appointment from a card, and the boards' query, shared by the
day and week boards."""

from collections.abc import Callable
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.urls import reverse

from scheduling.forms import DayBoardForm
from scheduling.models import Appointment


def week_url(day: date, by: str) -> str:
    """The week board of the week holding `day`, in rows `by` (`day` is the day a phone shows)."""
    return _with_by(reverse("scheduling:week_board_date", kwargs={"day": day}), by)


def day_url(day: date, by: str, offer: dict | None = None) -> str:
    """The day board of `day` in columns `by`, offering free cells for `offer` (kind, condition)."""
    query = {"by": by} if by != "practitioner" else {}
    offer = offer or {}
    if offer.get("kind", Appointment.Kind.CONSULTATION) != Appointment.Kind.CONSULTATION:
        if by != "device":  # the lasers' board is always a treatment's
            query["kind"] = offer["kind"]
        if offer.get("condition"):
            query["condition"] = offer["condition"]
    url = reverse("scheduling:day_board_date", kwargs={"day": day})
    return f"{url}?{urlencode(query)}" if query else url


def appointment_links() -> Callable[[int], str]:
    """pk -> the appointment's page. reverse() once, not per card: a full week's 800 calls cost
    more than the rest of the page's Python."""
    before, after = reverse("scheduling:appointment", kwargs={"pk": 0}).rsplit("0", 1)
    return lambda pk: f"{before}{pk}{after}"


def _with_by(url: str, by: str) -> str:
    return f"{url}?{urlencode({'by': by})}" if by != "practitioner" else url


def board_query(request) -> dict:
    """The board's query (`date`, `by`, `kind`, `condition`) as `DayBoardForm` reads it: a wrong
    value is said in a message and falls back to its default."""
    form = DayBoardForm(request.GET)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return {"by": "practitioner", "kind": Appointment.Kind.CONSULTATION} | form.cleaned_data
