"""Personas used across the suite: the clinic's receptionist, dermatologist and manager."""

import pytest
from django.contrib.auth.models import Group

from tests.factories import PractitionerFactory, UserFactory


def _in_group(user, name):
    user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def receptionist(db):
    return _in_group(UserFactory(username="reception"), "Reception")


@pytest.fixture
def dermatologist(db):
    practitioner = PractitionerFactory(user=UserFactory(username="dr.derm"))
    _in_group(practitioner.user, "Dermatologist")
    return practitioner


@pytest.fixture
def manager(db):
    return _in_group(UserFactory(username="manager", is_staff=True, is_superuser=True), "Manager")
