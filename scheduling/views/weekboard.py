"""The week board: a row per practitioner (room, laser), a column per day the clinic opens.

What the page shows is read by `scheduling.selectors.week_board`, in a fixed number of queries."""

from datetime import date, timedelta

from django.shortcuts import redirect, render
from django.utils import timezone

from clinic.roles import ability_required, can
from scheduling.availability import day_bounds
from scheduling.forms import DayBoardForm
from scheduling.selectors import board_token, week_monday
from scheduling.selectors import week_board as read_week_board
from scheduling.views.board import live_context
from scheduling.views.boardlinks import appointment_links, board_query, day_url, week_url
from scheduling.views.weekboard_html import row_cells_html


@ability_required("view_schedule")
def week_board(request, day: date | None = None):
    query = board_query(request)
    by = query["by"]
    today = timezone.localdate()
    if day is None:
        if query.get("date"):
            return redirect(week_url(query["date"], by))
        day = today
    monday, zone = week_monday(day), timezone.get_default_timezone()
    first, last = day_bounds(monday, zone)[0], day_bounds(monday + timedelta(days=6), zone)[1]
    token = board_token(first=first, last=last)  # read before the board, as the day board does
    board = read_week_board(day=day, by=by, can_book=can(request.user, "book"))
    for week_day in board.days:
        week_day.url = day_url(week_day.day, by)
    shown = [d.day for d in board.days]
    # The day a phone shows first: the one asked for, else today, else the week's first open day.
    chosen = next((d for d in (day, today) if d in shown), shown[0] if shown else day)
    appointment_url = appointment_links()
    for row in board.rows:
        for cell in row.cells:
            for card in cell.cards:
                card.href = appointment_url(card.pk)
        row.html = row_cells_html(row, by=by, chosen=chosen)
    context = {
        "board": board,
        "day": day,
        "chosen": chosen,
        "sunday": board.monday + timedelta(days=6),
        **live_context(first_day=monday, days=7, token=token),
        "by": by,
        "form": DayBoardForm(initial={"date": day, "by": by}),
        "previous_url": week_url(board.monday - timedelta(days=7), by),
        "next_url": week_url(board.monday + timedelta(days=7), by),
        "today_url": week_url(today, by),
        "day_url": day_url(chosen, by),
        "choose_urls": [(d, week_url(d, by)) for d in shown],
        "views": [(value, label, week_url(day, value)) for value, label in DayBoardForm.BY_CHOICES],
        "this_week": week_monday(today) == board.monday,
    }
    return render(request, "scheduling/week_board.html", context)
