"""Shared by the photo tests: real images made with Pillow, photo consent, a checked-in session."""

import copy
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from clinical.models import ConsentSignature, ConsentText
from clinical.services.consent import consent_sign
from scheduling.services import appointment_check_in
from tests.conftest import book_treatment

GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture
def photo_storage(settings, tmp_path):
    """Each test its own photo folder, so a test can list what the storage holds."""
    storages = copy.deepcopy(settings.STORAGES)
    storages["photos"]["OPTIONS"]["location"] = str(tmp_path / "photos")
    settings.STORAGES = storages
    return tmp_path / "photos"


def jpeg_with_gps(size=(640, 480), orientation=None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 90)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(size=(300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 30, 128)).save(out, "PNG")
    return out.getvalue()


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def give_photo_consent(patient, *, clinical=True, marketing=False):
    text = ConsentText.objects.filter(kind=ConsentText.Kind.PHOTO).first() or ConsentText.objects.create(
        kind=ConsentText.Kind.PHOTO, version=1, title="Photo consent", body="Photos of the treated area.",
        published_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    return consent_sign(
        patient=patient, text=text, typed_name=patient.full_name, channel=ConsentSignature.Channel.TABLET,
        client_address="10.0.0.5", photo_clinical=clinical, photo_marketing=marketing,
    )  # fmt: skip


def checked_in_session(clinic, time_machine, start):
    appointment = book_treatment(clinic, start)
    time_machine.move_to(start - timedelta(minutes=5), tick=False)
    appointment_check_in(appointment=appointment)
    return appointment
