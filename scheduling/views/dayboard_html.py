"""The day board's grid cells and cards, written as HTML here rather than in the template.

A full day is a thousand cells and a hundred cards; the template's per-variable look-ups, filters
and an include per card were most of the page's time (bench/scheduling.py, `--only day`). The
markup is the same the template wrote; every value is escaped (`html.escape`, `format_html`).
"""

from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper per call

from django.utils.safestring import SafeString, mark_safe

from scheduling.selectors import card_what, status_words


def column_html(column, *, by: str) -> SafeString:
    """One column's cells and then its cards (cards come after, so they sit above the cells)."""
    index = column.index
    parts = [_cell_html(cell, index) for cell in column.cells]
    parts += [card_html(card, index, by=by) for card in column.cards]
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703 # every value is escaped above


def _cell_html(cell, index: int) -> str:
    place = f"db-r{cell.row} db-c{index}"
    drop = cell.drop  # already HTML (format_html in dayboard.Column building)
    if cell.covered:
        return f'<div class="db-cell db-under {place}"{drop}></div>'
    label = escape(cell.label)
    if cell.href:
        return (
            f'<a class="db-cell db-free {place}" href="{escape(cell.href)}" title="Book {label}"{drop}>'
            f'<span class="visually-hidden">Book {label}</span></a>'
        )
    if cell.why:
        why = escape(cell.why)
        shown = "db-why" if cell.shown else "visually-hidden"
        return (
            f'<div class="db-cell db-off {place}" title="{label}: {why}"{drop}><span class="{shown}">'
            f'<span class="visually-hidden">{label}: </span>{why}</span></div>'
        )
    return f'<div class="db-cell db-off {place}"{drop}></div>'


def card_html(card, index: int, *, by: str) -> str:
    """An appointment's card: time, patient, course and session, status, flags, and where."""
    a = card.appointment
    movable = (
        f' draggable="true" data-appointment="{a.pk}" data-time="{escape(card.start)}" aria-keyshortcuts="m"'
        if card.movable
        else ""
    )
    flags = ""
    if a.check_in_flagged:
        flags += '<span class="badge text-bg-danger">Flagged</span>'
    if a.short_prep_acknowledged_at:
        flags += '<span class="badge text-bg-warning">Short prep</span>'
    what = escape(card_what(a))
    if by == "practitioner":
        where = escape(a.room.name) + (f" · {escape(a.device.name)}" if a.device_id else "")
    else:
        where = escape(str(a.practitioner))
    return (
        f'<a class="db-card {escape(card.css)} db-r{card.row} db-s{card.span} db-c{index}" href="{escape(card.href)}"'
        f"{movable}>\n"
        f'  <span class="db-when">{escape(card.start)}–{escape(card.end)}</span>\n'
        f"  <strong>{escape(a.patient.first_name)} {escape(a.patient.last_name)}</strong>\n"
        f"  {flags}<br>\n"
        f"  {what}\n"
        f"  · {escape(status_words(a.status, a.hold_expires_at))}<br>\n"
        f'  <span class="db-muted">{where}</span>\n'
        "</a>"
    )
