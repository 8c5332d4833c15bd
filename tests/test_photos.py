"""The upload check and the photo service: real images made with Pillow, stored and reopened."""

import io
import zlib
from pathlib import Path

import pillow_heif
import pytest
from django.core.files.storage import storages
from PIL import Image

from clinic.errors import SchedulingError
from clinical.services.consent import photo_consent_withdraw
from photos.models import SessionPhoto
from photos.processing import PhotoRefused, clean_photo
from photos.services import may_show, photos_upload, views_for
from tests.conftest import book_treatment, local
from tests.factories import area
from tests.photo_helpers import (
    GPS_IFD,
    checked_in_session,
    give_photo_consent,
    jpeg_with_gps,
    photo_storage,  # noqa: F401 - fixture
    png,
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("photo_storage")]
LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}


def clean(data: bytes, **limits):
    return clean_photo(io.BytesIO(data), size=len(data), **(LIMITS | limits))


def bomb_png(width=60_000, height=60_000) -> bytes:
    """A PNG of a few kilobytes that declares 3.6 gigapixels of one grey: it decompresses to 3.6 GB."""

    def chunk(kind, body):
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])  # 8-bit grey
    rows = zlib.compress(b"\x00" + b"\x80" * width, 9)  # the first row only: Pillow stops at the header check
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_a_jpeg_keeps_its_pixels_and_loses_its_exif_and_gps():
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(GPS_IFD)  # the camera's file does carry a position
    photo = clean(jpeg_with_gps())
    for data in (photo.display, photo.thumbnail):
        stored = Image.open(io.BytesIO(data))
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info and "icc_profile" not in stored.info
    assert (photo.width, photo.height) == (640, 480)
    assert max(Image.open(io.BytesIO(photo.thumbnail)).size) == 320


def test_the_orientation_is_applied_so_a_portrait_stands_up():
    # EXIF orientation 6: the camera held upright wrote a landscape frame to be turned 90°.
    photo = clean(jpeg_with_gps(size=(4000, 3000), orientation=6))
    assert (photo.width, photo.height) == (1200, 1600)
    assert dict(Image.open(io.BytesIO(photo.display)).getexif()) == {}


def test_a_png_with_transparency_is_taken():
    photo = clean(png())
    assert photo.source_format == "PNG"
    assert Image.open(io.BytesIO(photo.display)).mode == "RGB"


def test_heic_from_an_iphone_is_taken():
    heif = pillow_heif.from_pillow(Image.new("RGB", (800, 600), (90, 60, 40)))
    out = io.BytesIO()
    heif.save(out, quality=60)
    photo = clean(out.getvalue())
    assert photo.source_format == "HEIC"
    assert Image.open(io.BytesIO(photo.display)).size == (800, 600)


def test_a_webp_is_taken_and_a_gif_is_not():
    webp, gif = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (50, 40)).save(webp, "WEBP")
    Image.new("RGB", (50, 40)).save(gif, "GIF")
    assert clean(webp.getvalue()).source_format == "WebP"
    with pytest.raises(PhotoRefused, match="is not a JPEG, PNG, HEIC or WebP image"):
        clean(gif.getvalue())


def test_text_named_jpg_is_refused_by_what_it_is():
    with pytest.raises(PhotoRefused, match="is not a JPEG, PNG, HEIC or WebP image"):
        clean(b"Dear clinic, this is a letter, not a photo.\n" * 20)


