"""Ids and counts are whole numbers in ASCII digits, read as typed: 7.9 is not patient 7, and "١٢",
"１２", " 12" and "+12" are not 12, in a body, a query or a path. A path naming no record is a 404,
a body or query a 400; neither reads another record."""

import inspect
import json
import re

import pytest
from django.test import Client
from rest_framework import serializers

from api import appointments, assessments, availability, courses, patients
from api.common import IdField, PageQuerySerializer, WholeNumberField
from api.patients import PatientSerializer
from tests.conftest import book_treatment, local
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NOT_AS_TYPED = ["{pk}.9", "{pk}.0", " {pk}", "{pk} ", "+{pk}", "0{pk}x", "{arabic}", "{fullwidth}", "1_{pk}"]


def _spellings(pk):
    arabic = str(pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    fullwidth = str(pk).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return [form.format(pk=pk, arabic=arabic, fullwidth=fullwidth) for form in NOT_AS_TYPED]


@pytest.fixture
def root(clinic, frozen):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_an_api_path_id_not_written_in_ascii_digits_names_no_record(root, clinic):
    pk = clinic.patient.pk
    assert root.get(f"/api/v1/patients/{pk}/").status_code == 200
    for spelling in _spellings(pk):
        for resource, record in (("patients", pk), ("courses", clinic.course.pk), ("rooms", clinic.room.pk)):
            url = f"/api/v1/{resource}/{spelling.replace(str(pk), str(record))}/"
            response = root.get(url)
            assert response.status_code == 404, (url, response.status_code)
            assert response["Content-Type"] == "application/json", url


def test_an_api_action_path_id_is_as_strict_and_changes_nothing(root, clinic):
    appointment = book_treatment(clinic, local(3, 10))
    for spelling in _spellings(appointment.pk):
        response = root.post(f"/api/v1/appointments/{spelling}/cancel/", {}, content_type="application/json")
        assert response.status_code == 404, (spelling, response.status_code)
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_page_paths_take_ascii_digits_only(root, clinic):
    pk = clinic.patient.pk
    assert root.get(f"/patients/{pk}/").status_code == 200
    for spelling in _spellings(pk):
        assert root.get(f"/patients/{spelling}/").status_code == 404, spelling
    assert root.get("/day/2027-03-01/").status_code == 200
    assert root.get("/day/٢٠٢٧-٠٣-٠١/").status_code == 404


def _booking(clinic, **overrides):
    body = {
        "patient": clinic.patient.pk,
        "kind": "treatment",
        "course": clinic.course.pk,
        "start": local(3, 10).isoformat(),
        "practitioner": clinic.practitioner.pk,
        "room": clinic.room.pk,
        "device": clinic.device.pk,
        "acknowledge_short_prep": True,
    }
    return json.dumps(body | overrides)


@pytest.mark.parametrize("field", ["patient", "course", "practitioner", "room", "device"])
def test_a_booking_takes_each_id_as_typed(root, clinic, field):
    pk = json.loads(_booking(clinic))[field]
    for value in [pk + 0.9, float(pk), True, *_spellings(pk)]:
        body = _booking(clinic, **{field: value})
        response = root.post("/api/v1/appointments/", body, content_type="application/json")
        assert response.status_code == 400, (field, value, response.content[:200])
        assert field in response.json(), (field, value)
    assert root.post("/api/v1/appointments/", _booking(clinic), content_type="application/json").status_code == 201


def test_queries_take_ids_and_counts_as_typed(root, clinic):
    for spelling in _spellings(clinic.patient.pk):
        response = root.get("/api/v1/appointments/", {"patient": spelling})
        assert response.status_code == 400, spelling
    search = {"course": clinic.course.pk, "days": "3", "start": "2027-03-02"}
    assert root.get("/api/v1/availability/", search).status_code == 200
    assert root.get("/api/v1/patients/", {"q": "Byron", "page_size": "3"}).status_code == 200
    for spelling in _spellings(3):
        response = root.get("/api/v1/availability/", search | {"days": spelling})
        assert response.status_code == 400 and "days" in response.json(), spelling
        response = root.get("/api/v1/patients/", {"q": "Byron", "page_size": spelling})
        assert response.status_code == 400, spelling


def _input_serializers():
    """Every serializer a view reads a body or query with (`valid(...)`, `query(...)`, a view's own
    for writing), and the serializers nested in them."""
    found = [PatientSerializer, PageQuerySerializer]
    for module in (appointments, assessments, availability, courses, patients):
        for name in re.findall(r"\b(?:valid|query)\((\w+)", inspect.getsource(module)):
            found.append(getattr(module, name))
    nested = [
        field.child.__class__
        for serializer_class in found
        for field in serializer_class().fields.values()
        if isinstance(field, serializers.ListSerializer)
    ]
    return found + nested


def test_every_id_and_count_the_api_reads_is_read_as_typed():
    """The strict fields (api.common) are the only way a body or query gives a number or an id."""
    checked = 0
    for serializer_class in _input_serializers():
        for name, field in serializer_class().fields.items():
            if field.read_only:
                continue
            inner = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            inner = inner.child if isinstance(inner, serializers.ListField) else inner
            if isinstance(inner, serializers.IntegerField):
                assert isinstance(inner, WholeNumberField), f"{serializer_class.__name__}.{name}"
                checked += 1
            if isinstance(inner, serializers.RelatedField):
                assert isinstance(inner, IdField), f"{serializer_class.__name__}.{name}"
                checked += 1
    assert checked >= 25
