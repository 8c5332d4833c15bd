"""Moving an appointment in a real browser (Debian's Chromium through Playwright): the date boxes
show their dates, and a time's Move button moves the appointment to another practitioner."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.roles import RECEPTION
from scheduling.models import Appointment
from tests.browser import log_in, screenshot
from tests.conftest import _in_group, book_treatment
from tests.factories import PractitionerFactory, UserFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def heading(day: date) -> str:
    """A day's heading as the page writes it: Wed 6 Jan 2027."""
    return f"{day:%a} {day.day} {day:%b %Y}"


@pytest.fixture
def two_practitioners(clinic):
    nurse = PractitionerFactory(role="laser_nurse", user=UserFactory(first_name="Nia", last_name="Ng"))
    for practitioner in (clinic.practitioner, nurse):
        for weekday in range(7):
            if practitioner == nurse or weekday >= 5:  # the clinic's dermatologist works weekdays already
                WorkingHoursFactory(practitioner=practitioner, weekday=weekday, start_time=time(9), end_time=time(17))
    _in_group(UserFactory(username="reception"), RECEPTION)
    clinic.nurse = nurse
    return clinic


def test_reception_sees_the_day_in_the_date_box_and_moves_a_session_to_the_nurse(live_server, page, two_practitioners):
    clinic = two_practitioners
    day = timezone.localdate() + timedelta(days=30)
    start = timezone.make_aware(datetime.combine(day, time(10)))
    appointment = book_treatment(clinic, start)
    log_in(page, live_server, "reception")

    page.goto(live_server.url + reverse("scheduling:appointment_reschedule", kwargs={"pk": appointment.pk}))
    date_box = page.locator("input[type=date][name=date]")
    assert date_box.input_value() == day.isoformat()
    own_day = page.locator("h2", has_text=re.compile(f"^{heading(day)}$"))
    assert "Current time" in own_day.locator("xpath=following-sibling::ul[1]").inner_text()

    later = day + timedelta(days=2)
    date_box.fill(later.isoformat())
    page.click("button:has-text('Search')")
    page.wait_for_url(f"**date={later.isoformat()}**")
    assert page.locator("input[type=date][name=date]").input_value() == later.isoformat()
    assert page.locator("h2").first.inner_text() == heading(later)
    screenshot(page, "reschedule")

    with_nurse = page.locator("form:has-text('Nia Ng'):has(button:has-text('Move'))").first
    moved_to = with_nurse.locator("input[name=start]").get_attribute("value")
    with_nurse.locator("button:has-text('Move')").click()
    page.wait_for_selector(".alert-success")
    assert "Nia Ng" in page.locator(".alert-success").inner_text()
    appointment.refresh_from_db()
    assert appointment.practitioner == clinic.nurse
    assert appointment.start == datetime.fromisoformat(moved_to)
    assert appointment.status == Appointment.Status.BOOKED


def test_the_slot_finder_and_the_plan_show_the_day_they_search_from(live_server, page, two_practitioners):
    clinic = two_practitioners
    log_in(page, live_server, "reception")
    page.goto(live_server.url + reverse("scheduling:course_book", kwargs={"pk": clinic.course.pk}))
    first_day = timezone.localdate() + timedelta(days=14)  # after the two sun-free weeks
    assert page.locator("input[type=date][name=date]").input_value() == first_day.isoformat()
    plan = reverse("scheduling:course_plan", kwargs={"pk": clinic.course.pk})
    page.goto(f"{live_server.url}{plan}?start={first_day:%d/%m/%Y}")
    assert page.locator("input[type=date][name=start]").input_value() == first_day.isoformat()
