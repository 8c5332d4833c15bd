"""Schemathesis generates requests from the OpenAPI schema at /api/schema/ and sends them, in process,
to the WSGI application with a token of a user who may do everything the API offers, in a small
clinic; a generated id often names one of its records.

Every answer must be documented by the schema (status code, content type, body) and never a server
error; every refusal (4xx) must carry a JSON body with a message. The whole run makes at least
MIN_REQUESTS requests, so that the check cannot silently shrink.

The run is derandomized, so that CI sees the same requests every time; `FUZZ_RANDOM=1` explores
new ones and `FUZZ_EXAMPLES=200` more of them (a failure prints the request to reproduce it).
"""

import os
from datetime import time, timedelta

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from catalogue.models import Condition, LaserDevice, Practitioner, Room, TreatmentArea
from clinic.roles import ROLES
from clinical.models import Assessment, TreatmentCourse
from patients.models import Patient
from scheduling.models import Appointment
from tests.factories import (
    AppointmentFactory,
    AssessmentFactory,
    LaserDeviceFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    TreatmentCourseFactory,
    UserFactory,
    WorkingHoursFactory,
    area,
)

MIN_REQUESTS = 1000
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", 25))


def _seed_clinic():
    """A clinic with a few of everything, so that small generated ids often name real records, and
    the user the requests are made as: a dermatologist with every role and a token."""
    user = UserFactory(username="fuzzer", is_staff=True, is_superuser=True)
    user.groups.set([Group.objects.get_or_create(name=role)[0] for role in ROLES])
    dermatologist = PractitionerFactory(user=user)
    nurse = PractitionerFactory(role=Practitioner.Role.LASER_NURSE)
    for practitioner in (dermatologist, nurse):
        for weekday in range(7):
            WorkingHoursFactory(practitioner=practitioner, weekday=weekday, start_time=time(8), end_time=time(18))
    rooms = [RoomFactory(), RoomFactory(turnover_minutes=15)]
    devices = [LaserDeviceFactory(), LaserDeviceFactory()]
    for device in devices:
        device.conditions.set(Condition.objects.all())
    patients = [PatientFactory() for _ in range(4)]
    # Assessments a course can be proposed on (all conditions found), and one it cannot.
    AssessmentFactory(patient=patients[0], dermatologist=dermatologist, conditions=Condition.objects.all())
    AssessmentFactory(patient=patients[1], dermatologist=dermatologist, conditions=Condition.objects.all())
    AssessmentFactory(patient=patients[3], dermatologist=dermatologist, candidate=False)
    approved = TreatmentCourseFactory(patient=patients[0], approved=True, approved_by=dermatologist)
    TreatmentCourseFactory(patient=patients[1], status=TreatmentCourse.Status.PROPOSED)
    TreatmentCourseFactory(patient=patients[2], approved=True, approved_by=dermatologist, areas=[area()])
    now = timezone.now()
    soon = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=20)
    AppointmentFactory(
        patient=patients[0],
        kind=Appointment.Kind.TREATMENT,
        course=approved,
        device=devices[0],
        practitioner=dermatologist,
        room=rooms[0],
        start=soon,
    )
    AppointmentFactory(patient=patients[1], practitioner=nurse, room=rooms[1], start=soon + timedelta(hours=2))
    AppointmentFactory(
        patient=patients[2],
        practitioner=dermatologist,
        room=rooms[1],
        start=now - timedelta(minutes=10),
        status=Appointment.Status.CHECKED_IN,
    )
    return Token.objects.create(user=user).key


# The id fields of requests (in paths, queries and bodies) and the records they name.
ID_FIELDS = {
    "appointment": Appointment,
    "assessment": Assessment,
    "areas": TreatmentArea,
    "condition": Condition,
    "conditions": Condition,
    "course": TreatmentCourse,
    "device": LaserDevice,
    "patient": Patient,
    "practitioner": Practitioner,
    "room": Room,
}
# The record a path's {id} names, by the path's first part after /api/v1/.
PATH_IDS = {
    "appointments": "appointment",
    "assessments": "assessment",
    "conditions": "condition",
    "courses": "course",
    "devices": "device",
    "patients": "patient",
    "practitioners": "practitioner",
    "rooms": "room",
    "treatment-areas": "areas",
}


def _with_existing_ids(value, ids, field=None):
    """A strategy for `value` in which each whole number in an id field is either kept or replaced by
    the id of an existing record. Values of another type are kept, so a request meant to be invalid
    stays invalid."""
    if isinstance(value, dict):
        return st.fixed_dictionaries({key: _with_existing_ids(item, ids, key) for key, item in value.items()})
    if isinstance(value, list):
        return st.tuples(*(_with_existing_ids(item, ids, field) for item in value)).map(list)
    if field in ids and isinstance(value, int) and not isinstance(value, bool):
        return st.one_of(st.sampled_from(ids[field]), st.just(value))
    return st.just(value)


def _use_existing_ids(schema):
    ids = {field: list(model.objects.values_list("pk", flat=True)) for field, model in ID_FIELDS.items()}

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        resource = context.operation.path.removeprefix("/api/v1/").split("/")[0]
        return _with_existing_ids(path_parameters, {"id": ids[PATH_IDS[resource]]} if resource in PATH_IDS else {})

    @schema.hook
    def flatmap_query(context, query):
        return _with_existing_ids(query, ids)

    @schema.hook
    def flatmap_body(context, body):
        return _with_existing_ids(body, ids)


@pytest.fixture
def wsgi_app():
    """The real WSGI application. Like Django's test client, keep the request signals from closing
    the database connection, which holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def requests_made(capsys):
    """Counts the generated requests, says how many there were, and fails the run if too few."""
    counter = {"requests": 0}
    yield counter
    with capsys.disabled():
        print(f" [{counter['requests']} generated API requests]", end="")
    assert counter["requests"] >= MIN_REQUESTS, f"only {counter['requests']} generated requests"


@pytest.fixture
def auth_headers(db):
    return {"Authorization": f"Token {_seed_clinic()}"}


@pytest.fixture
def api_schema(request, wsgi_app, auth_headers):
    # schemathesis 4.32's `from_fixture` reads and relabels `Item._nodeid`, which pytest 9.2 no longer
    # has (the node id is now derived); give it the attribute so that the run can start.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=auth_headers)
    _use_existing_ids(schema)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=os.environ.get("FUZZ_RANDOM") is None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],  # a busy CI machine is not a fault of the API
)
def test_the_api_answers_every_generated_request_as_documented(case, auth_headers, requests_made):
    requests_made["requests"] += 1
    # A well-formed request may still name a record that does not exist or break a scheduling rule:
    # that is a documented 400, so schemathesis's "valid data is accepted" check does not apply.
    response = case.call_and_validate(
        headers=auth_headers, excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )
    if 400 <= response.status_code < 500:
        assert _has_message(response.json()), f"{response.status_code} without a message: {response.text}"


def _has_message(body) -> bool:
    """A refusal says why: {"detail": "..."} or a non-empty message for each field it names."""
    if isinstance(body, str):
        return bool(body.strip())
    if isinstance(body, list):
        return bool(body) and all(_has_message(item) for item in body)
    if isinstance(body, dict):
        return bool(body) and all(_has_message(value) for value in body.values())
    return False
