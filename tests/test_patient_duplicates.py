"""Registering someone who may already be on file warns and links to them; the receptionist can
confirm past the warning, since two different people may share a name and a birthday."""

from datetime import date

import pytest
from django.urls import reverse

from patients.models import Patient
from patients.selectors import likely_duplicates
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NEW = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "date_of_birth": "10/12/1985",
    "email": "ada.l@example.com",
    "phone": "",
    "skin_type": "2",
    "notes": "",
}


@pytest.fixture
def reception(client, receptionist):
    client.force_login(receptionist)
    return client


@pytest.fixture
def ada(db):
    return PatientFactory(
        first_name="Ada", last_name="Lovelace", date_of_birth=date(1985, 12, 10), email="ada@example.com",
        phone="07700-900123",
    )  # fmt: skip


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"first_name": "ada", "last_name": " LOVELACE "}, "same name and date of birth"),
        ({"first_name": "Augusta", "date_of_birth": "01/01/1990", "email": "ADA@example.com"}, "same email"),
        ({"first_name": "Augusta", "date_of_birth": "01/01/1990", "phone": "+44 (0)7700 900 123"}, "same phone"),
    ],
    ids=["name and birth date", "email", "phone"],
)
def test_a_likely_duplicate_warns_links_to_them_and_saves_nothing(reception, ada, changes, reason):
    response = reception.post(reverse("patients:create"), NEW | changes)
    assert response.status_code == 200
    page = response.content.decode()
    assert "may already be registered" in page
    assert f'href="{reverse("patients:detail", args=[ada.pk])}"' in page
    assert reason in page
    assert 'name="not_a_duplicate"' in page
    assert Patient.objects.count() == 1
    assert response.context["form"]["first_name"].value() == changes.get("first_name", "Ada")  # nothing typed is lost


def test_the_receptionist_can_register_a_different_person_past_the_warning(reception, ada):
    response = reception.post(reverse("patients:create"), NEW | {"not_a_duplicate": "on"})
    created = Patient.objects.exclude(pk=ada.pk).get()
    assert response.status_code == 302 and response.url == reverse("patients:detail", args=[created.pk])
    assert (created.first_name, created.date_of_birth) == ("Ada", date(1985, 12, 10))


def test_someone_new_is_registered_without_a_warning(reception, ada):
    response = reception.post(reverse("patients:create"), NEW | {"first_name": "Grace", "email": "g@example.com"})
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_erased_records_are_not_offered_as_duplicates(ada, frozen):
    ada.erased_at = frozen
    ada.save()
    found = likely_duplicates(first_name="Ada", last_name="Lovelace", date_of_birth=date(1985, 12, 10))
    assert found == []


def test_a_short_phone_fragment_is_no_match(ada):
    assert likely_duplicates(first_name="X", last_name="Y", date_of_birth=date(1990, 1, 1), phone="123") == []
