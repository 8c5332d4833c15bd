"""The week board's cells and cards, written as HTML here rather than in the template.

A full week is some 140 cells and 800 cards; the template's per-variable look-ups and escaping were
a third of the page's time (bench/scheduling.py, `--only week`), as the day board's were
(`dayboard_html`). The markup is the same the template wrote; every value is escaped.
"""

from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper per call

from django.utils.safestring import SafeString, mark_safe


def row_cells_html(row, *, by: str, chosen) -> SafeString:
    """A row's cells, each with its day link, time off and cards."""
    label, pk = escape(row.label), int(row.pk)
    # A name from the form's choices and an id: nothing to escape in the drop target.
    drop_resource = f"data-drop-{escape(by)}"
    parts = []
    for cell in row.cells:
        day = cell.day
        css = "wb-cell"
        if day.day == chosen:
            css += " wb-chosen"
        if day.closure or (by == "practitioner" and not cell.working):
            css += " db-off"
        if day.closure:
            says = "Closed"
        elif by != "practitioner":
            says = "Day board"
        elif cell.working:
            says = ", ".join(escape(hours) for hours in cell.hours)
        else:
            says = "Not working"
        parts.append(
            f'<td class="{css}" data-drop-day="{day.iso}" {drop_resource}="{pk}">\n'
            f'          <a class="wb-daylink" href="{escape(day.url)}">{says}'
            f'<span class="visually-hidden">: {label}, {escape(day.long)}</span></a>\n'
            "          "
        )
        parts.extend(f'<span class="wb-off">{escape(off)}</span>' for off in cell.time_off)
        parts.append("\n          ")
        parts.extend(map(card_html, cell.cards))
        parts.append("\n        </td>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703 # every value is escaped above


def card_html(card) -> str:
    """A compact card: start, patient, flags, course and session, status."""
    time = escape(card.time)
    movable = f' data-appointment="{int(card.pk)}" data-time="{time}"' if card.movable else ""
    flags = ' <span class="badge text-bg-danger">Flagged</span>' if card.flagged else ""
    if card.short_prep:
        flags += ' <span class="badge text-bg-warning">Short prep</span>'
    return (
        f'<a class="db-card wb-card {escape(card.css)}" href="{escape(card.href)}"{movable}>'
        f'<span class="db-when">{time}</span> <strong>{escape(card.patient)}</strong>{flags}'
        f"<br>{escape(card.what)} · {escape(card.status)}</a>"
    )
