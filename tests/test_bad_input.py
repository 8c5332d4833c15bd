"""Input that generated requests found to answer 500, and the shape of every answer under /api/.

Every bad input gets a 4xx that says what was wrong (JSON under /api/, the clinic's page elsewhere),
and none of these is a server error."""

import json
import re

import pytest
from django.test import Client, override_settings
from django.urls import path
from drf_spectacular.generators import SchemaGenerator

import clinic.urls
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
DEEP = "[" * 2000 + "]" * 2000


@pytest.fixture
def root(clinic):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def _writing_operations(ids):
    """Every API operation that reads a JSON body, with its path's id filled in (a real record)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for route, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                yield method, re.sub(r"\{id\}", str(ids), route)


def _is_json_refusal(response, *statuses):
    assert response.status_code in statuses, (response.status_code, response.content[:200])
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = json.loads(response.content)
    assert body, "the refusal says what was wrong"
    return body


def test_a_body_nested_2000_deep_is_refused_by_every_json_endpoint(root, clinic):
    operations = list(_writing_operations(clinic.course.pk))
    assert len(operations) >= 8  # book, move, cancel, check-in, ..., propose, approve, patients
    for method, url in operations:
        response = getattr(root, method)(url, DEEP, content_type="application/json")
        assert response.status_code != 500, (method, url)
        assert response["Content-Type"] == "application/json", (method, url)


def test_a_deep_body_is_a_400_that_says_so(root):
    body = _is_json_refusal(root.post("/api/v1/appointments/", DEEP, content_type="application/json"), 400)
    assert "nested" in body["detail"]


@pytest.mark.parametrize("text", ["\\ud800", "a\\udfffb", "\\udc00\\ud800"])
def test_a_lone_surrogate_in_a_choice_field_is_a_400(root, text):
    response = root.post("/api/v1/appointments/", '{"kind": "' + text + '"}', content_type="application/json")
    assert "Unicode" in _is_json_refusal(response, 400)["detail"]


def test_a_surrogate_pair_written_as_escapes_is_ordinary_text(root):
    response = root.post("/api/v1/appointments/", '{"kind": "\\ud83d\\ude00"}', content_type="application/json")
    assert "kind" in _is_json_refusal(response, 400)  # 😀 is just not a kind of appointment


@pytest.mark.parametrize("login", ["/accounts/login/", "/admin/login/"])
def test_a_username_longer_than_any_is_refused_as_a_wrong_login(login):
    UserFactory(username="reception")
    response = Client(raise_request_exception=False).post(login, {"username": "u" * 256, "password": "x"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_a_6_mb_body_is_a_400_page_for_pages_and_json_for_the_api(root):
    big = "x" * (6 * 1024 * 1024)
    page = root.post("/patients/new/", {"first_name": big})
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    assert "too large" in page.content.decode()
    api = root.post("/api/v1/appointments/", json.dumps({"notes": big}), content_type="application/json")
    assert "too large" in _is_json_refusal(api, 400, 413)["detail"]


def test_every_api_answer_is_json_404_and_405_too(root):
    for response, status in (
        (root.get("/api/v1/no-such-thing/"), 404),
        (root.get("/api/v1/patients/999999/"), 404),
        (root.delete("/api/v1/availability/"), 405),
        (root.put("/api/v1/patients/"), 405),
    ):
        _is_json_refusal(response, status)


def _broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/v1/broken/", _broken), path("broken/", _broken), *clinic.urls.urlpatterns]
handler404 = clinic.urls.handler404
handler500 = getattr(clinic.urls, "handler500", None)


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_under_the_api_is_json_and_elsewhere_the_page(root):
    body = _is_json_refusal(root.get("/api/v1/broken/"), 500)
    assert "a bug" not in json.dumps(body)
    page = root.get("/broken/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
