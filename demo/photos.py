"""The demo's before photos: a drawn patch of skin whose mark fades session by session, added
through the photo service (cleaned and stored as a real upload is), so the course comparison has
something to compare. Drawn, not photographed: the demo ships no one's skin."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFilter

from photos.services import photos_upload, upload_blocker
from scheduling.models import Appointment

SIZE = (800, 600)
SKIN = (224, 178, 150)
MARK = (120, 80, 70)


def skin_photo(fade: float) -> bytes:
    """A JPEG of skin with a dark mark, `fade` (0 to 1) of the way to gone."""
    image = Image.new("RGB", SIZE, SKIN)
    mark = tuple(round(m + (s - m) * fade) for m, s in zip(MARK, SKIN, strict=True))
    ImageDraw.Draw(image).ellipse((260, 180, 540, 420), fill=mark)
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(12)).save(out, "JPEG", quality=80)
    return out.getvalue()


def course_photos(course, sessions: list[Appointment], *, by) -> int:
    """A front photo before each done session of `course`, fainter each time; how many were added."""
    done = [s for s in sessions if s.status == Appointment.Status.COMPLETED]
    added = 0
    for number, session in enumerate(done):
        if upload_blocker(appointment=session):  # no photo consent (a clinic without its texts yet)
            continue
        fade = number / max(len(done), 1) * 0.8
        upload = SimpleUploadedFile(f"front-{number + 1}.jpg", skin_photo(fade), content_type="image/jpeg")
        result = photos_upload(appointment=session, phase="before", files_by_view={"front": [upload]}, by=by)
        added += len(result.stored)
    return added