def test_a_truncated_jpeg_is_refused_as_damaged():
    data = jpeg_with_gps(size=(1200, 900))
    with pytest.raises(PhotoRefused, match="damaged or incomplete"):
        clean(data[: len(data) // 2])


def test_an_oversized_file_is_refused_before_it_is_read():
    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("an oversized file must not be read")

    with pytest.raises(PhotoRefused, match="photos up to 20 MB are accepted"):
        clean_photo(Unreadable(), size=21 * 1024 * 1024, **LIMITS)


def test_a_decompression_bomb_is_refused_on_its_header():
    data = bomb_png(9000, 9000)  # 81 megapixels: past our limit, under Pillow's own guard
    assert len(data) < 100_000
    with pytest.raises(PhotoRefused, match="is 9000 × 9000 pixels .* up to 40 megapixels are accepted"):
        clean(data)
    # 3.6 gigapixels: Pillow's own guard refuses it on opening, turned into the same kind of sentence.
    with pytest.raises(PhotoRefused, match="declares more pixels than a photo has.* up to 40 megapixels"):
        clean(bomb_png(60_000, 60_000))


def test_views_follow_the_treated_area():
    assert views_for([area()]) == ("front", "close_up")  # a small tattoo
    assert views_for([]) == ("front", "left", "right", "close_up")


def test_an_upload_stores_cleaned_files_and_reports_each_refusal(clinic, frozen, time_machine):
    give_photo_consent(clinic.patient)
    appointment = checked_in_session(clinic, time_machine, local(1, 10))
    result = photos_upload(
        appointment=appointment, phase="before", by=clinic.practitioner.user,
        files_by_view={
            "front": [upload(jpeg_with_gps(), "IMG_0001.jpg"), upload(b"not an image", "notes.jpg")],
            "close_up": [upload(png(), "close.png", "image/png")],
            "left": [upload(jpeg_with_gps(), "left.jpg")],  # a small area offers no side view
        },
    )  # fmt: skip
    assert [p.view for p in result.stored] == ["front", "close_up"]
    assert result.refused == [
        ("notes.jpg", "is not a JPEG, PNG, HEIC or WebP image."),
        ("left.jpg", "is for a view this area does not offer."),
    ]
    photo = SessionPhoto.objects.get(view="front")
    assert photo.uploaded_by == clinic.practitioner.user and photo.phase == "before"
    with storages["photos"].open(photo.image) as stored:
        reopened = Image.open(stored)
        assert dict(reopened.getexif()) == {} and reopened.size == (photo.width, photo.height)
    assert storages["photos"].exists(photo.thumbnail)
    # Random names: nothing in a path says whose photo it is.
    assert photo.image == f"{photo.key.hex[:2]}/{photo.key.hex}.jpg"
    assert photo.thumbnail == f"{photo.key.hex[:2]}/{photo.key.hex}-thumb.jpg"
    folder = Path(storages["photos"].location)
    assert sorted(p.name for p in folder.rglob("*.jpg")) == sorted(
        n.split("/")[-1] for p in result.stored for n in (p.image, p.thumbnail)
    )


def test_no_photo_without_clinical_consent_and_none_after_withdrawal(clinic, frozen, time_machine):
    appointment = checked_in_session(clinic, time_machine, local(1, 10))
    files = {"front": [upload(jpeg_with_gps())]}
    by = clinic.practitioner.user
    with pytest.raises(SchedulingError, match="not given photo consent for their clinical record"):
        photos_upload(appointment=appointment, phase="before", files_by_view=files, by=by)
    give_photo_consent(clinic.patient, clinical=False, marketing=True)
    with pytest.raises(SchedulingError, match="not given photo consent"):
        photos_upload(appointment=appointment, phase="before", files_by_view=files, by=by)
    give_photo_consent(clinic.patient, clinical=True, marketing=True)
    (photo,) = photos_upload(appointment=appointment, phase="before", files_by_view=files, by=by).stored
    assert may_show(photo=photo, scope="marketing")
    photo_consent_withdraw(patient=clinic.patient)
    with pytest.raises(SchedulingError, match="or has withdrawn it"):
        photos_upload(appointment=appointment, phase="after", files_by_view=files, by=by)
    # The marketing use is hidden at once; the clinical record keeps the photo (photos.services.may_show).
    assert not may_show(photo=photo, scope="marketing")
    assert may_show(photo=photo)
    assert storages["photos"].exists(photo.image)


def test_no_photo_before_check_in(clinic, frozen):
    give_photo_consent(clinic.patient)
    appointment = book_treatment(clinic, local(1, 10))
    with pytest.raises(SchedulingError, match="once the patient has been checked in"):
        photos_upload(appointment=appointment, phase="before", files_by_view={"front": []}, by=clinic.practitioner.user)
