"""The clinic's own policies, as settings: what patients may do online and when, how long an online
booking is held, how the waitlist offers, when the skin check goes, test patches, photos.

Part of the settings: `clinic/settings.py` takes in every name here, read from the environment
like the rest (the README's tables list them, section by section).
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

VAR_DIR = Path(__file__).resolve().parent.parent / "var"
env = environ.Env()

# Patients online (portal/): a sign-in link by email (django-sesame), single use, for 30 minutes,
# good for the patient pages only; the sign-in requests are throttled (django-ratelimit, on the
# cache of clinic/settings.py) per address asked for and per client address. What a patient may
# change online themselves.
SESAME_MAX_AGE = timedelta(minutes=30)
SESAME_ONE_TIME = True
PORTAL_SIGN_IN_RATE_PER_ADDRESS = env.str("PORTAL_SIGN_IN_RATE_PER_ADDRESS", default="3/h")
PORTAL_SIGN_IN_RATE_PER_CLIENT = env.str("PORTAL_SIGN_IN_RATE_PER_CLIENT", default="20/h")
# A request for a link hands the address to the mail workers, which look it up, so that the answer
# takes as long for an unknown address as for a patient's (portal.services.sign_in_link_ask).
PORTAL_SIGN_IN_IN_WORKER = env.bool("PORTAL_SIGN_IN_IN_WORKER", default=True)
PORTAL_NOTICE_HOURS = env.int("PORTAL_NOTICE_HOURS", default=48)  # no online move or cancel closer than this
PORTAL_MAX_MOVES = env.int("PORTAL_MAX_MOVES", default=2)  # online moves of one visit by the patient
PORTAL_SESSION_HOURS = env.int("PORTAL_SESSION_HOURS", default=2)  # a patient session's life from its sign-in

# A consultation booked online is held this long for its patient to confirm their address by the
# emailed link; then the slot is free again. The booking page takes this many holds an hour from
# one client address (django-ratelimit, in the cache of clinic/settings.py).
HOLD_MINUTES = env.int("HOLD_MINUTES", default=30)
ONLINE_BOOKING_RATE = env.str("ONLINE_BOOKING_RATE", default="10/h")
# A hold that expired unconfirmed leaves the applicant's record; it is erased this long after
# (records.applicants), time enough for reception to see a "why did my booking vanish" call through.
APPLICANT_KEEP_HOURS = env.int("APPLICANT_KEEP_HOURS", default=72)

# The test patch before a course's first session (scheduling/services/test_patch.py): courses of a
# condition that asks for one, and of patients of these Fitzpatrick skin types (their assessment's),
# have a short patch visit with a laser first, and their first session waits this many clinic days.
TEST_PATCH_SKIN_TYPES = [int(t) for t in env.list("TEST_PATCH_SKIN_TYPES", default=["4", "5", "6"])]
TEST_PATCH_MINUTES = env.int("TEST_PATCH_MINUTES", default=15)
TEST_PATCH_WAIT_DAYS = env.int("TEST_PATCH_WAIT_DAYS", default=7)

# The skin two days after a treatment (README, "The skin two days after"): the email asking how the
# skin is goes SKIN_CHECK_DAYS after the session at SKIN_CHECK_HOUR clinic time; its answer links work
# for SKIN_CHECK_LINK_DAYS; a session with no answer SKIN_CHECK_NO_ANSWER_DAYS after the email was
# sent joins the dermatologists' queue.
SKIN_CHECK_DAYS = env.int("SKIN_CHECK_DAYS", default=2)
SKIN_CHECK_HOUR = env.int("SKIN_CHECK_HOUR", default=10)
SKIN_CHECK_LINK_DAYS = env.int("SKIN_CHECK_LINK_DAYS", default=14)
SKIN_CHECK_NO_ANSWER_DAYS = env.int("SKIN_CHECK_NO_ANSWER_DAYS", default=2)

# The waitlist (README, "Waitlist"): offers of a freed slot to waiting patients.
WAITLIST_OFFERS_PER_SLOT = env.int("WAITLIST_OFFERS_PER_SLOT", default=3)  # patients offered one slot at once
WAITLIST_MAX_OFFERS_PER_DAY = env.int("WAITLIST_MAX_OFFERS_PER_DAY", default=2)  # per patient, clinic day
WAITLIST_OFFER_HOURS = env.int("WAITLIST_OFFER_HOURS", default=2)  # how long an offer's link holds

# Uploaded photos (README, "Photos"): never at a public URL (no MEDIA_URL is served), only through
# the photo view, which checks the role and audits each look. Files under var/media/photos/ by
# default; PHOTO_STORAGE=s3 keeps them in an S3-compatible bucket through django-storages.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=20 * 1024 * 1024)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=40_000_000)
PHOTO_STORAGE = env.str("PHOTO_STORAGE", default="filesystem")
if PHOTO_STORAGE == "s3":  # private objects, read by the photo view itself: no object URL is ever given out
    PHOTO_STORAGE_BACKEND = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": env.str("PHOTO_S3_BUCKET"), "endpoint_url": env.str("PHOTO_S3_ENDPOINT_URL", default=None),
        "region_name": env.str("PHOTO_S3_REGION", default=None), "location": env.str("PHOTO_S3_PREFIX", default=""),
        "access_key": env.str("PHOTO_S3_ACCESS_KEY_ID", default=None),
        "secret_key": env.str("PHOTO_S3_SECRET_ACCESS_KEY", default=None),
        "default_acl": "private", "querystring_auth": True, "file_overwrite": False,
    }}  # fmt: skip
elif PHOTO_STORAGE == "filesystem":  # base_url None: the storage has no URL to give
    PHOTO_STORAGE_BACKEND = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {
        "location": MEDIA_ROOT / "photos", "base_url": None, "file_permissions_mode": 0o600,
    }}  # fmt: skip
else:
    raise ImproperlyConfigured("PHOTO_STORAGE is filesystem (the default) or s3.")
