"""Staff's second factor: enrolment with a real code from the device's key, the code step, recovery
codes, the shared login lockout, who must enrol, and the one gate over pages, the admin and the
API's session login (clinic.second_factor, clinic.middleware.SecondFactorMiddleware)."""

import runpy
from binascii import unhexlify
from datetime import timedelta
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.core.checks import run_checks
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from clinic import second_factor
from clinic.roles import DERMATOLOGIST, MANAGER
from clinic.second_factor_views import ENROL_KEY
from tests.conftest import MONDAY_MORNING
from tests.test_permissions import ROUTES, _url

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"  # the factories' password
CODE_URL = reverse("second_factor:verify")
ENROL_URL = reverse("second_factor:enrol")
BOARD = reverse("scheduling:day_board")


@pytest.fixture
def required(settings, time_machine):
    """The production default (dermatologists and managers), django-otp's own slow-down after a
    failure switched off so that codes can follow each other, and the clock still."""
    settings.STAFF_2FA_ROLES = [DERMATOLOGIST, MANAGER]
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0
    time_machine.move_to(MONDAY_MORNING, tick=False)
    return time_machine


def code_now(key: str) -> str:
    """What the app shows now for the hex key: RFC 6238, computed by django-otp's own TOTP."""
    return f"{totp(unhexlify(key)):06d}"


def enrolled(user, clock) -> list[str]:
    """Set up an app for `user` through the service; the clock moves on past the code it used."""
    key = second_factor.new_secret()
    _, codes = second_factor.enrol(user=user, key=key, code=code_now(key))
    clock.shift(timedelta(seconds=30))
    return codes


def app_code(user) -> str:
    return code_now(TOTPDevice.objects.get(user=user).key)


def sign_in(client, user, address="10.0.0.1"):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=address)
    assert response.status_code == 302, response.content[:300]
    return response


def send_code(client, code, address="10.0.0.1", next_url=BOARD):
    return client.post(CODE_URL, {"code": code, "next": next_url}, REMOTE_ADDR=address)


