"""Every colour pair the boards use passes WCAG AA: 4.5:1 for text, 3:1 for a practitioner's stripe
against its header. The colours are read from the style sheets themselves (Bootstrap's variables
from the vendored Bootstrap), so changing one in the CSS to something too pale fails here."""

import re
from functools import cache
from pathlib import Path

import pytest

from catalogue.models import Practitioner

STATIC = Path(__file__).resolve().parent.parent / "static"
TEXT, NON_TEXT = 4.5, 3.0
STATUSES = ("booked", "confirmed", "checked_in", "completed")


@cache
def _rules() -> list[tuple[str, dict]]:
    """(selector, declarations) for every rule of our board style sheets, in order, a selector
    list split into its selectors; rules inside @media come in their place too."""
    rules = []
    for name in ("css/dayboard.css", "css/weekboard.css"):
        text = re.sub(r"/\*.*?\*/", "", (STATIC / name).read_text(), flags=re.S)
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
            declarations = dict(
                (prop.strip(), value.strip())
                for prop, _, value in (d.partition(":") for d in body.split(";") if ":" in d)
            )
            for selector in selectors.split(","):
                rules.append((" ".join(selector.split()), declarations))
    return rules


@cache
def _bootstrap_variables() -> dict:
    css = (STATIC / "vendor/bootstrap/bootstrap.min.css").read_text()
    light = re.search(r":root,\[data-bs-theme=light\]\{([^}]*)\}", css).group(1)
    return dict(re.findall(r"(--bs-[\w-]+):([^;]+)", light))


def declared(selector: str, prop: str) -> str:
    """The value the last rule for exactly `selector` gives `prop` (`background` also answers
    for `background-color`)."""
    values = [
        d[p] for s, d in _rules() if s == selector for p in (prop, f"{prop}-color") if p in d
    ]  # fmt: skip
    assert values, f"no {prop} for {selector} in the board style sheets"
    return values[-1]


def colours(value: str) -> list[tuple[float, float, float, float]]:
    """Every colour in a CSS value (a gradient has several), as (r, g, b, alpha)."""
    value = re.sub(r"var\((--bs-[\w-]+)\)", lambda m: _bootstrap_variables()[m.group(1)], value)
    found = []
    for match in re.finditer(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b|rgba?\(([^)]*)\)", value):
        if match.group(1):
            digits = match.group(1)
            if len(digits) == 3:
                digits = "".join(c * 2 for c in digits)
            found.append((*(int(digits[i : i + 2], 16) for i in (0, 2, 4)), 1.0))
        else:
            parts = [float(p) for p in re.split(r"[\s,/]+", match.group(2).strip()) if p]
            found.append((*parts[:3], parts[3] if len(parts) > 3 else 1.0))
    assert found, f"no colour in {value!r}"
    return found


def colour(value: str):
    (only,) = colours(value)
    return only


def _over(top, bottom):
    """`top` (perhaps translucent) painted over the opaque `bottom`."""
    alpha = top[3]
    return (*(alpha * t + (1 - alpha) * b for t, b in zip(top[:3], bottom[:3], strict=True)), 1.0)


def _luminance(rgb) -> float:
    def linear(channel):
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground, background) -> float:
    lighter, darker = sorted((_luminance(_over(foreground, background)), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_formula_gives_the_known_ratios():
    white, black = colour("#fff"), colour("#000")
    assert contrast(black, white) == pytest.approx(21)
    assert contrast(colour("#767676"), white) == pytest.approx(4.54, abs=0.01)
    # Bootstrap's secondary text, 75% of its body colour over white:
    assert contrast(colour("rgba(33, 37, 41, .75)"), white) == pytest.approx(6.76, abs=0.05)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("text", [".db-card", ".db-card .db-when", ".db-card .db-muted"])
def test_card_text_on_each_status_fill(status, text):
    fill = colour(declared(f".db-status-{status}", "background"))
    assert contrast(colour(declared(text, "color")), fill) >= TEXT


def test_booked_is_not_the_white_of_an_empty_cell():
    booked = colour(declared(".db-status-booked", "background"))
    for empty in (colour(declared(".wb-cell", "background")), colour(_bootstrap_variables()["--bs-body-bg"])):
        assert contrast(booked, empty) >= 1.2, "a booked card must stand out from an empty cell"
    others = [colour(declared(f".db-status-{s}", "background")) for s in STATUSES]
    assert len(set(others)) == len(STATUSES), "each status has a fill of its own"


def test_the_why_text_on_hatched_cells():
    why = colour(declared(".db-why", "color"))
    assert contrast(why, colour(declared(".db-why", "background"))) >= TEXT
    # Even where its own background would not cover the hatching, either stripe of it will do.
    for stripe in colours(declared(".db-off", "background")):
        assert contrast(why, stripe) >= TEXT


@pytest.mark.parametrize("text", [".wb-daylink", ".wb-off"])
def test_the_week_cells_words_on_their_own_background_and_the_hatching(text):
    ink = colour(declared(text, "color"))
    assert contrast(ink, colour(declared(text, "background"))) >= TEXT
    for stripe in colours(declared(".db-off", "background")):
        assert contrast(ink, stripe) >= TEXT


def test_header_text():
    for header in (".wb-corner", ".wb-day", ".wb-rowhead"):
        fill = colour(declared(header, "background"))
        assert contrast(colour(declared(header, "color")), fill) >= TEXT
    week_day_fill = colour(declared(".wb-day", "background"))
    assert contrast(colour(declared(".wb-day a", "color")), week_day_fill) >= TEXT
    assert contrast(colour(declared(".wb-closed", "color")), week_day_fill) >= TEXT
    # The day board's column headers: the body's colour on Bootstrap's tertiary background.
    day_fill = colour(declared(".db-head", "background"))
    assert contrast(colour(_bootstrap_variables()["--bs-body-color"]), day_fill) >= TEXT


def test_the_colour_key_text():
    assert contrast(colour(declared(".db-legend", "color")), colour(_bootstrap_variables()["--bs-body-bg"])) >= TEXT


@pytest.mark.parametrize("choice", Practitioner.Colour.values)
def test_each_practitioner_colour_has_a_stripe_that_stands_out_on_both_headers(choice):
    stripe = colour(declared(f".db-stripe.db-stripe-{choice}", "border-left"))
    for header in (".wb-rowhead", ".db-head"):
        assert contrast(stripe, colour(declared(header, "background"))) >= NON_TEXT
