"""Staff's second factor: a time-based code from an authenticator app (django-otp's TOTP device)
and single-use recovery codes (its static device).

The one rule is `second_factor_due`: a signed-in user whose session has not passed the code step
owes it if they have an app (whatever their role: a receptionist who enrolled uses it), or owes
enrolment first if their role is one of `STAFF_2FA_ROLES`. Every staff page and the admin ask it
through `clinic.middleware.SecondFactorMiddleware` and `clinic.admin_site.ClinicAdminSite`, the
API's session login through `api.authentication.VerifiedSessionAuthentication` (`session_owes`).
A wrong code counts toward the login lockout (django-axes) like a wrong password.
"""

import time
from base64 import b32encode
from binascii import unhexlify

import segno
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp import verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from clinic.errors import SchedulingError
from clinic.roles import has_role

VERIFY = "verify"  # the code step
ENROL = "enrol"  # set up an app first
APP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
# A session whose user owes nothing, no app and no role that needs one (checked at login), keeps
# their id and when that was last found here, so that their pages do not ask the database again on
# every request; the answer is asked again after FREE_RECHECK_SECONDS, so that an app enrolled from
# another session, or a new role that needs one, reaches this session within a minute.
FREE_SESSION_KEY = "second_factor_free"
FREE_RECHECK_SECONDS = 60


def _mark_free(session, user) -> None:
    session[FREE_SESSION_KEY] = [user.pk, int(time.time())]


def _marked_free(session, user) -> bool:
    marked = session.get(FREE_SESSION_KEY)
    return (
        isinstance(marked, list) and len(marked) == 2 and marked[0] == user.pk
        and time.time() - marked[1] < FREE_RECHECK_SECONDS
    )  # fmt: skip


class CodeRefused(SchedulingError):
    """A code that does not match the app (at enrolment) or a recovery code already used."""


def must_use_second_factor(user) -> bool:
    """Whether the user's role is one the clinic requires a second factor of (STAFF_2FA_ROLES)."""
    return has_role(user, *settings.STAFF_2FA_ROLES)


def has_second_factor(user) -> bool:
    """Whether the user has enrolled an authenticator app."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_due(*, user, verified: bool) -> str | None:
    """What a signed-in user still owes before a staff page: the code step (VERIFY), enrolment
    (ENROL), or nothing (None)."""
    if not user.is_authenticated or verified:
        return None
    if has_second_factor(user):
        return VERIFY
    if must_use_second_factor(user):
        return ENROL
    return None


def session_owes(request) -> str | None:
    """`second_factor_due` for the request's session (django-otp's OTPMiddleware says whether it
    passed the code step), remembered in the session for a minute while the answer is "nothing,
    and no app"."""
    user = request.user
    if not user.is_authenticated or _marked_free(request.session, user):
        return None
    verified = user.is_verified()
    due = second_factor_due(user=user, verified=verified)
    if due is None and not verified:
        _mark_free(request.session, user)
    else:
        request.session.pop(FREE_SESSION_KEY, None)
    return due


def sign_in_started(sender, request, user, **kwargs) -> None:
    """user_logged_in: the password step passed. A user who owes no code has signed in: their
    earlier failures are forgotten (the lockout's reset on success, which axes would otherwise do
    here, before the code step). One who owes a code keeps them until the code is right."""
    if request is None or not hasattr(request, "session"):
        return
    if second_factor_due(user=user, verified=False) is None:
        _mark_free(request.session, user)
        forget_failures(request, user=user)
    else:
        request.session.pop(FREE_SESSION_KEY, None)


# The lockout, shared with the password step: the same username and client-address pair.


def _credentials(user) -> dict:
    return {getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"): user.get_username()}


def locked_out(request, *, user) -> bool:
    """Whether django-axes holds this username from this address (marking the request so that its
    middleware answers with the lockout page)."""
    if AxesProxyHandler.is_allowed(request, _credentials(user)):
        return False
    request.axes_locked_out = True
    request.axes_credentials = _credentials(user)
    return True


def count_failure(request, *, user) -> bool:
    """Record a wrong code as a failed login for the lockout; whether it locked the pair out."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def forget_failures(request, *, user) -> None:
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.reset_attempts(ip_address=request.axes_ip_address, username=user.get_username())


# Enrolment, codes, recovery codes, reset.


def new_secret() -> str:
    """A fresh TOTP key (hex), kept in the session until the app's first code confirms it."""
    return default_key()


def secret_as_text(key: str) -> str:
    """The key as people type it into an app by hand: base32 in groups of four."""
    text = b32encode(unhexlify(key)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_code_svg(*, user, key: str) -> str:
    """The app's set-up link (otpauth://, issuer CLINIC_NAME) as an inline SVG: no image request,
    no data: URL, nothing the Content Security Policy must allow."""
    uri = TOTPDevice(user=user, key=key).config_url
    return segno.make(uri, error="m").svg_inline(scale=4, light="#fff", title="QR code for your authenticator app")


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def enrol(*, user, key: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the app set up with `key` by its current code; make new recovery codes. The app
    replaces any earlier one of the user. Returns the device and the codes, to show once."""
    device = TOTPDevice(user=user, name=APP_NAME, key=key, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    token = _normalised(code)
    if not (token.isdigit() and totp.verify(int(token), device.tolerance)):
        raise CodeRefused("That is not the code the app shows now. Check the app and type its newest code.")
    device.last_t = totp.t()
    with transaction.atomic():
        for earlier in TOTPDevice.objects.filter(user=user):
            earlier.delete()  # one by one: the audit trail records each
        device.save()
        return device, recovery_codes_renew(user=user)


def check_code(*, user, code: str):
    """The device that accepts `code`: six digits go to the app, anything else is a recovery
    code, used up by this. None when refused (django-otp also slows down repeated failures)."""
    token = _normalised(code)
    model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    device = model.objects.filter(user=user, confirmed=True).first()
    if device is None or not token:
        return None
    accepted = verify_token(user, device.persistent_id, token)
    if isinstance(accepted, StaticDevice):
        left = accepted.token_set.count()
        _audit(accepted, by=user, what={"recovery code used": True, "recovery codes left": left})
    return accepted


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_NAME).count()


def recovery_codes_renew(*, user) -> list[str]:
    """New recovery codes in place of any earlier ones; the list is shown once and never again."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        _audit(device, by=user, what={"recovery codes made": len(codes)})
    return codes


def second_factor_reset(*, user) -> int:
    """Remove the user's app and recovery codes (a lost phone): at their next sign-in they enrol
    again if their role needs it. Each removal is in the audit trail. Returns how many went."""
    removed = 0
    with transaction.atomic():
        for model in (TOTPDevice, StaticDevice):
            for device in model.objects.filter(user=user):
                device.delete()
                removed += 1
    return removed


def _audit(device, *, by, what: dict) -> None:
    LogEntry.objects.log_create(
        device, action=LogEntry.Action.ACCESS, changes=None, force_log=True, actor=by, additional_data=what
    )


def register_audit() -> None:
    """Enrolment and removal of a device are audit entries (django-auditlog); never its key, and
    not the time fields each code step rewrites. Called from ClinicConfig.ready()."""
    auditlog.register(TOTPDevice, include_fields=["name", "confirmed"])
    auditlog.register(StaticDevice, include_fields=["name", "confirmed"])
