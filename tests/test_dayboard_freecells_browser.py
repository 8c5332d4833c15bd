"""In Chromium: a cell the board offers books that exact time; one without a room says so."""

from datetime import time

import pytest

from clinic.roles import RECEPTION
from scheduling.models import Appointment
from tests.browser import log_in
from tests.conftest import _in_group, local
from tests.factories import AppointmentFactory, PractitionerFactory, UserFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_reception_clicks_a_free_cell_and_books_that_very_time(live_server, page, clinic):
    _in_group(UserFactory(username="reception"), RECEPTION)
    colleague = PractitionerFactory()
    WorkingHoursFactory(practitioner=colleague, weekday=0, start_time=time(9), end_time=time(17))
    AppointmentFactory(practitioner=colleague, room=clinic.room, start=local(15, 9, 30))
    log_in(page, live_server, "reception")
    page.goto(f"{live_server.url}/day/2027-03-15/")
    mine = str(clinic.practitioner)
    taken = page.locator(f"div.db-cell[title='09:30 {mine}: no room free']")
    assert taken.inner_text().strip().endswith("no room free")
    assert page.locator(f"a[title='Book 09:30 {mine}']").count() == 0
    page.click(f"a[title='Book 10:15 {mine}']")
    page.fill("main input[name=q]", "Byron")
    page.locator("main button:has-text('Find patient')").click()
    page.locator("main a:has-text('Byron, Ada')").click()
    heading = page.locator("h2:has-text('is free')")
    assert heading.inner_text().startswith("10:15 with")
    page.locator("form:has(button:has-text('Book'))").first.locator("button:has-text('Book')").click()
    page.wait_for_selector(".alert-success")
    booked = Appointment.objects.get(patient=clinic.patient)
    assert (booked.start, booked.practitioner) == (local(15, 10, 15), clinic.practitioner)
