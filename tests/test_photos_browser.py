"""Photos in Chromium: a dermatologist adds before and after photos on two sessions from the
session record page, then compares them on the course's photo page (the toggle between two sessions
is radios and CSS only); the Content Security Policy holds and axe-core finds nothing serious."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from photos.models import SessionPhoto
from scheduling.models import Appointment
from tests.browser import log_in
from tests.conftest import MONDAY_MORNING, local
from tests.factories import AppointmentFactory, SessionRecordFactory
from tests.photo_helpers import (
    give_photo_consent,
    jpeg_with_gps,
    photo_storage,  # noqa: F401 - fixture
    png,
)
from tests.test_accessibility import AXE_OPTIONS, _blocking

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("photo_storage"),
]


def add_photos(page, live_server, appointment, phase, files):
    page.goto(f"{live_server.url}/clinical/appointments/{appointment.pk}/record/")
    page.click("text=Before and after photos")
    page.wait_for_selector("h1:has-text('Photos of session')")
    page.check(f"input[name=phase][value={phase}]")
    page.set_input_files("input[name=view_front]", files)
    page.click("button:has-text('Add photos')")
    page.wait_for_selector(f"text={len(files)} photo")


def test_photos_added_on_two_sessions_are_compared_side_by_side(live_server, page, clinic, time_machine, tmp_path):
    time_machine.move_to(MONDAY_MORNING + timedelta(hours=1), tick=True)
    give_photo_consent(clinic.patient)
    treatment = dict(
        kind=Appointment.Kind.TREATMENT, patient=clinic.patient, course=clinic.course, practitioner=clinic.practitioner,
        room=clinic.room, device=clinic.device,
    )  # fmt: skip
    first = AppointmentFactory(**treatment, start=local(1, 10) - timedelta(days=49), status="completed")
    SessionRecordFactory(appointment=first, wavelength_nm=1064)
    second = AppointmentFactory(**treatment, start=local(1, 9), status="checked_in")
    files = []
    for name, data in (("front-1.jpg", jpeg_with_gps()), ("front-2.jpg", jpeg_with_gps(orientation=6))):
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    (tmp_path / "after.png").write_bytes(png())
    log_in(page, live_server, "dr.derm")
    add_photos(page, live_server, first, "before", files)
    add_photos(page, live_server, second, "after", [str(tmp_path / "after.png")])
    assert page.locator("img.photo-thumb").count() == 1
    loaded(page, "img.photo-thumb")  # served through the view
    assert SessionPhoto.objects.count() == 3

    page.click("text=Compare the course's photos")
    page.wait_for_selector("h1:has-text('front photos across the course')")
    assert page.locator(".photo-columns > li").count() == 2
    assert page.locator(".photo-columns img").count() == 3
    assert page.locator(".photo-columns").inner_text().count("1064 nm") == 1
    first_pane, second_pane = page.locator(".pane-first"), page.locator(".pane-second")
    assert first_pane.is_visible() and not second_pane.is_visible()
    page.click("label[for=show-second]")
    assert second_pane.is_visible() and not first_pane.is_visible()
    loaded(page, ".pane-second img")
    found = _blocking(Axe().run(page, options=AXE_OPTIONS), "course photos")

    page.goto(f"{live_server.url}/clinical/appointments/{second.pk}/photos/")
    loaded(page, "img.photo-thumb")
    found += _blocking(Axe().run(page, options=AXE_OPTIONS), "session photos, one to remove")
    page.click("summary:has-text('Remove this photo')")
    page.fill("input[name=reason]", "Blurred, taken again")
    page.click("button:has-text('Remove')")
    page.wait_for_selector("text=Removed: after, front.")
    assert page.locator("img.photo-thumb").count() == 0 and SessionPhoto.objects.count() == 2
    assert found == []


def loaded(page, selector):
    """Wait until the image has loaded with pixels (a busy machine serves it after the page); a
    broken one times out with the selector named."""
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }",
        arg=selector,
        timeout=15_000,
    )
