"""Logins, sessions, passwords, the Content Security Policy, deploy checks and error reports."""

import os
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.views.debug import ExceptionReporter

from clinic.reporting import NoPatientDataReporter
from clinic.roles import ABILITIES, MANAGER
from tests.conftest import book_treatment, local
from tests.factories import UserFactory
from tests.test_permissions import ROUTES, _url

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"  # the factories' password
LOGIN = "/accounts/login/"


def attempt(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


# Lockout


def test_five_wrong_passwords_lock_that_username_from_that_address_for_half_an_hour(client, time_machine):
    time_machine.move_to(local(1, 9), tick=False)
    UserFactory(username="reception")
    for _ in range(4):
        assert attempt(client, "reception", "wrong-password").status_code == 200  # the form again
    assert attempt(client, "reception", "wrong-password").status_code == 429  # the fifth
    locked = attempt(client, "reception", PASSWORD)
    assert locked.status_code == 429
    assert "Login paused" in locked.content.decode() and "30 minutes" in locked.content.decode()
    time_machine.move_to(local(1, 9, 31), tick=False)
    assert attempt(client, "reception", PASSWORD).status_code == 302


def test_a_lockout_does_not_lock_reception_out_elsewhere_or_others_out_here(client):
    UserFactory(username="reception")
    UserFactory(username="dr.derm")
    for _ in range(6):
        attempt(client, "reception", "wrong-password", address="203.0.113.9")
    assert attempt(client, "reception", "wrong-password", address="203.0.113.9").status_code == 429
    assert attempt(client, "reception", PASSWORD, address="10.0.0.1").status_code == 302
    client.post("/accounts/logout/")
    assert attempt(client, "dr.derm", PASSWORD, address="203.0.113.9").status_code == 302


def test_a_successful_login_forgets_earlier_mistakes(client):
    UserFactory(username="reception")
    for _ in range(4):
        attempt(client, "reception", "wrong-password")
    assert attempt(client, "reception", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        attempt(client, "reception", "wrong-password")
    assert attempt(client, "reception", PASSWORD).status_code == 302


# Passwords and sessions


def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Xq7!fz-Lm2p")  # 11
    validate_password("Xq7!fz-Lm2pW")  # 12


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_a_session_ends_after_thirty_idle_minutes_but_not_while_in_use(client, receptionist, time_machine):
    time_machine.move_to(local(1, 9), tick=False)
    assert attempt(client, "reception", PASSWORD).status_code == 302
    for minutes in (10, 20, 35, 50, 64):  # a request every quarter of an hour or less
        time_machine.move_to(local(1, 9) + timedelta(minutes=minutes), tick=False)
        assert client.get("/day/").status_code == 200
    time_machine.move_to(local(1, 9) + timedelta(minutes=64 + 31), tick=False)
    response = client.get("/day/")
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_session_cookies_end_with_the_browser_and_stay_out_of_scripts(settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and settings.SESSION_COOKIE_HTTPONLY


# Content Security Policy


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


# The photo view answers an image for a photo that exists (tests/test_photo_pages.py checks its headers).
PAGES = [
    (name, arguments, ability)
    for name, arguments, method, ability in ROUTES
    if method == "get" and name != "clinical:photo_file"
]


@pytest.mark.parametrize("name, arguments, ability", PAGES, ids=[name for name, *_ in PAGES])
def test_every_page_carries_the_content_security_policy(
    client, records, dermatologist, manager, name, arguments, ability
):
    user = manager if ability in ABILITIES and MANAGER in ABILITIES[ability] else dermatologist.user
    client.force_login(user)
    response = client.get(_url(name, arguments, records))
    assert response.status_code in (200, 400)  # 400: an API list asked without its required filters
    policy = _policy(response)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_the_login_page_the_admin_and_the_patient_link_pages_carry_it_too(client, manager):
    assert "script-src 'self'" in client.get(LOGIN)["Content-Security-Policy"]
    assert "script-src 'self'" in client.get("/p/prep/not-a-token/")["Content-Security-Policy"]
    client.force_login(manager)
    assert "script-src 'self'" in client.get("/admin/")["Content-Security-Policy"]


# Production settings


def test_check_deploy_finds_nothing_with_production_settings(tmp_path):
    root = Path(__file__).resolve().parent.parent
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT", "SECURE_COOKIES", "HSTS_SECONDS"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "SECRET_KEY": "x7!Rq2-" * 10,
        "ALLOWED_HOSTS": "clinic.example.com",
        "CLINIC_BASE_URL": "https://clinic.example.com",  # plain http is refused with DEBUG off (clinic.E002)
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# Error reports


def test_error_reports_show_no_request_parameters_or_local_values(settings):
    request = RequestFactory().post("/patients/new/?q=Ada+Byron", {"first_name": "Ada", "email": "ada@example.com"})
    secret_patient = "Ada Byron, born 10 December 1815"  # noqa: F841 - a local variable the report must hide
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        report = NoPatientDataReporter(request, *sys.exc_info()).get_traceback_text()
    assert "boom" in report
    for detail in ("Ada", "ada@example.com", "10 December 1815"):
        assert detail not in report
    assert settings.DEFAULT_EXCEPTION_REPORTER == "clinic.reporting.NoPatientDataReporter"
    assert issubclass(NoPatientDataReporter, ExceptionReporter)


def test_a_login_failure_logs_no_username(client, caplog):
    UserFactory(username="reception")
    with caplog.at_level("INFO"):
        attempt(client, "reception", "wrong-password")
    assert "reception" not in caplog.text


def test_the_anonymous_login_page_is_reachable(client):
    assert client.get(reverse("login")).status_code == 200


def test_patient_links_carry_record_numbers_only(clinic, frozen):
    from django.core import signing

    from outbox import links

    appointment = book_treatment(clinic, local(22, 10))
    token = links.make_token("confirm", appointment=appointment)
    assert signing.loads(token, salt=links._salt("confirm")) == {"a": appointment.pk, "v": appointment.version}
    assert clinic.patient.first_name not in links.link_url("confirm", appointment=appointment)


def test_the_web_servers_access_log_leaves_out_query_strings_and_referers():
    config = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    assert "%(U)s" in config["access_log_format"]
    for part in ("%(r)s", "%(q)s", "%(f)s"):
        assert part not in config["access_log_format"]


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["clinic.example.com"])
def test_the_health_check_answers_a_probe_from_inside_the_container_in_production(client):
    probe = client.get("/healthz/", HTTP_HOST="127.0.0.1:8000")
    assert (probe.status_code, probe.content) == (200, b"ok\n")
    # Everything else still redirects to https and checks the host.
    assert client.get("/accounts/login/", HTTP_HOST="clinic.example.com").status_code == 301
    assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000", secure=True).status_code == 400
