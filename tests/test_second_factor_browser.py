"""Staff's second factor in a real Chromium: a dermatologist logs in with the password, sets up the
app from the key shown as text, keeps the recovery codes, and logs in again with password and code.
axe-core checks the enrolment, recovery-code, code-step and second-factor pages on the way."""

from base64 import b32decode
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from django_otp.oath import totp

from clinic.roles import DERMATOLOGIST, MANAGER
from tests.conftest import _in_group
from tests.factories import PractitionerFactory, UserFactory
from tests.test_accessibility import _check

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def log_in_with_password(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "dr.derm")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]")


def test_a_dermatologist_sets_up_the_app_then_logs_in_with_password_and_code(live_server, page, settings, time_machine):
    settings.STAFF_2FA_ROLES = [DERMATOLOGIST, MANAGER]
    time_machine.move_to(timezone.now(), tick=True)  # the server's clock and ours, moved on together below
    _in_group(PractitionerFactory(user=UserFactory(username="dr.derm")).user, DERMATOLOGIST)
    axe, found = Axe(), []

    log_in_with_password(page, live_server)
    page.wait_for_url("**/accounts/second-factor/enrol/?next=/")
    assert page.locator("figure.qr-code svg").count() == 1
    found += _check(page, axe, "enrolment")
    key = b32decode(page.locator("#secret-key").inner_text().replace(" ", ""))
    page.fill("input[name=code]", f"{totp(key):06d}")
    page.click("button:has-text('Confirm')")
    page.wait_for_url("**/accounts/second-factor/recovery-codes/**")
    assert page.locator(".recovery-codes li").count() == 10
    found += _check(page, axe, "recovery codes")
    page.click("text=I have kept them, continue")
    page.wait_for_url(f"{live_server.url}/")
    page.click("nav button:has-text('Log out')")
    page.wait_for_url("**/accounts/login/")

    time_machine.shift(timedelta(seconds=30))  # the app's next code: the one used to enrol is spent
    log_in_with_password(page, live_server)
    page.wait_for_url("**/accounts/second-factor/code/?next=/")
    assert page.locator("nav input[name=q]").count() == 0  # no staff menu before the code
    found += _check(page, axe, "code step")
    page.fill("input[name=code]", "000000")
    page.click("button:has-text('Continue')")
    assert "was not accepted" in page.locator("main").inner_text()
    found += _check(page, axe, "code step (a wrong code)")
    time_machine.shift(timedelta(seconds=2))  # django-otp refuses any code for a second after a wrong one
    page.fill("input[name=code]", f"{totp(key):06d}")
    page.click("button:has-text('Continue')")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/accounts/second-factor/")
    assert "10 recovery codes left" in page.locator("main").inner_text()
    found += _check(page, axe, "second factor")
    assert found == [], "serious or critical axe-core violations:\n" + "\n".join(found)
