"""The skin check answered on a phone: Chromium at 390 px, the page's Content Security Policy kept
(the `page` fixture fails on any report), axe-core finding nothing serious, and the answer the link
stood for changed on the page before it is sent."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from aftercare.links import answer_token
from aftercare.models import SkinCheck
from scheduling.models import Appointment
from tests.factories import AppointmentFactory, SessionRecordFactory
from tests.test_accessibility import AXE_OPTIONS, _blocking

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_patient_changes_the_chosen_answer_adds_words_and_sends_it_on_a_phone(live_server, page, clinic):
    session = AppointmentFactory(
        kind="treatment", patient=clinic.patient, course=clinic.course, practitioner=clinic.practitioner,
        room=clinic.room, device=clinic.device, start=timezone.now() - timedelta(days=2),
        status=Appointment.Status.COMPLETED,
    )  # fmt: skip
    SessionRecordFactory(appointment=session)
    page.set_viewport_size({"width": 390, "height": 844})
    axe, found = Axe(), []

    page.goto(f"{live_server.url}/p/skin/{answer_token(session, 'red')}/")
    page.wait_for_selector("h1:has-text('How is your skin?')")
    found += _blocking(axe.run(page, options=AXE_OPTIONS), "answer page")
    assert page.is_checked("input[value=red]")
    send = page.locator("button:has-text('Send my answer')")
    assert send.bounding_box()["width"] > 300  # a full-width button on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
    assert not SkinCheck.objects.exists()

    page.check("input[value=other]")  # not red after all
    send.click()  # without the few words: refused on the form
    page.wait_for_selector("text=Please tell us in a few words")
    found += _blocking(axe.run(page, options=AXE_OPTIONS), "answer refused")
    assert page.is_checked("input[value=other]")  # the choice is kept
    page.fill("textarea[name=text]", "A small scab on the left cheek")
    page.locator("button:has-text('Send my answer')").click()
    page.wait_for_selector("h1:has-text('Thank you')")
    found += _blocking(axe.run(page, options=AXE_OPTIONS), "answer sent")
    assert found == []
    check = SkinCheck.objects.get(appointment=session)
    assert (check.answer, check.text) == ("other", "A small scab on the left cheek")
