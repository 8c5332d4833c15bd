"""The clinic's system checks (clinic/checks.py): each refuses its wrong configuration and passes the
right one; the project's own settings pass them all."""

import pytest
from django.conf import settings
from django.core.checks import Error, run_checks
from django.test import override_settings

SMTP = "django.core.mail.backends.smtp.EmailBackend"
FILE = "django.core.mail.backends.filebased.EmailBackend"
POSTMARK = "anymail.backends.postmark.EmailBackend"
PRODUCTION = dict(
    DEBUG=False, CLINIC_BASE_URL="https://clinic.example.com", EMAIL_BACKEND=SMTP, EMAIL_HOST="smtp.example.com"
)


def clinic_errors(deploy=False):
    """The ids of what the clinic's checks report (with the deploy ones if asked)."""
    messages = run_checks(tags=["clinic"], include_deployment_checks=deploy)
    assert all(isinstance(message, Error) for message in messages)
    return sorted(message.id for message in messages)


def test_the_test_settings_pass():
    assert clinic_errors() == []


def test_production_like_settings_pass_the_deploy_checks_too():
    with override_settings(**PRODUCTION):
        assert clinic_errors(deploy=True) == []


def test_the_checks_run_with_the_project_checks():
    ids = {message.id for message in run_checks(include_deployment_checks=True)}
    assert "clinic.E002" in ids  # tests.settings: DEBUG off and http://127.0.0.1:8000
    with override_settings(CLINIC_BASE_URL="not a url"):
        assert "clinic.E001" in {message.id for message in run_checks()}


# CLINIC_BASE_URL


@pytest.mark.parametrize("url", ["", "clinic.example.com", "/p/", "ftp://clinic.example.com", "https://", None])
def test_a_base_url_that_is_not_absolute_http_is_refused(url):
    with override_settings(CLINIC_BASE_URL=url):
        assert clinic_errors() == ["clinic.E001"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "https://clinic.example.com", "https://example.com/clinic"])
def test_an_absolute_http_base_url_passes(url):
    with override_settings(CLINIC_BASE_URL=url):
        assert clinic_errors() == []


def test_plain_http_is_refused_in_production_by_the_deploy_checks_only():
    with override_settings(**PRODUCTION | {"CLINIC_BASE_URL": "http://clinic.example.com"}):
        assert clinic_errors() == []  # runserver, migrate: not refused
        assert clinic_errors(deploy=True) == ["clinic.E002"]


def test_plain_http_passes_the_deploy_checks_with_debug():
    with override_settings(DEBUG=True, CLINIC_BASE_URL="http://127.0.0.1:8000"):
        assert clinic_errors(deploy=True) == []


# The send task's time limit against the re-claim age


def test_a_send_time_limit_not_well_under_the_reclaim_age_is_refused():
    from outbox.tasks import SEND_TIME_LIMIT

    assert SEND_TIME_LIMIT == 120
    for requeue in (239, 120, 60, None, "300"):
        with override_settings(NOTIFICATIONS=settings.NOTIFICATIONS | {"REQUEUE_AFTER_SECONDS": requeue}):
            assert clinic_errors() == ["clinic.E003"], requeue


def test_a_send_time_limit_at_most_half_the_reclaim_age_passes():
    for requeue in (240, 300, 3600):
        with override_settings(NOTIFICATIONS=settings.NOTIFICATIONS | {"REQUEUE_AFTER_SECONDS": requeue}):
            assert clinic_errors() == [], requeue


def test_the_check_reads_the_tasks_time_limit(monkeypatch):
    import outbox.tasks

    monkeypatch.setattr(outbox.tasks, "SEND_TIME_LIMIT", 200)
    assert clinic_errors() == ["clinic.E003"]  # 200 > 300 / 2


# The clinic's time zone


@pytest.mark.parametrize("zone", ["UTC+1", "Etc/GMT-1", "GMT+0", "+01:00", "EST", "Europe/Londres", "", "../etc"])
def test_a_time_zone_that_is_not_an_iana_zone_with_rules_is_refused(zone):
    with override_settings(TIME_ZONE=zone):
        assert clinic_errors() == ["clinic.E004"]


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"])
def test_an_iana_time_zone_passes(zone):
    with override_settings(TIME_ZONE=zone):
        assert clinic_errors() == []


# Email backends and their settings


def test_the_smtp_backend_needs_a_host():
    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST=""):
        assert clinic_errors() == ["clinic.E005"]
    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="smtp.example.com"):
        assert clinic_errors() == []


def test_the_file_backend_needs_a_path(tmp_path):
    with override_settings(EMAIL_BACKEND=FILE, EMAIL_FILE_PATH=None):
        assert clinic_errors() == ["clinic.E006"]
    with override_settings(EMAIL_BACKEND=FILE, EMAIL_FILE_PATH=tmp_path):
        assert clinic_errors() == []


def test_an_anymail_backend_needs_its_provider_settings():
    with override_settings(EMAIL_BACKEND=POSTMARK, ANYMAIL={}):
        assert clinic_errors() == ["clinic.E007"]
        (error,) = run_checks(tags=["clinic"])
        assert "POSTMARK_SERVER_TOKEN" in error.msg
    with override_settings(EMAIL_BACKEND=POSTMARK, ANYMAIL={"MAILGUN_API_KEY": "key"}):
        assert clinic_errors() == ["clinic.E007"]  # some key, but not the provider's
    with override_settings(EMAIL_BACKEND=POSTMARK, ANYMAIL={"POSTMARK_SERVER_TOKEN": "token"}):
        assert clinic_errors() == []


def test_an_anymail_backend_that_needs_no_settings_passes():
    with override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend", ANYMAIL={}):
        assert clinic_errors() == []


@pytest.mark.parametrize(
    "backend", ["django.core.mail.backends.smtp.EmailBackends", "anymail.backends.nope.EmailBackend", ""]
)
def test_an_email_backend_that_cannot_be_imported_is_refused(backend):
    with override_settings(EMAIL_BACKEND=backend):
        assert clinic_errors() == ["clinic.E008"]
