"""The photo pages: adding photos on a session, serving one photo (role, audit, no caching), the
course comparison, and a patient's photos on export and erasure."""

import json
import os
import subprocess  # nosec B404 # a fresh interpreter to read the settings under another environment
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import storages
from django.urls import reverse

from clinical.services.consent import photo_consent_withdraw
from patients.models import Patient
from photos.models import SessionPhoto
from photos.services import photos_upload
from records.privacy import patient_erase, patient_export
from scheduling.services import appointment_complete
from tests.conftest import local
from tests.factories import AppointmentFactory, PatientFactory, TreatmentCourseFactory
from tests.photo_helpers import (
    checked_in_session,
    give_photo_consent,
    jpeg_with_gps,
    photo_storage,  # noqa: F401 - fixture
    png,
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("photo_storage")]
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.5", spot_size_mm="4.0", pulses=900, skin_reaction="mild_erythema")


@pytest.fixture
def session(clinic, frozen, time_machine):
    give_photo_consent(clinic.patient)
    return checked_in_session(clinic, time_machine, local(1, 10))


def stored_photo(session, by, view="front", phase="before"):
    (photo,) = photos_upload(
        appointment=session, phase=phase, files_by_view={view: [upload(jpeg_with_gps())]}, by=by
    ).stored
    return photo


def test_the_session_record_links_to_its_photos(client, clinic, session):
    client.force_login(clinic.practitioner.user)
    page = client.get(reverse("clinical:record", args=[session.pk])).content.decode()
    assert reverse("clinical:photos_upload", args=[session.pk]) in page


