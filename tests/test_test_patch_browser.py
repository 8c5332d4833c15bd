"""The test patch in Chromium: reception books a course's patch from the course's booking page,
the dermatologist records its result once done, and the course's next step reads right; axe-core
finds no serious or critical violation on the pages on the way (the `page` fixture holds the
Content Security Policy)."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from scheduling.models import Appointment
from tests.browser import log_in, settle
from tests.conftest import MONDAY_MORNING
from tests.patch_helpers import require_patch
from tests.test_accessibility import AXE_OPTIONS, _blocking

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_reception_books_the_patch_and_the_dermatologist_records_its_result(
    live_server, page, clinic, receptionist, time_machine
):
    require_patch(clinic)
    time_machine.move_to(MONDAY_MORNING, tick=True)
    axe, found = Axe(), []

    def check(what):
        settle(page)
        found.extend(_blocking(axe.run(page, options=AXE_OPTIONS), what))

    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}/courses/{clinic.course.pk}/book/?date=2027-03-02")
    page.get_by_role("heading", name="Test patch first (15 minutes, with a laser): next free slots").wait_for()
    check("course booking page, patch due")
    page.locator("ul.list-group form").first.get_by_role("button", name="Book").click()
    page.get_by_test_id("patch-step").get_by_text("Test patch booked for Tue 2 Mar 2027 09:00").wait_for()
    patch = Appointment.objects.get(kind=Appointment.Kind.TEST_PATCH)
    assert patch.course == clinic.course and patch.device == clinic.device

    time_machine.move_to(patch.start + timedelta(minutes=20), tick=True)
    page.context.clear_cookies()
    log_in(page, live_server, "dr.derm")
    page.goto(f"{live_server.url}/appointments/{patch.pk}/")
    page.get_by_role("link", name="record the result").click()
    page.get_by_role("heading", name="Test patch result: Tattoo removal").wait_for()
    check("patch result form")
    page.get_by_label("No reaction").check()
    page.get_by_role("button", name="Record the result").click()
    page.get_by_text(
        "Test patch result recorded. Test patch result: no reaction, first session from Tue 9 Mar"
    ).wait_for()
    check("appointment page, result recorded")
    patch.refresh_from_db()
    assert (patch.patch_result, patch.patch_result_by) == ("no_reaction", clinic.practitioner)
    assert found == []
