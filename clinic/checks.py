"""System checks that refuse a wrong configuration at start-up (`manage.py check`, runserver,
migrate; `check --deploy` adds the production ones). Registered in clinic.apps.ClinicConfig.ready().

| id | what is refused |
|---|---|
| clinic.E001 | `CLINIC_BASE_URL` not an absolute http(s) URL |
| clinic.E002 | `CLINIC_BASE_URL` not https while `DEBUG` is off (deploy check) |
| clinic.E003 | the send task's time limit over half of `NOTIFICATIONS["REQUEUE_AFTER_SECONDS"]` (outbox/checks.py) |
| clinic.E004 | `TIME_ZONE` (`CLINIC_TIME_ZONE`) not an IANA zone with its own rules |
| clinic.E005 | the SMTP email backend without `EMAIL_HOST` |
| clinic.E006 | the file email backend without `EMAIL_FILE_PATH` |
| clinic.E007 | a django-anymail backend missing its `ANYMAIL_*` settings |
| clinic.E008 | an `EMAIL_BACKEND` that cannot be imported |
| clinic.E009 | `TRUSTED_PROXY_COUNT` not a whole number of at least 1 |
| clinic.E010 | `STAFF_2FA_ROLES` naming a role the clinic does not have (clinic.roles.ROLES) |
| clinic.E011 | a test patch setting out of range (skin types I-VI, minutes 5-240 in fives, a wait of a day or more) |
"""

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from clinic.roles import ROLES

TAG = "clinic"  # `manage.py check --tag clinic` runs these alone

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
# Zone names that are only a fixed offset from UTC, with no rules of their own: "UTC+1",
# "Etc/GMT-1", "GMT+0", "+01:00", and the old US abbreviations that tzdata keeps as fixed offsets.
FIXED_OFFSET = re.compile(r"^(Etc/)?(GMT|UTC|UCT)?[+-]\d{1,2}(:?\d\d)?$|^(Etc/)?(EST|MST|HST)$", re.IGNORECASE)


@register(TAG)
def check_base_url(app_configs=None, **kwargs):
    url = getattr(settings, "CLINIC_BASE_URL", "")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            Error(
                f"CLINIC_BASE_URL is {url!r}, not an absolute http(s) URL.",
                hint="Every link in patient emails starts with it: set it to the clinic's address as patients "
                "reach it, e.g. https://clinic.example.com.",
                id="clinic.E001",
            )
        ]
    return []


@register(TAG, Tags.security, deploy=True)
def check_base_url_is_https(app_configs=None, **kwargs):
    url = getattr(settings, "CLINIC_BASE_URL", "")
    if settings.DEBUG or not isinstance(url, str) or urlsplit(url).scheme != "http":
        return []  # with DEBUG plain http is fine; not a URL at all is clinic.E001's
    return [
        Error(
            f"CLINIC_BASE_URL is {url!r}, plain http while DEBUG is off.",
            hint="Patient links carry tokens to their records: in production they must be https.",
            id="clinic.E002",
        )
    ]


@register(TAG)
def check_time_zone(app_configs=None, **kwargs):
    name = getattr(settings, "TIME_ZONE", None)
    problem = ""
    if not isinstance(name, str) or not name:
        problem = "is not set"
    elif FIXED_OFFSET.match(name):
        problem = "is a fixed offset from UTC, which keeps no summer time"
    else:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            problem = "is not a time zone the zoneinfo database knows"
    if not problem:
        return []
    return [
        Error(
            f"The clinic's time zone (TIME_ZONE, from CLINIC_TIME_ZONE) {name!r} {problem}.",
            hint="Working hours are wall-clock times in it: use the IANA name of the clinic's zone, "
            "e.g. Europe/London or America/New_York.",
            id="clinic.E004",
        )
    ]


@register(TAG)
def check_email_backend(app_configs=None, **kwargs):
    backend = getattr(settings, "EMAIL_BACKEND", "")
    if backend == SMTP_BACKEND and not getattr(settings, "EMAIL_HOST", ""):
        return [
            Error(
                "The SMTP email backend has no EMAIL_HOST.",
                hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, ...) to the mail server.",
                id="clinic.E005",
            )
        ]
    if backend == FILE_BACKEND and not getattr(settings, "EMAIL_FILE_PATH", None):
        return [
            Error(
                "The file email backend has no EMAIL_FILE_PATH.",
                hint="Set EMAIL_FILE_PATH to the directory the messages are written to.",
                id="clinic.E006",
            )
        ]
    if backend.startswith("anymail."):
        # Anymail backends read their settings when made (nothing is sent): a missing one is refused then.
        try:
            import_string(backend)()
        except ImproperlyConfigured as error:
            given = sorted(getattr(settings, "ANYMAIL", {}) or {})
            return [
                Error(
                    f"The email backend {backend} is missing its settings: {str(error).splitlines()[0]}",
                    hint=f"Set the provider's ANYMAIL_* environment variables (ANYMAIL has {given or 'no keys'}).",
                    id="clinic.E007",
                )
            ]
        except ImportError as error:
            return [_unimportable(backend, error)]
        return []
    try:
        import_string(backend)
    except ImportError as error:
        return [_unimportable(backend, error)]
    return []


def _unimportable(backend, error):
    return Error(
        f"EMAIL_BACKEND {backend!r} cannot be imported ({error}).",
        hint="Use a dotted path to a backend class, e.g. django.core.mail.backends.smtp.EmailBackend.",
        id="clinic.E008",
    )


@register(TAG, Tags.security)
def check_trusted_proxy_count(app_configs=None, **kwargs):
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 1)
    if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
        return []
    return [
        Error(
            f"TRUSTED_PROXY_COUNT is {count!r}, not a whole number of at least 1.",
            hint="It is how many proxies append to X-Forwarded-For in front of the app (usually 1); the "
            "login lockout counts attempts under the address they add (clinic.client.client_address).",
            id="clinic.E009",
        )
    ]


@register(TAG, Tags.security)
def check_second_factor_roles(app_configs=None, **kwargs):
    unknown = sorted(set(getattr(settings, "STAFF_2FA_ROLES", [])) - set(ROLES))
    if not unknown:
        return []
    return [
        Error(
            f"STAFF_2FA_ROLES names {', '.join(unknown)}, not a role of the clinic: nobody would be asked for it.",
            hint=f"Use some of {', '.join(ROLES)}, comma-separated (the group names, capitalised).",
            id="clinic.E010",
        )
    ]


@register(TAG)
def check_test_patch(app_configs=None, **kwargs):
    types = getattr(settings, "TEST_PATCH_SKIN_TYPES", [4, 5, 6])
    minutes = getattr(settings, "TEST_PATCH_MINUTES", 15)
    wait = getattr(settings, "TEST_PATCH_WAIT_DAYS", 7)
    wrong = []
    if any(not 1 <= t <= 6 for t in types):
        wrong.append(f"TEST_PATCH_SKIN_TYPES {types!r} holds a type outside Fitzpatrick 1 to 6")
    if not (isinstance(minutes, int) and 5 <= minutes <= 240 and minutes % 5 == 0):
        wrong.append(f"TEST_PATCH_MINUTES {minutes!r} is not 5 to 240 in fives (a booking's length)")
    if not (isinstance(wait, int) and wait >= 1):
        wrong.append(f"TEST_PATCH_WAIT_DAYS {wait!r} is not a whole number of days of at least 1")
    return [Error(f"{problem}.", hint="See the README's test patch settings.", id="clinic.E011") for problem in wrong]