def test_production_asks_dermatologists_and_managers_and_the_demo_turns_it_off(monkeypatch):
    for name in ("STAFF_2FA_ROLES", "STAFF_2FA_REQUIRED", "DJANGO_SETTINGS_MODULE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "tests-only-not-secret")
    assert runpy.run_path(str(ROOT / "clinic" / "settings.py"))["STAFF_2FA_ROLES"] == [DERMATOLOGIST, MANAGER]
    monkeypatch.setenv("STAFF_2FA_REQUIRED", "false")
    assert runpy.run_path(str(ROOT / "clinic" / "settings.py"))["STAFF_2FA_ROLES"] == []
    assert 'STAFF_2FA_REQUIRED="${STAFF_2FA_REQUIRED:-false}"' in (ROOT / "scripts" / "run.sh").read_text()


def test_a_dermatologist_enrols_with_the_apps_code_then_sees_the_recovery_codes_once(client, dermatologist, required):
    user = dermatologist.user
    client.force_login(user)
    assert client.get(BOARD).url == f"{ENROL_URL}?next={BOARD}"
    page = client.get(ENROL_URL, {"next": BOARD}).content.decode()
    key = client.session[ENROL_KEY]
    assert "<svg" in page and second_factor.secret_as_text(key) in page  # the QR code, and the key as text
    wrong = f"{(int(code_now(key)) + 1) % 1_000_000:06d}"
    refused = client.post(ENROL_URL, {"code": wrong, "next": BOARD})
    assert refused.status_code == 200 and "not the code the app shows" in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.session[ENROL_KEY] == key  # a mistyped code keeps the key the app was given

    confirmed = client.post(ENROL_URL, {"code": code_now(key), "next": BOARD})
    assert confirmed.url == f"{reverse('second_factor:recovery_codes')}?next=%2Fday%2F"
    codes = client.get(confirmed.url).context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(reverse("second_factor:recovery_codes")).url == reverse("second_factor:manage")  # once
    assert client.get(BOARD).status_code == 200  # this session passed its second factor
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert device.key == key
    entry = LogEntry.objects.get_for_object(device).get(action=LogEntry.Action.CREATE)
    assert entry.actor == user and "key" not in entry.changes_dict


def test_a_user_with_an_app_passes_the_code_step_with_its_code_and_not_a_wrong_or_used_one(
    client, receptionist, required
):
    enrolled(receptionist, required)
    sign_in(client, receptionist)
    assert client.get(BOARD).url == f"{CODE_URL}?next={BOARD}"
    code = app_code(receptionist)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "was not accepted" in send_code(client, wrong).content.decode()
    assert client.get(BOARD).status_code == 302
    assert send_code(client, code).url == BOARD
    assert client.get(BOARD).status_code == 200
    client.post(reverse("logout"))
    sign_in(client, receptionist)
    assert send_code(client, code).status_code == 200  # the same code a second time, in its 30 seconds


def test_a_recovery_code_works_once_only_and_its_use_is_audited(client, dermatologist, required):
    user = dermatologist.user
    codes = enrolled(user, required)
    sign_in(client, user)
    assert send_code(client, codes[0].upper()).url == BOARD  # typed in capitals: still the code
    device = StaticDevice.objects.get(user=user)
    entries = LogEntry.objects.get_for_object(device).filter(action=LogEntry.Action.ACCESS)
    [used] = [entry for entry in entries if "recovery code used" in entry.additional_data]
    assert used.actor == user and used.additional_data["recovery codes left"] == 9
    client.post(reverse("logout"))
    sign_in(client, user)
    assert send_code(client, codes[0]).status_code == 200  # refused: the form again
    assert client.get(BOARD).status_code == 302
    assert send_code(client, codes[1]).url == BOARD


def test_new_recovery_codes_replace_the_old_ones(client, dermatologist, required):
    user = dermatologist.user
    old = enrolled(user, required)
    sign_in(client, user)
    send_code(client, app_code(user))
    shown = client.post(reverse("second_factor:renew_recovery_codes"))
    new = client.get(shown.url).context["codes"]
    assert set(new).isdisjoint(old) and second_factor.recovery_codes_left(user) == 10
    client.post(reverse("logout"))
    sign_in(client, user)
    assert send_code(client, old[0]).status_code == 200
    assert send_code(client, new[0]).url == BOARD


def test_five_wrong_codes_lock_the_username_from_that_address_as_wrong_passwords_do(client, dermatologist, required):
    user = dermatologist.user
    enrolled(user, required)
    sign_in(client, user)
    for _ in range(3):
        assert send_code(client, "000000").status_code == 200
    # Logging in again with the password does not wipe the failures of the code step.
    client.post(reverse("logout"))
    sign_in(client, user)
    assert send_code(client, "000000").status_code == 200
    locked = send_code(client, "000000")
    assert locked.status_code == 429 and "Login paused" in locked.content.decode()
    assert "_auth_user_id" not in client.session  # the half-done sign-in ended
    password = client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert password.status_code == 429
    # The pair is locked, not the person: from elsewhere the password and a right code still work.
    sign_in(client, user, address="10.0.0.2")
    assert send_code(client, app_code(user), address="10.0.0.2").url == BOARD
    required.shift(timedelta(minutes=31))
    client.post(reverse("logout"))
    sign_in(client, user)  # the lockout has passed


def test_a_right_code_forgets_the_earlier_failures(client, dermatologist, required):
    user = dermatologist.user
    enrolled(user, required)
    sign_in(client, user)
    for _ in range(4):
        send_code(client, "000000")
    assert send_code(client, app_code(user)).url == BOARD
    client.post(reverse("logout"))
    sign_in(client, user)
    for _ in range(4):
        assert send_code(client, "000000").status_code == 200


def test_roles_that_need_it_are_sent_to_enrolment_and_reception_only_once_enrolled(
    client, receptionist, manager, dermatologist, required
):
    for user in (dermatologist.user, manager):
        client.force_login(user)
        assert client.get(BOARD).url.startswith(ENROL_URL)
        assert client.get("/admin/").url.startswith(ENROL_URL)
        assert client.get(reverse("second_factor:manage")).url.startswith(ENROL_URL)
    client.force_login(receptionist)
    assert client.get(BOARD).status_code == 200  # reception may, but need not
    assert client.get(reverse("second_factor:manage")).status_code == 200
    enrolled(receptionist, required)
    client.force_login(receptionist)
    assert client.get(BOARD).url.startswith(CODE_URL)  # enrolled: from now on it asks
    assert client.get(ENROL_URL).status_code == 302  # no way round it by enrolling a second phone


def test_a_session_signed_in_free_of_it_is_asked_within_a_minute_of_a_new_role_that_needs_it(
    client, receptionist, required
):
    from django.contrib.auth.models import Group

    sign_in(client, receptionist)
    assert client.get(BOARD).status_code == 200  # reception: no app, none needed
    receptionist.groups.add(Group.objects.get(name=MANAGER))  # promoted, from another desk
    assert client.get(BOARD).status_code == 200  # the answer found at sign-in holds a minute
    required.shift(timedelta(seconds=61))
    assert client.get(BOARD).url.startswith(ENROL_URL)


def test_every_staff_page_and_endpoint_waits_for_the_second_factor(client, records, dermatologist, required):
    client.force_login(dermatologist.user)
    for name, arguments, method, _ in ROUTES:
        if name.startswith("second_factor:"):
            continue
        response = getattr(client, method)(_url(name, arguments, records))
        if name.startswith("api"):
            assert response.status_code == 401, name
        else:
            assert response.status_code == 302 and response.url.startswith(ENROL_URL), name


def test_the_admin_refuses_an_unverified_session_of_someone_with_an_app(client, manager, settings, required):
    settings.STAFF_2FA_ROLES = []  # the admin asks whoever has an app, whatever the clinic requires
    enrolled(manager, required)
    sign_in(client, manager)
    assert client.get("/admin/").url == f"{CODE_URL}?next=/admin/"
    unverified = client.get(CODE_URL).wsgi_request
    assert admin.site.has_permission(unverified) is False  # the lock behind the middleware's redirect
    send_code(client, app_code(manager))
    response = client.get("/admin/")
    assert response.status_code == 200 and admin.site.has_permission(response.wsgi_request)


def test_the_apis_session_login_is_refused_unverified_and_tokens_are_unchanged(client, dermatologist, required):
    user = dermatologist.user
    enrolled(user, required)
    sign_in(client, user)
    url = reverse("api:patient-list")
    refused = client.get(url)
    assert refused.status_code == 401 and "second factor" in refused.json()["detail"]
    key = Token.objects.create(user=user).key
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    send_code(client, app_code(user))
    assert client.get(url).status_code == 200


def test_a_manager_resets_a_lost_phone_in_the_admin_and_the_trail_says_so(client, manager, dermatologist, required):
    derm = dermatologist.user
    enrolled(derm, required)
    enrolled(manager, required)
    sign_in(client, manager)
    send_code(client, app_code(manager))
    device = TOTPDevice.objects.get(user=derm)
    changelist = reverse("admin:otp_totp_totpdevice_changelist")
    assert client.get(changelist).status_code == 200
    assert device.key not in client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    response = client.post(changelist, {"action": "reset", "_selected_action": [device.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=derm).exists() and not StaticDevice.objects.filter(user=derm).exists()
    removed = LogEntry.objects.filter(action=LogEntry.Action.DELETE, actor=manager)
    assert {entry.content_type.model for entry in removed} == {"totpdevice", "staticdevice"}
    client.force_login(derm)
    assert client.get(BOARD).url.startswith(ENROL_URL)  # the dermatologist sets up the new phone


def test_a_role_the_clinic_does_not_have_is_refused_at_start_up(settings):
    settings.STAFF_2FA_ROLES = ["Dermatologists"]  # a typo would leave the dermatologists without it
    assert "clinic.E010" in {message.id for message in run_checks(tags=["clinic"])}
    settings.STAFF_2FA_ROLES = ["Reception", "Manager"]
    assert "clinic.E010" not in {message.id for message in run_checks(tags=["clinic"])}
