"""The project as a whole: system checks, migrations, settings, login and the home page."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_system_checks_are_clean():
    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def settings_under(env):
    """Load clinic.settings in a fresh interpreter with exactly `env` and report what it read."""
    probe = (
        "import json, django; from django.conf import settings as s;"
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
        "'tz': s.TIME_ZONE, 'broker': s.CELERY_BROKER_URL, 'hosts': s.ALLOWED_HOSTS, 'debug': s.DEBUG,"
        "'use_tz': s.USE_TZ, 'options': s.DATABASES['default'].get('OPTIONS', {}),"
        "'broker_options': s.CELERY_BROKER_TRANSPORT_OPTIONS}))"
    )
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "clinic.settings"}
    return subprocess.run([sys.executable, "-c", probe], env=base | env, cwd=ROOT, capture_output=True, text=True)


def test_settings_default_to_sqlite_under_var_and_london_time():
    result = settings_under({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["db"] == "django.db.backends.sqlite3"
    assert read["name"].endswith("var/clinic.sqlite3")
    assert read["options"]["transaction_mode"] == "IMMEDIATE"
    assert read["tz"] == "Europe/London"
    assert read["use_tz"] is True


def test_without_redis_url_the_broker_is_files_under_var(tmp_path):
    result = settings_under({"DEBUG": "true", "BROKER_DIR": str(tmp_path / "broker")})
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["broker"] == "filesystem://"
    options = read["broker_options"]
    # One folder for both directions: what the web server or beat writes, the worker reads.
    assert options["data_folder_in"] == options["data_folder_out"] == str(tmp_path / "broker" / "queue")
    for folder in ("data_folder_in", "control_folder", "processed_folder"):
        assert Path(options[folder]).is_dir()  # made if missing
    assert str(ROOT / "var" / "broker") in settings_under({"DEBUG": "true"}).stdout  # the default place


def test_settings_come_from_the_environment():
    result = settings_under(
        {
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://clinic:pw@db:5432/clinic",
            "REDIS_URL": "redis://redis:6379/2",
            "CLINIC_TIME_ZONE": "America/New_York",
            "ALLOWED_HOSTS": "clinic.example.com,localhost",
        }
    )
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["db"] == "django.db.backends.postgresql"
    assert read["name"] == "clinic"
    assert read["broker"] == "redis://redis:6379/2"
    assert read["tz"] == "America/New_York"
    assert read["hosts"] == ["clinic.example.com", "localhost"]
    assert read["debug"] is False


def test_a_production_start_without_a_secret_key_is_refused_clearly():
    result = settings_under({})
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


@pytest.mark.django_db
def test_home_page_needs_a_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_login_page_renders_with_vendored_assets(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "/static/vendor/htmx/htmx.min.js" in html
    # Every script, style and image comes from the app itself (the CSRF token is random text, so the
    # check reads the addresses, not the whole page).
    addresses = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert addresses and all(address.startswith("/") or address.startswith("#") for address in addresses), addresses


@pytest.mark.django_db
def test_home_page_says_who_you_are(client, dermatologist):
    client.force_login(dermatologist.user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "dr.derm" in response.content.decode()
    assert "dermatologist" in response.content.decode()


def home_page_links(client, user):
    """The links in the home page's content (not the top bar), and the page's text."""
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    content = html.split("<main", 1)[1].split("</main>", 1)[0]
    return set(re.findall(r'href="([^"]+)"', content)), content


ALL_STAFF = {"scheduling:day_board", "patients:search", "queues:index"}
BOOKING = {"patients:create", "scheduling:book_visit"}
COURSE_QUEUES = {"clinical:review", "clinical:results"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona, expected",
    [
        ("receptionist", ALL_STAFF | BOOKING),
        ("dermatologist", ALL_STAFF | BOOKING | COURSE_QUEUES),
        ("manager", ALL_STAFF | COURSE_QUEUES | {"admin:index"}),
    ],
)
def test_home_page_leads_each_role_into_the_pages_it_may_use(client, request, persona, expected):
    person = request.getfixturevalue(persona)
    user = getattr(person, "user", person)
    every = ALL_STAFF | BOOKING | COURSE_QUEUES | {"admin:index"}
    links, text = home_page_links(client, user)
    assert links == {reverse(name) for name in expected}
    assert not links & {reverse(name) for name in every - expected}
    assert "arrives here next" not in text
    for link in links:  # none of them is a 403 for this role
        assert client.get(link).status_code == 200, link


@pytest.mark.django_db
def test_home_page_of_a_user_without_a_role_says_so_and_links_nowhere(client):
    from tests.factories import UserFactory

    links, text = home_page_links(client, UserFactory(username="newcomer"))
    assert links == set()
    assert "no clinic role yet" in text


@pytest.mark.django_db
def test_staff_can_log_in_through_the_form(client, receptionist):
    response = client.post(reverse("login"), {"username": "reception", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == receptionist


@pytest.mark.django_db
def test_an_unknown_address_shows_the_clinics_own_page_for_staff_and_strangers(client, receptionist):
    anonymous = client.get("/no-such-page/")
    client.force_login(receptionist)
    staff = client.get("/no-such-page/")
    for response in (anonymous, staff):
        body = response.content.decode()
        assert response.status_code == 404
        assert "Page not found" in body and 'class="navbar-brand"' in body, body[:300]
    assert client.get("/api/v1/no-such-thing/").json() == {"detail": "Not found."}
