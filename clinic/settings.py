"""Settings for the clinic scheduler.

Every value that differs between a laptop and a clinic's server comes from the environment, read
here and, for the clinic's own policies (online booking, holds, the waitlist, the skin check, test
patches, photos), in `clinic/settings_policy.py`, which this module takes in whole; nowhere else.
See the configuration tables in the README.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set the SECRET_KEY environment variable (or DEBUG=true for development).")
    SECRET_KEY = "insecure-development-key-only-for-DEBUG"  # noqa: S105  # nosec B105 # DEBUG only (see the check above)

from clinic.settings_policy import *  # noqa: E402,F403 - the clinic's policies, read from the environment there

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A form refused by the CSRF check gets the clinic's page (templates/403_csrf.html), not Django's bare one.
CSRF_FAILURE_VIEW = "clinic.views.csrf_failure"

INSTALLED_APPS = [
    "clinic.apps.ClinicAdminConfig",  # Django's admin, on a site that asks for the second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "axes",
    "csp",
    "django_otp",
    "clinic.apps.StaffAppsConfig",  # django_otp.plugins.otp_totp, named for the admin
    "django_otp.plugins.otp_static",
    "clinic",
    "catalogue",
    "patients",
    "clinical",
    "scheduling",
    "outbox",
    "aftercare",
    "photos",
    "records",
    "waitlist",
    "portal",
    "django_ratelimit",
    "api",
    "demo",
]

MIDDLEWARE = [
    "clinic.middleware.HealthCheckMiddleware",  # first: a probe needs no host check or https
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # user.is_verified(): this session passed the code step
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "clinic.middleware.IdleSessionMiddleware",
    "clinic.middleware.SecondFactorMiddleware",
    "clinic.middleware.AuditlogMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

# django-axes first, so a locked-out username and address pair is refused before the password is
# even checked; then Django's own backend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock a username *and* address pair, never a username alone, so nobody can lock reception out
# from elsewhere by typing wrong passwords for it.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Earlier failures are forgotten when the sign-in completes, after the second factor's code step
# where there is one (clinic.second_factor), not at the password: a wrong code counts as a failure.
AXES_RESET_ON_SUCCESS = False
# Left out of its log lines and stored attempts: axes's own two, and the code step's field.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Attempts count under the client's address (clinic.client.client_address): behind the TLS proxy,
# the X-Forwarded-For entry the trusted proxies added, counted from the right; otherwise the
# connection's. TRUSTED_PROXY_COUNT is how many proxies append to the header (a CDN and ours: 2).
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
AXES_CLIENT_IP_CALLABLE = "clinic.client.client_address"
AXES_VERBOSE = False  # its log lines name the username; ours log ids only

# Staff's second factor (clinic.second_factor): a code from an authenticator app, with recovery
# codes. Staff in these roles must enrol; anyone who enrolled uses it. STAFF_2FA_REQUIRED=false
# (the quick start's demo, scripts/run.sh) asks no role to enrol.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=True)
STAFF_2FA_ROLES = env.list("STAFF_2FA_ROLES", default=["Dermatologist", "Manager"]) if STAFF_2FA_REQUIRED else []
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# The audit trail (django-auditlog): who changed which record and when, and who opened a
# patient's clinical record. The registrations are in each app's models.py.
AUDITLOG_DISABLE_REMOTE_ADDR = False

# How often an open day or week board asks whether its appointments changed (scheduling.views.board).
BOARD_POLL_SECONDS = env.int("BOARD_POLL_SECONDS", default=5)

# Staff sessions end after a working stretch of inactivity and when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
# The age counts from the last request (clinic.middleware.IdleSessionMiddleware): an idle timeout.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Content Security Policy: our own scripts, styles and images only; no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # Bootstrap draws its icons as data: SVGs
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.roles",
            ],
        },
    },
]

# SQLite is the first-run default. Its transactions start IMMEDIATE so that writers queue up
# instead of failing mid-transaction; WAL lets the web server read while the worker writes.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# On PostgreSQL each worker keeps its connection for a minute: one opened per request cost an API
# request about 6 ms of the worker's CPU, and PostgreSQL a new backend process (bench/api_load.py,
# README "Benchmarks"). A kept connection is checked before its first use in a request, so one that
# a database restart broke is opened again rather than failing the request.
_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if _POSTGRES else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The covering index on appointment start is a PostgreSQL speed-up; SQLite keeps it as a plain index.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
USE_I18N = True
USE_TZ = True
# The clinic's one local time zone: working hours are wall-clock times in it, pages and emails
# show it, the database stores UTC.
TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="Europe/London")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# whitenoise serves the static files, under gunicorn (the quick start, production) as under
# runserver. It indexes them once as a process starts, never per request: STATIC_ROOT, which
# collectstatic fills (scripts/run.sh and the Dockerfile run it), and in DEBUG the apps' and
# static/ folders too. Its autorefresh (on by default in DEBUG) would look every static request up
# on disk again, in each gunicorn worker; here an edited static file shows after a restart.
WHITENOISE_AUTOREFRESH = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "photos": PHOTO_STORAGE_BACKEND,  # noqa: F405 - clinic/settings_policy.py
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# The JSON API under /api/v1/: token or session login for every endpoint; service refusals become
# 400/409 answers in one exception handler. Token first, so that an anonymous caller gets 401.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "api.common.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "api.parsers.StrictMultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pico Laser Clinic API",
    "DESCRIPTION": "Availability, bookings, treatment courses and patients. Times are ISO 8601 with a UTC offset.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files, not a CDN: the docs pages stay on the clinic's server.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "scheduling.models.Appointment.Status",
        "CourseStatusEnum": "clinical.models.TreatmentCourse.Status",
        "PatchResultEnum": "scheduling.models.Appointment.PatchResult",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Mail: the first run writes each message to a file under var/mail; production uses SMTP.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=VAR_DIR / "mail")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Pico Laser Clinic <clinic@localhost>")

# Mail providers through django-anymail: set EMAIL_BACKEND to e.g.
# anymail.backends.postmark.EmailBackend and the provider's ANYMAIL_* variables (ANYMAIL_POSTMARK_SERVER_TOKEN).
ANYMAIL = {key.removeprefix("ANYMAIL_"): value for key, value in env.ENVIRON.items() if key.startswith("ANYMAIL_")}

# The clinic as patients see it in emails and on their link pages.
CLINIC_NAME = env.str("CLINIC_NAME", default="Pico Laser Clinic")
CLINIC_ADDRESS = env.str("CLINIC_ADDRESS", default="1 Example Street, London")
CLINIC_PHONE = env.str("CLINIC_PHONE", default="020 7946 0000")
CLINIC_BASE_URL = env.str("CLINIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
OTP_TOTP_ISSUER = CLINIC_NAME  # the name staff's authenticator apps show beside the code

# When patient emails go out (see the README's table).
NOTIFICATIONS = {
    "PREP_REMINDER_LEAD_DAYS": 2,  # the prep reminder comes this many days before the 14-day prep begins
    "DAY_BEFORE_HOUR": 10,  # clinic time, the day before a treatment
    "NEXT_SESSION_PROMPT_DAYS": 2,  # after a completed session whose next one is unbooked
    "WINDOW_CLOSING_DAYS": 14,  # second prompt, before the interval window closes
    "MAX_ATTEMPTS": 5,  # then the row shows as failed
    "RETRY_BASE_SECONDS": 60,  # doubled after each failure
    "REQUEUE_AFTER_SECONDS": 300,  # a row queued or sending this long is claimed again
    "SEND_BATCH_SIZE": 25,  # rows per send task, sent over one connection to the mail server
}

# Celery's broker, chosen here and nowhere else. With REDIS_URL set (docker-compose.yml, production)
# it is Redis. Without it (the quick start on a machine with nothing but Python) it is kombu's
# filesystem transport: every message is a file under var/broker/ (BROKER_DIR), shared by the web
# server, `manage.py dispatch_notifications`, beat and the worker on this one machine, with no
# server to run. The worker takes a message by renaming it into processed/, on the same file
# system so that the rename is atomic and two consumers never take one message.
REDIS_URL = env.str("REDIS_URL", default="")
# The cache holds the sign-in and online-booking throttles' counters: Redis when there is one,
# shared by every web process (django-ratelimit counts with the cache's atomic increment); without
# Redis (the quick start on one machine) each process's memory, so the limits hold per process.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.W001"]  # Django's own Redis cache, atomic, not on its list
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]  # one machine: per process
BROKER_DIR = Path(env.str("BROKER_DIR", default=str(VAR_DIR / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A Redis that accepts connections but never answers must not hang a publish for ever.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 5}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": True,
        "processed_folder": str(BROKER_DIR / "processed"),
    }
    for folder in ("queue", "control", "processed"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
# Publishing gives up after a few seconds (three tries) when the broker cannot be reached: the
# dispatcher then releases its rows and says so, instead of hanging.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ROUTES = {
    "scheduling.tasks.send_notifications": {"queue": "mail"},
    "scheduling.tasks.send_notification": {"queue": "mail"},
    "portal.tasks.send_sign_in_links": {"queue": "mail"},
}
CELERY_BEAT_SCHEDULE = {
    "dispatch-notifications": {"task": "scheduling.tasks.dispatch_notifications", "schedule": 60.0},
    "release-expired-holds": {"task": "scheduling.tasks.release_expired_holds", "schedule": 60.0},
    "waitlist-sweep": {"task": "waitlist.tasks.sweep_offers", "schedule": 300.0},
    "forget-unconfirmed-applicants": {"task": "records.tasks.forget_unconfirmed_applicants", "schedule": 3600.0},
}

# Production hardening: on unless DEBUG, so that `manage.py check --deploy` finds nothing to say.
# A trial on plain http (docker compose on localhost) switches the https parts off in its .env.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # patient-link tokens never leave in a Referer header
X_FRAME_OPTIONS = "DENY"
# Error reports (ADMINS mail, logs) show no request parameters: they may hold patient details.
DEFAULT_EXCEPTION_REPORTER_FILTER = "clinic.reporting.NoPatientDataFilter"
DEFAULT_EXCEPTION_REPORTER = "clinic.reporting.NoPatientDataReporter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Django's request lines quote the path: without a patient link's token or control characters.
    "filters": {"request_paths": {"()": "clinic.accesslog.RequestPathFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_paths"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.server": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
