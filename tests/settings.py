"""Test settings: the real settings with a throwaway secret and a fast password hasher."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")

from clinic.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# The end-to-end tests talk to a real Redis; keep their queues apart from a running dev worker,
# and each of pytest-xdist's workers (gw0, gw1, ...) apart from the others: they flush theirs.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
_BASE, _, _NUMBER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rpartition("/")
TEST_REDIS_URL = f"{_BASE}/{int(_NUMBER) - _WORKER}"  # a URL that ends in its database number
CELERY_BROKER_URL = TEST_REDIS_URL

# The test client and the live server speak plain http.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Tests jump the clock by hours; the idle timeout has its own test (tests/test_security.py).
SESSION_COOKIE_AGE = 7 * 24 * 3600
# Connections close after each request, as before: the live server's request threads and the
# tests' own threads would otherwise hold theirs open until the test database is dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Sign-in requests are looked up in the request, where most tests have no worker to do it;
# tests/test_portal_sign_in.py and the end-to-end test turn the worker's way on.
PORTAL_SIGN_IN_IN_WORKER = False
STAFF_2FA_ROLES = []  # off for the suite (force_login personas); tests/test_second_factor*.py turn it on
# Photos go to a throwaway folder, never var/media/ (tests/test_photos*.py give each test its own).
STORAGES["photos"]["OPTIONS"]["location"] = os.path.join(  # noqa: F405
    tempfile.gettempdir(), f"clinic-test-photos-{os.getpid()}"
)
