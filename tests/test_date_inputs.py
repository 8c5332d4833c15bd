"""Date boxes of the staff pages: a browser's date picker takes only an ISO date (2027-03-22), so
that is what the pages write into it, whatever the locale; dates typed in the formats the forms
accept (22/03/2027) still search that day and come back in the box as the date they stand for."""

import re
from datetime import date

import pytest
from django.urls import reverse

from scheduling.forms import CourseSlotSearchForm, DayBoardForm, PlanSearchForm, SlotSearchForm
from tests.conftest import book_treatment, local


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


def date_box(response, name):
    """The value written into the page's <input type=date name=...>, or None without one."""
    html = response.content.decode()
    box = re.search(rf'<input type="date" name="{name}"[^>]*>', html)
    assert box, f"no date box named {name}"
    value = re.search(r'value="([^"]*)"', box.group(0))
    return value.group(1) if value else None


@pytest.mark.parametrize("form_class, field", [
    (SlotSearchForm, "date"), (CourseSlotSearchForm, "date"), (DayBoardForm, "date"), (PlanSearchForm, "start")
])  # fmt: skip
def test_every_date_box_of_the_staff_forms_is_written_in_iso(db, form_class, field):
    unbound = form_class(initial={field: date(2027, 12, 15)})
    assert 'value="2027-12-15"' in str(unbound[field])
    typed = form_class({field: "15/12/2027"})
    assert 'value="2027-12-15"' in str(typed[field])
    assert 'type="date"' in str(typed[field])


def test_the_reschedule_page_shows_the_day_it_searches_from(reception, clinic):
    appointment = book_treatment(clinic, local(22, 10))
    url = reverse("scheduling:appointment_reschedule", kwargs={"pk": appointment.pk})
    assert date_box(reception.get(url), "date") == "2027-03-22"
    typed = reception.get(url, {"date": "23/03/2027"})
    assert typed.context["around"].isoformat() == "2027-03-23"
    assert date_box(typed, "date") == "2027-03-23"
    assert date_box(reception.get(url, {"date": "2027-03-24"}), "date") == "2027-03-24"


def test_the_slot_finder_and_the_plan_show_their_days(reception, clinic):
    finder = reception.get(reverse("scheduling:course_book", kwargs={"pk": clinic.course.pk}))
    assert date_box(finder, "date") == "2027-03-15"  # after the two sun-free weeks
    typed = reception.get(reverse("scheduling:course_book", kwargs={"pk": clinic.course.pk}), {"date": "22/03/2027"})
    assert date_box(typed, "date") == "2027-03-22"
    assert typed.context["slots"][0].start == local(22, 9)
    plan = reception.get(reverse("scheduling:course_plan", kwargs={"pk": clinic.course.pk}), {"start": "22/03/2027"})
    assert date_box(plan, "start") == "2027-03-22"


def test_a_date_that_cannot_be_read_is_refused_with_a_message(reception, clinic):
    appointment = book_treatment(clinic, local(22, 10))
    url = reverse("scheduling:appointment_reschedule", kwargs={"pk": appointment.pk})
    response = reception.get(url, {"date": "31/02/2027"})
    assert response.context["search"].errors["date"] == ["Enter a valid date."]
    assert response.context["around"].isoformat() == "2027-03-22"
