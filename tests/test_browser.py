"""The staff app in a real browser (Debian's Chromium through Playwright) against the live server."""

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone

from clinic.roles import RECEPTION
from outbox.models import Notification
from scheduling.models import Appointment
from tests.browser import log_in, screenshot
from tests.conftest import _in_group
from tests.factories import TreatmentCourseFactory, UserFactory, WorkingHoursFactory, area

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def open_all_week(clinic):
    for weekday in (5, 6):
        WorkingHoursFactory(practitioner=clinic.practitioner, weekday=weekday, start_time=time(9), end_time=time(17))
    _in_group(UserFactory(username="reception"), RECEPTION)
    return clinic


def test_reception_finds_a_patient_books_the_next_session_and_sees_it_on_the_day_board(
    live_server, page, open_all_week
):
    clinic = open_all_week
    log_in(page, live_server, "reception")
    page.fill("input[name=q]", "Byron")
    result = page.locator("#patient-search-results a:has-text('Byron, Ada')")
    result.click()
    page.wait_for_url(f"{live_server.url}/patients/{clinic.patient.pk}/")
    screenshot(page, "patient-page")

    page.click("text=Book session 1")
    page.wait_for_selector("button:has-text('Book')")
    screenshot(page, "slot-finder")
    page.locator("form:has(button:has-text('Book'))").first.locator("button:has-text('Book')").click()
    page.wait_for_selector(".alert-success")

    booked = Appointment.objects.get(course=clinic.course)
    day = timezone.localdate(booked.start)
    page.goto(f"{live_server.url}/day/{day.isoformat()}/")
    card = page.locator(f"a[href='/appointments/{booked.pk}/']")
    card.wait_for()
    assert "Ada Byron" in card.inner_text()
    assert re.search(r"Tattoo removal\s+1/8", card.inner_text())
    screenshot(page, "day-board")


def test_a_course_goes_from_approval_to_plan_to_a_recorded_session_with_aftercare_pending(
    live_server, page, open_all_week, dermatologist, time_machine
):
    clinic = open_all_week
    course = TreatmentCourseFactory(patient=clinic.patient, planned_sessions=3, areas=[area()])
    log_in(page, live_server, "dr.derm")
    page.goto(f"{live_server.url}/clinical/courses/review/")
    page.click(f"a[href='/clinical/courses/{course.pk}/approve/']")  # a confirmation page first
    page.click(f"form[action='/clinical/courses/{course.pk}/approve/'] button:has-text('Approve the course')")
    page.wait_for_selector(".alert-success")
    course.refresh_from_db()
    assert course.status == "approved"

    page.context.clear_cookies()
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}/courses/{course.pk}/plan/")
    page.click("button:has-text('Book all 3 sessions')")
    page.wait_for_selector(".alert-success")
    first = course.appointments.order_by("start").first()
    assert course.appointments.count() == 3

    # The day of the first session: reception checks the patient in, the dermatologist records it.
    time_machine.move_to(first.start - timedelta(minutes=5), tick=True)
    page.context.clear_cookies()
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}/appointments/{first.pk}/")
    for box in ("no_sun", "no_peels_or_waxing", "clean_skin", "eyewear"):
        page.check(f"input[name={box}]")
    page.click("button:has-text('Check in')")
    page.wait_for_selector(".alert-success")

    page.context.clear_cookies()
    log_in(page, live_server, "dr.derm")
    page.goto(f"{live_server.url}/appointments/{first.pk}/")  # the appointment page leads to the record
    page.click("a:has-text('Treat and record the session')")
    page.wait_for_url(f"{live_server.url}/clinical/appointments/{first.pk}/record/")
    page.fill("input[name=wavelength_nm]", "1064")
    page.fill("input[name=fluence_j_cm2]", "2.5")
    page.fill("input[name=spot_size_mm]", "4")
    page.fill("input[name=pulses]", "900")
    page.select_option("select[name=skin_reaction]", "mild_erythema")
    page.click("button:has-text('Record and complete session')")
    page.wait_for_url(re.compile(rf".*/patients/{clinic.patient.pk}/"))
    first.refresh_from_db()
    assert first.status == "completed"
    aftercare = Notification.objects.get(appointment=first, kind="aftercare")
    assert aftercare.status == "pending"
    assert "Aftercare" in page.locator("body").inner_text()


def test_the_admin_the_api_docs_and_the_manager_pages_keep_the_content_security_policy(
    live_server, page, open_all_week, manager
):
    """The `page` fixture fails the test on any console report of a blocked inline script or style."""
    clinic = open_all_week
    log_in(page, live_server, "manager")
    for path in (
        "/day/",
        f"/patients/{clinic.patient.pk}/",
        f"/patients/{clinic.patient.pk}/erase/",
        "/queues/",
        "/admin/",
        f"/admin/patients/patient/{clinic.patient.pk}/change/",
        "/admin/auditlog/logentry/",
        "/api/docs/",
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    page.wait_for_selector(".swagger-ui")  # the docs rendered: their script ran under the policy
