"""A course's outcome score over its sessions, drawn on the server as SVG.

No chart library and nothing inline the Content Security Policy would refuse: the drawing uses SVG
presentation attributes (stroke, fill, font-size) and classes, never a style attribute or a script.
ElementTree writes it, so every text is escaped and the result is well-formed XML. The page's
table of sessions is its text equivalent; the SVG has its own title and description too.
"""

import xml.etree.ElementTree as ET  # nosec B405 # builds the chart's SVG, never parses input
from dataclasses import dataclass
from datetime import date

from django.utils import formats
from django.utils.safestring import SafeString, mark_safe

from catalogue.outcome import IMPROVEMENT_WORDS, Scale, score_range, score_words

WIDTH, HEIGHT = 640, 300
TOP, RIGHT, BOTTOM = 20, 24, 64
LINE = "#0b5ed7"  # Bootstrap's primary, darkened: 4.5:1 and more on white
AXIS, GRID, INK = "#495057", "#dee2e6", "#212529"


@dataclass(frozen=True)
class ChartPoint:
    number: int  # the session's number in the course
    day: date
    score: int | None  # None: not scored (a first session)


def _left(scale: str) -> int:
    return 120 if scale == Scale.IMPROVEMENT else 56


def _ticks(scale: str) -> list[tuple[int, str]]:
    if scale == Scale.IMPROVEMENT:
        return [(point, f"{point} {words.split()[0]}") for point, words in IMPROVEMENT_WORDS.items()]
    return [(value, f"{value} %") for value in range(0, 101, 25)]


def _axis_title(scale: str) -> str:
    return "Improvement (0 none to 4 complete)" if scale == Scale.IMPROVEMENT else "Estimated clearance (%)"


def positions(points: list[ChartPoint], scale: str) -> list[tuple[float, float]]:
    """Where each scored session's point falls, in drawing units, left to right."""
    left = _left(scale)
    low, high = score_range(scale)
    slots = max(len(points), 1)
    step = (WIDTH - left - RIGHT) / slots
    plot = HEIGHT - TOP - BOTTOM
    return [
        (round(left + step * (index + 0.5), 1), round(TOP + plot * (high - point.score) / (high - low), 1))
        for index, point in enumerate(points)
        if point.score is not None
    ]


def _sub(parent, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, {key.rstrip("_").replace("_", "-"): str(v) for key, v in attributes.items()})
    if text is not None:
        element.text = text
    return element


def _day(day: date) -> str:
    return formats.date_format(day, "j M")


def outcome_chart(points: list[ChartPoint], *, scale: str, title: str, chart_id: str = "outcome-chart") -> SafeString:
    """The SVG of the scores in `points` (the course's sessions in order) on `scale`."""
    left = _left(scale)
    low, high = score_range(scale)
    plot_bottom = HEIGHT - BOTTOM
    scored = [point for point in points if point.score is not None]
    if scored:
        summary = "; ".join(f"session {p.number} ({_day(p.day)}): {score_words(scale, p.score)}" for p in scored)
        description = f"{_axis_title(scale)} by session. {summary}."
    else:
        description = "No outcome score has been recorded for this course's sessions yet."
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "class": "outcome-chart",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "id": chart_id,
        },
    )
    _sub(svg, "title", title, id=f"{chart_id}-title")
    _sub(svg, "desc", description, id=f"{chart_id}-desc")
    grid = _sub(svg, "g", class_="outcome-chart-grid", font_size=12, fill=INK)
    for value, label in _ticks(scale):
        y = round(TOP + (plot_bottom - TOP) * (high - value) / (high - low), 1)
        _sub(grid, "line", x1=left, x2=WIDTH - RIGHT, y1=y, y2=y, stroke=GRID)
        _sub(grid, "text", label, x=left - 8, y=y + 4, text_anchor="end")
    _sub(
        grid, "text", _axis_title(scale), x=12, y=(TOP + plot_bottom) / 2, text_anchor="middle",
        transform=f"rotate(-90 12 {(TOP + plot_bottom) / 2})",
    )  # fmt: skip
    axes = _sub(svg, "g", class_="outcome-chart-axes", stroke=AXIS, stroke_width=1)
    _sub(axes, "line", x1=left, x2=left, y1=TOP, y2=plot_bottom)
    _sub(axes, "line", x1=left, x2=WIDTH - RIGHT, y1=plot_bottom, y2=plot_bottom)
    labels = _sub(svg, "g", class_="outcome-chart-sessions", font_size=12, fill=INK, text_anchor="middle")
    step = (WIDTH - left - RIGHT) / max(len(points), 1)
    for index, point in enumerate(points):
        x = round(left + step * (index + 0.5), 1)
        _sub(labels, "text", str(point.number), x=x, y=plot_bottom + 16)
        _sub(labels, "text", _day(point.day), x=x, y=plot_bottom + 30, fill=AXIS)
    _sub(labels, "text", "Session", x=(left + WIDTH - RIGHT) / 2, y=HEIGHT - 8)
    where = positions(points, scale)
    if where:
        joined = " ".join(f"{x},{y}" for x, y in where)
        _sub(svg, "polyline", class_="outcome-chart-line", points=joined, fill="none", stroke=LINE, stroke_width=2.5)
        marks = _sub(svg, "g", class_="outcome-chart-points", fill=LINE)
        for (x, y), point in zip(where, scored, strict=True):
            circle = _sub(marks, "circle", cx=x, cy=y, r=5)
            _sub(circle, "title", f"Session {point.number}, {_day(point.day)}: {score_words(scale, point.score)}")
    else:
        _sub(
            svg, "text", "No outcome scores recorded yet", x=(left + WIDTH - RIGHT) / 2, y=(TOP + plot_bottom) / 2,
            text_anchor="middle", font_size=14, fill=AXIS, class_="outcome-chart-empty",
        )  # fmt: skip
    return mark_safe(ET.tostring(svg, encoding="unicode"))  # noqa: S308  # nosec B308 B703 # ElementTree escaped every text