def test_photos_are_added_from_the_camera_and_a_bad_file_is_named(client, clinic, session):
    client.force_login(clinic.practitioner.user)
    url = reverse("clinical:photos_upload", args=[session.pk])
    page = client.get(url).content.decode()
    assert 'accept="image/*" capture="environment" multiple' in page
    assert 'name="view_front"' in page and 'name="view_close_up"' in page and 'name="view_left"' not in page
    response = client.post(
        url, {"phase": "before", "view_front": [upload(jpeg_with_gps(), "a.jpg"), upload(b"%PDF-1.4", "scan.jpg")],
              "view_close_up": [upload(png(), "b.png", "image/png")]},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert "<strong>scan.jpg</strong> is not a JPEG, PNG, HEIC or WebP image." in page
    assert "2 photos added." in page
    assert SessionPhoto.objects.filter(appointment=session).count() == 2
    response = client.post(url, {"phase": "after", "view_front": [upload(jpeg_with_gps())]})
    assert response.status_code == 302
    assert SessionPhoto.objects.filter(appointment=session, phase="after").count() == 1
    response = client.post(url, {"phase": "after"})
    assert response.status_code == 400 and "Choose or take at least one photo." in response.content.decode()


def test_without_photo_consent_the_page_says_so_and_takes_nothing(client, clinic, frozen, time_machine):
    session = checked_in_session(clinic, time_machine, local(1, 10))
    client.force_login(clinic.practitioner.user)
    url = reverse("clinical:photos_upload", args=[session.pk])
    page = client.get(url).content.decode()
    assert "has not given photo consent for their clinical record" in page
    assert reverse("patients:detail", args=[clinic.patient.pk]) in page
    response = client.post(url, {"phase": "before", "view_front": [upload(jpeg_with_gps())]})
    assert response.status_code == 400
    assert not SessionPhoto.objects.exists()


def test_a_photo_is_served_to_a_dermatologist_uncached_and_each_look_is_audited(client, clinic, session):
    photo = stored_photo(session, clinic.practitioner.user)
    client.force_login(clinic.practitioner.user)
    response = client.get(reverse("clinical:photo_file", args=[photo.key, "display"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response.content[:2] == b"\xff\xd8"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    client.get(reverse("clinical:photo_file", args=[photo.key, "thumbnail"]))
    looks = LogEntry.objects.get_for_object(photo).filter(action=LogEntry.Action.ACCESS).order_by("pk")
    assert [(e.actor, e.additional_data["size"]) for e in looks] == [
        (clinic.practitioner.user, "display"), (clinic.practitioner.user, "thumbnail"),
    ]  # fmt: skip
    # The URL names a random key, never the patient.
    assert reverse("clinical:photo_file", args=[photo.key, "display"]) == f"/clinical/photos/{photo.key}/display/"
    assert "Byron" not in photo.image and photo.image.startswith(photo.key.hex[:2] + "/" + photo.key.hex)


def test_reception_and_managers_see_no_photo_and_strangers_log_in(client, clinic, session, receptionist, manager):
    photo = stored_photo(session, clinic.practitioner.user)
    url = reverse("clinical:photo_file", args=[photo.key, "display"])
    assert client.get(url).status_code == 302
    for user in (receptionist, manager):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.get(reverse("clinical:course_photos", args=[clinic.course.pk])).status_code == 403
    assert not LogEntry.objects.get_for_object(photo).filter(action=LogEntry.Action.ACCESS).exists()
    client.force_login(clinic.practitioner.user)
    assert client.get(reverse("clinical:photo_file", args=[photo.key, "original"])).status_code == 404
    missing = "6f1c2a3e-0000-4000-8000-000000000001"
    assert client.get(reverse("clinical:photo_file", args=[missing, "display"])).status_code == 404


def test_the_course_page_compares_one_view_across_sessions_with_their_settings(client, clinic, session, time_machine):
    by = clinic.practitioner.user
    stored_photo(session, by)
    stored_photo(session, by, phase="after")
    appointment_complete(appointment=session, record=dict(RECORD))
    second = checked_in_session(clinic, time_machine, session.start + timedelta(days=clinic.course.min_interval_days))
    last = stored_photo(second, by, phase="after")
    stored_photo(second, by, view="close_up")
    client.force_login(by)
    response = client.get(reverse("clinical:course_photos", args=[clinic.course.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "1064 nm" in page and "2.50 J/cm²" in page and "4.0 mm" in page and "900" in page
    assert "Not recorded yet." in page  # the second session is checked in, not yet recorded
    assert page.count('id="show-first"') == 1 and reverse("clinical:photo_file", args=[last.key, "display"]) in page
    assert page.count("/thumbnail/") == 3  # the front views only: two in session 1, one in session 2
    close_ups = client.get(reverse("clinical:course_photos", args=[clinic.course.pk]), {"view": "close_up"})
    assert close_ups.content.decode().count("/thumbnail/") == 1
    assert 'id="show-first"' not in close_ups.content.decode()  # one session has a close-up: nothing to toggle
    assert "no-store" in response["Cache-Control"]


def test_the_results_queue_links_each_course_to_its_photos(client, clinic, session):
    appointment_complete(appointment=session, record=dict(RECORD))
    clinic.course.refresh_from_db()
    clinic.course.status = "completed"
    clinic.course.save()
    client.force_login(clinic.practitioner.user)
    page = client.get(reverse("clinical:results")).content.decode()
    assert reverse("clinical:course_photos", args=[clinic.course.pk]) in page


def test_the_export_holds_the_photos_and_erasure_deletes_their_files(
    clinic, session, manager, time_machine, django_capture_on_commit_callbacks
):
    photo = stored_photo(session, clinic.practitioner.user)
    files = [photo.image, photo.thumbnail]
    appointment_complete(appointment=session, record=dict(RECORD))
    data = json.loads(patient_export(patient=clinic.patient, by=manager))
    (exported,) = data["photos"]
    assert exported["id"] == str(photo.key) and exported["view"] == "front"
    assert exported["image_base64"].startswith("/9j/")  # a JPEG, base64
    time_machine.move_to(session.start + timedelta(days=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        patient_erase(patient=Patient.objects.get(pk=clinic.patient.pk), by=manager, reason="Request of 2 March")
    assert not SessionPhoto.objects.exists()
    assert [storages["photos"].exists(name) for name in files] == [False, False]


def test_a_dermatologist_removes_one_photo_with_a_reason_that_the_trail_keeps(
    client, clinic, session, manager, receptionist, time_machine, django_capture_on_commit_callbacks
):
    wrong, kept = (
        stored_photo(session, clinic.practitioner.user),
        stored_photo(session, clinic.practitioner.user, "close_up"),
    )
    url = reverse("clinical:photo_remove", args=[wrong.key])
    client.force_login(receptionist)
    assert client.post(url, {"reason": "Blurred"}).status_code == 403
    client.force_login(clinic.practitioner.user)
    page = client.get(reverse("clinical:photos_upload", args=[session.pk])).content.decode()
    assert url in page and "Why remove it" in page
    refused = client.post(url, {"reason": "   "}, follow=True).content.decode()
    assert "Say why the photo is removed" in refused and SessionPhoto.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url, {"reason": "Blurred: taken again"})
    assert answer["Location"] == reverse("clinical:photos_upload", args=[session.pk])
    assert list(SessionPhoto.objects.all()) == [kept]
    assert [storages["photos"].exists(name) for name in (wrong.image, wrong.thumbnail)] == [False, False]
    assert storages["photos"].exists(kept.image)
    photo_type = ContentType.objects.get_for_model(SessionPhoto)
    [removal] = LogEntry.objects.filter(action=LogEntry.Action.DELETE, content_type=photo_type)  # one, with the reason
    assert (removal.actor, removal.additional_data["reason"]) == (clinic.practitioner.user, "Blurred: taken again")
    client.force_login(manager)
    trail = client.get(reverse("patients:detail", args=[clinic.patient.pk])).content.decode()
    assert "photo removed" in trail and "Blurred: taken again" in trail
    appointment_complete(appointment=session, record=dict(RECORD))
    time_machine.move_to(session.start + timedelta(days=1), tick=False)
    patient_erase(patient=Patient.objects.get(pk=clinic.patient.pk), by=manager, reason="Request of 2 March")
    removal.refresh_from_db()
    assert removal.additional_data["reason"] != "Blurred: taken again"  # words about the patient, erased too


def test_the_teaching_page_shows_only_photos_whose_patients_say_yes_now_and_names_no_one(
    client, clinic, session, receptionist
):
    give_photo_consent(clinic.patient, marketing=True)  # the latest consent stands
    teaching = stored_photo(session, clinic.practitioner.user)
    other = PatientFactory(first_name="Wilhelmina", last_name="Quist")
    give_photo_consent(other, marketing=False)
    theirs = AppointmentFactory(
        kind="treatment", patient=other, course=TreatmentCourseFactory(patient=other, approved=True),
        practitioner=clinic.practitioner, room=clinic.room, device=clinic.device,
        start=session.start + timedelta(days=1), status="checked_in",  # not over the session: PostgreSQL refuses it
    )  # fmt: skip
    hidden = stored_photo(theirs, clinic.practitioner.user)
    url = reverse("clinical:teaching_photos")
    client.force_login(receptionist)
    assert client.get(url).status_code == 403
    client.force_login(clinic.practitioner.user)
    page = client.get(url).content.decode()
    assert str(teaching.key) in page and str(hidden.key) not in page
    assert clinic.patient.last_name not in page and "Quist" not in page  # no names on the page
    assert str(clinic.course.condition) in page
    photo_consent_withdraw(patient=clinic.patient)
    page = client.get(url).content.decode()
    assert str(teaching.key) not in page and "No photo may be used for teaching" in page


ROOT = Path(__file__).resolve().parent.parent


def test_photo_storage_on_s3_is_private_and_names_its_bucket():
    """PHOTO_STORAGE=s3 builds django-storages' S3 storage (boto3) with private objects; nothing is
    sent until a photo is stored, so no bucket is needed to check the wiring."""
    probe = (
        "import django, json; django.setup(); from django.core.files.storage import storages;"
        "s = storages['photos']; print(json.dumps([type(s).__name__, s.bucket_name, s.default_acl,"
        " s.endpoint_url, s.location, s.file_overwrite]))"
    )
    env = {
        "PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "clinic.settings", "DEBUG": "true",
        "PHOTO_STORAGE": "s3", "PHOTO_S3_BUCKET": "clinic-photos", "PHOTO_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "PHOTO_S3_PREFIX": "photos",
    }  # fmt: skip
    result = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "S3Storage",
        "clinic-photos",
        "private",
        "http://127.0.0.1:9000",
        "photos",
        False,
    ]
    refused = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env | {"PHOTO_STORAGE": "ftp"}, cwd=ROOT,
        capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode != 0 and "PHOTO_STORAGE is filesystem (the default) or s3." in refused.stderr
