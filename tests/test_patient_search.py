"""One search rule for patients (patients.selectors.patients_matching), whichever door staff use:
the staff search page, its live (htmx) search, the visit finder and the API."""

from datetime import date

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from patients.selectors import national_phone, parse_search_date
from tests.factories import PatientFactory


@pytest.fixture
def patients(db):
    return {
        "lovelace": PatientFactory(
            first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+44 7700 900123",
            date_of_birth=date(1985, 12, 10),
        ),
        "byron": PatientFactory(
            first_name="Ada", last_name="Byron", email="byron@example.org", phone="+44 (0)20 7946 0222",
            date_of_birth=date(1990, 1, 5),
        ),
        "hopper": PatientFactory(
            first_name="Grace", last_name="Hopper", email="grace@example.com", phone="07700-900456",
            date_of_birth=date(1906, 12, 9),
        ),
        "turing": PatientFactory(
            first_name="Alan", last_name="Turing", email="alan@example.net", phone="7700.900789",
            date_of_birth=date(1912, 6, 23),
        ),
    }  # fmt: skip


def _staff_search(client, query):
    response = client.get(reverse("patients:search"), {"q": query})
    assert response.status_code == 200
    assert response.templates[0].name == "patients/search.html"
    return [p.pk for p in response.context["patients"]]


def _live_search(client, query):
    response = client.get(reverse("patients:search"), {"q": query}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["patients/_search_results.html"]
    return [p.pk for p in response.context["patients"]]


def _visit_finder(client, query):
    response = client.get(reverse("scheduling:book_visit"), {"q": query})
    assert response.status_code == 200
    return [p.pk for p, _link in response.context["patients"]]


def _api(client, query):
    api = APIClient()
    api.force_authenticate(client.user)
    response = api.get(reverse("api:patient-list"), {"q": query})
    assert response.status_code == 200
    return [p["id"] for p in response.json()["results"]]


DOORS = {"staff search": _staff_search, "live search": _live_search, "visit finder": _visit_finder, "API": _api}


@pytest.mark.parametrize(
    "query, found",
    [
        # every word against the first or last name
        ("ada", ["byron", "lovelace"]),
        ("ada love", ["lovelace"]),
        ("LOVELACE ada", ["lovelace"]),
        ("ada hopper", []),
        # part of the email
        ("byron@example", ["byron"]),
        ("example.com", ["hopper", "lovelace"]),
        # the phone, however typed and however stored
        ("+44 7700 900123", ["lovelace"]),
        ("07700 900123", ["lovelace"]),
        ("7700900123", ["lovelace"]),
        ("+44 7700 900 456", ["hopper"]),
        ("07700 900456", ["hopper"]),
        ("(7700) 900.456", ["hopper"]),
        ("+44 7700 900789", ["turing"]),
        ("07700-900-789", ["turing"]),
        ("7700 900 789", ["turing"]),
        ("020 7946 0222", ["byron"]),
        ("+44 20 7946 0222", ["byron"]),
        ("+44 (0)20 7946-0222", ["byron"]),
        ("900 1", ["lovelace"]),
        ("7700 900", ["hopper", "lovelace", "turing"]),
        # the date of birth in each of the patient form's formats
        ("1985-12-10", ["lovelace"]),
        ("10/12/1985", ["lovelace"]),
        ("9/12/1906", ["hopper"]),
        ("05/01/1990", ["byron"]),
        ("31/02/1985", []),
        ("nobody", []),
    ],
)
def test_every_door_finds_the_same_patients(client, receptionist, patients, query, found):
    client.force_login(receptionist)
    client.user = receptionist
    expected = [patients[name].pk for name in found]
    answers = {door: find(client, query) for door, find in DOORS.items()}
    assert answers == dict.fromkeys(DOORS, expected)


def test_an_empty_query_finds_nobody_on_the_pages_and_lists_everyone_in_the_api(client, receptionist, patients):
    client.force_login(receptionist)
    client.user = receptionist
    for door in ("staff search", "live search", "visit finder"):
        assert DOORS[door](client, "  ") == [], door
    assert len(_api(client, "")) == len(patients)


@pytest.mark.parametrize(
    "typed, national",
    [("+44 7700 900123", "7700900123"), ("07700 900123", "7700900123"), ("7700900123", "7700900123"),
     ("+44 (0)20 7946 0222", "2079460222"), ("(020) 7946.0222", "2079460222"), ("+1 555 0100", "+15550100")],
)  # fmt: skip
def test_a_phone_number_is_compared_without_separators_or_the_uk_prefix(typed, national):
    assert national_phone(typed) == national


def test_search_reads_dates_in_the_patient_forms_formats():
    from patients.forms import PatientForm
    from patients.services import DATE_INPUT_FORMATS

    assert list(PatientForm.base_fields["date_of_birth"].input_formats) == list(DATE_INPUT_FORMATS)
    assert parse_search_date("2027-03-01") == parse_search_date("01/03/2027") == date(2027, 3, 1)
    assert parse_search_date("2027-02-30") is None and parse_search_date("March 1") is None


def test_the_admin_searches_patients_by_the_same_rule(client, admin_user, patients):
    client.force_login(admin_user)
    response = client.get(reverse("admin:patients_patient_changelist"), {"q": "+44 7700 900 456"})
    assert [p.pk for p in response.context["cl"].result_list] == [patients["hopper"].pk]
    response = client.get(reverse("admin:patients_patient_changelist"), {"q": "10/12/1985"})
    assert [p.pk for p in response.context["cl"].result_list] == [patients["lovelace"].pk]
