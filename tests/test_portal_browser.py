"""The patient pages in Chromium on a 390 px phone: sign in from the emailed link, book the course's
next session, move it; axe-core finds no serious or critical violation on any of the pages, and
none breaks the Content Security Policy (the `page` fixture fails on any report) or scrolls sideways."""

import pytest
import redis
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core import mail
from django.core.cache import cache

from outbox import sending
from outbox.models import Notification
from scheduling.models import Appointment
from tests.browser import settle
from tests.conftest import MONDAY_MORNING, local
from tests.portal import completed_session, link_in
from tests.test_accessibility import AXE_OPTIONS, _blocking
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PHONE = {"width": 390, "height": 844}


def test_a_patient_signs_in_from_the_emailed_link_books_the_next_session_moves_it_and_joins_the_waitlist(
    live_server, page, clinic, time_machine
):
    time_machine.move_to(MONDAY_MORNING, tick=True)
    cache.clear()
    completed_session(clinic)  # the next session is due 15 to 29 March
    axe, found = Axe(), []
    page.set_viewport_size(PHONE)

    def check(what):
        settle(page)
        found.extend(_blocking(axe.run(page, options=AXE_OPTIONS), what))
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{what} scrolls sideways"

    try:
        page.goto(f"{live_server.url}/me/sign-in/")
        check("sign-in page")
        page.fill("input[name=email]", clinic.patient.email)
        page.click("button[type=submit]")
        page.get_by_text("Check your email").first.wait_for()
        check("link sent")
        row = Notification.objects.get(kind=Notification.Kind.SIGN_IN)
        assert sending.send(row.pk) == "sent"
        page.goto(live_server.url + link_in(mail.outbox[-1].body))
        check("link page")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/me/")
        check("home")

        page.click("text=Book your next session")
        page.get_by_role("heading", name="Book your next session").wait_for()
        check("booking page")
        page.locator("form[method=post] >> nth=1").evaluate("form => { form.noValidate = true; }")
        page.click("text=Book this time")
        page.locator(".alert-danger, .invalid-feedback").first.wait_for()
        check("booking page, nothing chosen")
        page.locator("input[name=slot]").first.check()
        page.check("input[name=avoid_sun]")
        page.click("text=Book this time")
        page.get_by_text("Your session is booked").wait_for()
        check("visit page")
        booked = Appointment.objects.get(patient=clinic.patient, status="booked")
        assert local(15, 0) <= booked.start < local(30, 0)

        page.click("text=Move this visit")
        page.get_by_role("heading", name="Move your visit").wait_for()
        check("move page")
        page.locator("input[name=slot]").last.check()
        page.click("text=Move to this time")
        page.get_by_text("Your visit has moved").wait_for()
        moved = Appointment.objects.get(pk=booked.pk)
        assert moved.start != booked.start and moved.version == booked.version + 1
        assert local(15, 0) <= moved.start < local(30, 0)

        page.goto(f"{live_server.url}/me/")
        page.get_by_role("link", name="The waitlist").click()
        page.get_by_role("heading", name="The waitlist", exact=True).wait_for()
        check("waitlist page")
        page.check("input[name=wants][value=earlier]")
        page.select_option("select[name=appointment]", str(moved.pk))
        page.fill("input[name=earliest_date]", "2027-03-15")
        page.fill("input[name=latest_date]", moved.start.date().isoformat())
        page.get_by_role("button", name="Join the waitlist").click()
        page.get_by_text("You are on the waitlist").wait_for()
        check("waitlist page, joined")
        entry = WaitlistEntry.objects.get(patient=clinic.patient)
        assert (entry.wants, entry.appointment_id, entry.source) == ("earlier", moved.pk, "patient")

        page.goto(f"{live_server.url}/me/")
        page.get_by_role("link", name="Planned time in the sun").click()
        page.get_by_role("heading", name="Planned time in the sun", exact=True).wait_for()
        check("sun page")
        page.fill("input[name=what]", "Ski trip")
        page.fill("input[name=first_day]", "2027-04-10")
        page.fill("input[name=last_day]", "2027-04-17")
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Ski trip: 10 April to 17 April 2027").wait_for()
        check("sun page, saved")
    finally:
        redis.Redis.from_url(settings.TEST_REDIS_URL).flushdb()  # the sign-in email's queued task
    assert found == []
