"""The printed day list: a list per practitioner of the day's active visits, for staff only."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scheduling.models import Appointment
from scheduling.selectors import day_list
from scheduling.services import appointment_check_in
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory, RoomFactory, UserFactory

DAY = date(2027, 3, 1)  # the frozen Monday


def day_list_url(day=DAY):
    return reverse("scheduling:day_list", kwargs={"day": day})


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


@pytest.fixture
def full_day(clinic, frozen, receptionist):
    """Ada's second tattoo-removal session at 10:00 (booked inside the prep window, checked in with a
    flag), a consultation at 09:00 with the same dermatologist, one with a second practitioner, and
    the visits the list leaves out: cancelled, no-show, the next day's."""
    ada, derm = clinic.patient, clinic.practitioner
    derm.user.first_name, derm.user.last_name = "Alice", "Aaron"
    derm.user.save()
    treatment = dict(kind=Appointment.Kind.TREATMENT, course=clinic.course, device=clinic.device, room=clinic.room)
    AppointmentFactory(
        **treatment, patient=ada, practitioner=derm, start=local(1, 10) - timedelta(days=49), status="completed"
    )
    session = book_treatment(clinic, local(1, 10))
    session = appointment_check_in(appointment=session, flags=["sun exposure not ruled out"], by=receptionist)
    grace = PatientFactory(first_name="Grace", last_name="Hopper", phone="+44 7700 900123")
    AppointmentFactory(patient=grace, practitioner=derm, room=clinic.room, start=local(1, 9), notes="Wheelchair user")
    zed = PractitionerFactory(user=UserFactory(first_name="Zoe", last_name="Zed"))
    AppointmentFactory(
        patient=PatientFactory(first_name="Mary", last_name="Shelley"),
        practitioner=zed,
        room=RoomFactory(name="Garden room"),
        start=local(1, 9),
    )
    for name, status in (("Emmy", "cancelled"), ("Kurt", "no_show")):
        AppointmentFactory(
            patient=PatientFactory(first_name=name),
            practitioner=derm,
            room=clinic.room,
            start=local(1, 12),
            status=status,
        )
    AppointmentFactory(
        patient=PatientFactory(first_name="Hedy"), practitioner=derm, room=clinic.room, start=local(2, 9)
    )
    return session


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(day_list_url())
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_user_without_a_role_is_refused(client, full_day):
    client.force_login(UserFactory(username="outsider"))
    response = client.get(day_list_url())
    assert response.status_code == 403
    assert "Grace" not in response.content.decode()


@pytest.mark.parametrize("role", ["Reception", "Dermatologist", "Manager"])
def test_every_staff_role_may_print_the_day(client, full_day, role):
    user = UserFactory(username=f"{role.lower()}-only")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    client.force_login(user)
    assert client.get(day_list_url()).status_code == 200


def test_the_list_shows_each_active_visit_with_what_the_desk_needs(reception, full_day, clinic):
    response = reception.get(day_list_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ada Byron" in page and clinic.patient.phone in page
    assert "Grace Hopper" in page and "+44 7700 900123" in page
    assert "Treatment · Tattoo removal 2/8" in page
    assert "Consultation" in page
    assert "Short prep" in page and "Flagged at check-in" in page
    assert "sun exposure not ruled out" in page and "Wheelchair user" in page
    assert "10:00–10:30" in page and "09:00–09:30" in page
    assert "Room 1 · PicoWay" in page
    # Cancelled and no-show visits, and the next day's, are left out.
    for name in ("Emmy", "Kurt", "Hedy"):
        assert name not in page


def test_visits_are_grouped_by_practitioner_in_time_order(reception, full_day):
    page = reception.get(day_list_url()).content.decode()
    aaron, zed = page.index("Dr Alice Aaron"), page.index("Dr Zoe Zed")
    assert aaron < page.index("Grace Hopper") < page.index("Ada Byron") < zed < page.index("Mary Shelley")
    assert page.count('class="day-list-practitioner') == 2
    groups = day_list(day=DAY)
    assert [len(group.appointments) for group in groups] == [2, 1]
    assert [a.patient.first_name for a in groups[0].appointments] == ["Grace", "Ada"]
    assert groups[0].appointments[1].session_number == 2


def test_the_page_is_kept_by_no_cache(reception, full_day):
    cache_control = reception.get(day_list_url())["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control


def test_the_day_board_links_to_the_day_list(reception, clinic):
    page = reception.get(reverse("scheduling:day_board_date", kwargs={"day": DAY})).content.decode()
    assert f'href="{day_list_url()}">Print the day<' in page


def test_an_empty_day_says_so(reception, clinic):
    page = reception.get(day_list_url(date(2027, 3, 7))).content.decode()
    assert "Nothing is booked on this day." in page


def test_the_print_stylesheet_is_linked_on_every_page(reception, clinic):
    page = reception.get(reverse("home")).content.decode()
    assert 'href="/static/css/print.css" media="print"' in page


def test_the_selector_reads_the_day_in_one_query_however_full(full_day, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert day_list(day=date(2027, 3, 7)) == []
    with django_assert_num_queries(1):
        groups = day_list(day=DAY)
        # Everything the page shows is read along: nothing more is asked for here.
        shown = [
            (
                a.patient.phone,
                a.course and a.course.condition.name,
                a.session_number,
                a.room.name,
                a.device,
                str(g.practitioner),
            )
            for g in groups
            for a in g.appointments
        ]
    assert len(shown) == 3


def test_the_page_costs_the_same_queries_for_an_empty_and_a_full_day(reception, full_day, clinic):
    with CaptureQueriesContext(connection) as empty:
        assert reception.get(day_list_url(date(2027, 3, 7))).status_code == 200
    for hour in (13, 14, 15, 16):
        AppointmentFactory(practitioner=PractitionerFactory(), room=clinic.room, start=local(1, hour))
    with CaptureQueriesContext(connection) as full:
        response = reception.get(day_list_url())
    assert sum(len(group.appointments) for group in response.context["practitioners"]) == 7
    assert len(full) == len(empty)


def test_times_are_clinic_local_on_the_day_the_clocks_go_forward(reception, clinic):
    """Sunday 28 March 2027 is 23 hours long in London: from 00:00 GMT to midnight BST."""
    derm = clinic.practitioner
    for start in (local(28, 0, 30), local(28, 10), local(28, 23, 30), local(29, 0, 30), local(27, 23, 30)):
        AppointmentFactory(practitioner=derm, room=clinic.room, start=start)
    page = reception.get(day_list_url(date(2027, 3, 28))).content.decode()
    # The clinic's wall clock: 00:30 GMT + 30 minutes is 02:00 BST; 10:00 BST is 09:00 UTC.
    assert "00:30–02:00" in page and "10:00–10:30" in page and "23:30–00:00" in page
    assert page.count("<tbody>") == 1 and page.split("<tbody>")[1].count("<tr>") == 3


def test_the_sheet_says_when_it_was_printed_in_clinic_time(reception, clinic):
    page = reception.get(day_list_url()).content.decode()
    assert "As of 1 Mar 2027 08:00" in page  # the frozen clock, London time


@pytest.mark.parametrize("day", ["2027-02-30", "2027-13-01", "27-03-01", "today"])
def test_an_impossible_day_is_not_found(reception, clinic, day):
    assert reception.get(f"/day/{day}/list/").status_code == 404
