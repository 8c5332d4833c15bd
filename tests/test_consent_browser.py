"""Consent in Chromium: the patient signs on their own pages on a 390 px phone, and at check-in on
the clinic's 768 px tablet, witnessed by reception; axe-core finds no serious or critical violation,
no page scrolls sideways, and nothing breaks the Content Security Policy (the `page` fixture)."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from django.utils import timezone

from clinical.models import ConsentSignature, ConsentText
from scheduling.models import Appointment
from tests.browser import log_in, settle
from tests.conftest import MONDAY_MORNING, book_treatment, local
from tests.portal import sign_in_path
from tests.test_accessibility import AXE_OPTIONS, _blocking

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _texts(clinic):
    published = timezone.now() - timedelta(days=30)
    treatment = ConsentText.objects.create(
        kind="treatment", condition=clinic.course.condition, version=1, title="Consent to laser tattoo removal",
        body="Redness, swelling and discomfort for a few hours.\n\nNo sun or tanning beds for two weeks before.",
        published_at=published,
    )  # fmt: skip
    photo = ConsentText.objects.create(kind="photo", version=1, title="Consent to photographs",
                                       body="For your clinical record; for teaching or marketing.",
                                       published_at=published)  # fmt: skip
    return treatment, photo


def _checker(page, width):
    axe, found = Axe(), []

    def check(what):
        settle(page)
        found.extend(_blocking(axe.run(page, options=AXE_OPTIONS), what))
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{what} scrolls sideways"

    return check, found


def test_the_patient_signs_both_consents_on_a_phone_and_withdraws_photos(live_server, page, clinic, time_machine):
    time_machine.move_to(MONDAY_MORNING, tick=True)
    cache.clear()
    treatment, photo = _texts(clinic)
    page.set_viewport_size({"width": 390, "height": 844})
    check, found = _checker(page, 390)
    page.goto(live_server.url + sign_in_path(clinic.patient))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/me/")
    page.get_by_role("link", name="Read and sign").click()
    page.get_by_role("heading", name="Consent forms", exact=True).wait_for()
    check("consent page")
    photo_form = page.locator(f"form:has(input[name='consent-{photo.pk}-signing'])")
    photo_form.locator(f"input[name='consent-{photo.pk}-typed_name']").fill("Ada Lovelace")
    photo_form.get_by_role("button").click()
    page.locator(".invalid-feedback").first.wait_for()
    check("consent page, refused")
    photo_form = page.locator(f"form:has(input[name='consent-{photo.pk}-signing'])")
    assert photo_form.locator(f"input[name='consent-{photo.pk}-typed_name']").input_value() == "Ada Lovelace"
    photo_form.locator(f"input[name='consent-{photo.pk}-photo_clinical'][value=yes]").check()
    photo_form.locator(f"input[name='consent-{photo.pk}-photo_marketing'][value=no]").check()
    photo_form.locator(f"input[name='consent-{photo.pk}-typed_name']").fill("Ada Byron")
    photo_form.get_by_role("button").click()
    page.get_by_text("is signed").wait_for()
    page.locator(f"input[name='consent-{treatment.pk}-typed_name']").fill("ada byron")
    page.get_by_role("button", name=f"Sign {treatment.title}").click()
    page.get_by_text("You have nothing to sign").wait_for()
    check("consent page, all signed")
    page.get_by_role("button", name="Withdraw my photo consent").click()
    page.get_by_text("Your photo consent is withdrawn").wait_for()
    signatures = ConsentSignature.objects.filter(patient=clinic.patient)
    assert {s.channel for s in signatures} == {"online"} and signatures.count() == 2
    assert signatures.get(text=photo).withdrawn_at is not None
    assert found == []


def test_reception_hands_the_768px_tablet_over_at_check_in(live_server, page, clinic, receptionist, time_machine):
    time_machine.move_to(MONDAY_MORNING, tick=True)
    treatment, _ = _texts(clinic)
    appointment = book_treatment(clinic, local(1, 10))
    page.set_viewport_size({"width": 768, "height": 1024})
    check, found = _checker(page, 768)
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    page.get_by_role("button", name="Check in").click()
    page.get_by_text("sign the consent on the tablet").first.wait_for()
    check("appointment page, check-in refused")
    page.get_by_role("link", name="Sign on the tablet").first.click()
    page.get_by_role("heading", name="Consent forms for Ada Byron").wait_for()
    check("tablet page")
    page.locator(f"input[name='consent-{treatment.pk}-typed_name']").fill("Ada Byron")
    page.get_by_role("button", name=f"Sign {treatment.title}").click()
    page.get_by_text("is signed").wait_for()
    page.get_by_role("link", name="Back to the appointment (staff)").click()
    page.get_by_role("button", name="Check in").click()
    page.get_by_text("is checked in").first.wait_for()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CHECKED_IN
    assert ConsentSignature.objects.get(text=treatment).witnessed_by == receptionist
    assert found == []
