"""The API's token check (api.authentication): DRF's answers, in one statement that also reads the
user's roles, so the permission matrix asks nothing more of the database."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.authentication import TokenAuthentication
from clinic.roles import DERMATOLOGIST, MANAGER, RECEPTION, ROLES, user_roles
from tests.factories import UserFactory

API = "/api/v1"


def token_client(user) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")


def test_the_token_user_and_roles_are_one_statement(receptionist, django_assert_num_queries):
    client = token_client(receptionist)
    with django_assert_num_queries(2):  # the token with its user and roles; the list of rooms
        response = client.get(f"{API}/rooms/")
    assert response.status_code == 200


def test_the_user_comes_whole_with_its_roles(receptionist, django_assert_num_queries):
    receptionist.last_login = datetime(2030, 6, 1, 7, 30, tzinfo=UTC)
    receptionist.save()
    receptionist.groups.add(Group.objects.create(name="Newsletter"))  # a group that is not a role
    key = Token.objects.create(user=receptionist).key
    with django_assert_num_queries(1):
        user, token = TokenAuthentication().authenticate_credentials(key)
        assert user_roles(user) == {RECEPTION}
    stored = type(receptionist).objects.get(pk=receptionist.pk)
    for field in stored._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(stored, field.attname), field.name
    assert user.last_login.utcoffset() is not None  # aware, as the ORM reads it, also on SQLite
    assert (token.key, token.user, token.created) == (key, user, Token.objects.get(key=key).created)


def test_a_user_in_two_roles_has_both(receptionist):
    receptionist.groups.add(Group.objects.get_or_create(name=MANAGER)[0])
    user, _ = TokenAuthentication().authenticate_credentials(Token.objects.create(user=receptionist).key)
    assert user_roles(user) == {RECEPTION, MANAGER}


def test_a_superuser_has_every_role_and_a_user_without_groups_none(db):
    boss = UserFactory(username="boss", is_superuser=True)
    nobody = UserFactory(username="nobody")
    assert user_roles(TokenAuthentication().authenticate_credentials(Token.objects.create(user=boss).key)[0]) == set(
        ROLES
    )
    assert user_roles(TokenAuthentication().authenticate_credentials(Token.objects.create(user=nobody).key)[0]) == set()
    assert token_client(UserFactory(username="outsider")).get(f"{API}/rooms/").status_code == 403


@pytest.mark.parametrize(("role", "allowed"), [(RECEPTION, 201), (DERMATOLOGIST, 201), (MANAGER, 403)], ids=ROLES)
def test_the_roles_read_with_the_token_decide(db, role, allowed):
    user = UserFactory(username=f"{role.lower()}-user")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    response = token_client(user).post(f"{API}/patients/", {"first_name": "Ann", "last_name": "Lee",
                                                              "date_of_birth": "1990-01-01"})  # fmt: skip
    assert response.status_code == allowed, response.content


def test_an_unknown_token_or_an_inactive_user_is_refused(receptionist):
    assert APIClient(HTTP_AUTHORIZATION="Token not-a-real-key").get(f"{API}/rooms/").json() == {
        "detail": "Invalid token."
    }
    client = token_client(receptionist)
    receptionist.is_active = False
    receptionist.save()
    response = client.get(f"{API}/rooms/")
    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}


def test_id_fields_share_their_queryset_and_still_see_new_records(receptionist):
    """api.common.IdField: the copy DRF makes of each declared field for every request shares the
    queryset instead of copying it, and the queryset is read afresh each time."""
    from api.availability import AvailabilityQuerySerializer
    from api.common import valid
    from tests.factories import TreatmentCourseFactory

    declared = AvailabilityQuerySerializer._declared_fields["course"].queryset
    assert AvailabilityQuerySerializer().fields["course"].queryset is declared
    first = TreatmentCourseFactory()
    assert valid(AvailabilityQuerySerializer, {"start": "2030-06-03", "course": str(first.pk)})["course"] == first
    later = TreatmentCourseFactory()  # made after the first lookup: found, not an answer kept from before
    assert valid(AvailabilityQuerySerializer, {"start": "2030-06-03", "course": str(later.pk)})["course"] == later


def test_a_slot_is_written_as_drfs_generic_serializer_writes_it(db):
    from datetime import timedelta

    from rest_framework import serializers

    from api.availability import SlotSerializer
    from scheduling.services.slots import Slot
    from tests.factories import LaserDeviceFactory, PractitionerFactory, RoomFactory

    start = datetime(2030, 6, 3, 9, 15, tzinfo=UTC)
    practitioner, room = PractitionerFactory(), RoomFactory()
    for device, short_prep in ((LaserDeviceFactory(), True), (None, False)):
        slot = Slot(start, start + timedelta(minutes=45), practitioner, room, device, short_prep)
        generic = serializers.Serializer.to_representation(SlotSerializer(), slot)
        assert SlotSerializer(slot).data == generic
        assert generic["start"] == "2030-06-03T10:15:00+01:00"  # the clinic's local time, as before
    winter = datetime(2030, 1, 7, 9, 15, tzinfo=UTC)  # London is on UTC: DRF writes Z
    slot = Slot(winter, winter + timedelta(minutes=30), practitioner, room, None, False)
    assert SlotSerializer(slot).data == serializers.Serializer.to_representation(SlotSerializer(), slot)
    assert SlotSerializer(slot).data["start"] == "2030-01-07T09:15:00Z"
