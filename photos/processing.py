"""Checking and cleaning one uploaded image, with Pillow alone (no Django), so the benchmark and the
upload service run the same code.

A file is taken for what it decodes as, never for its name or content type: JPEG, PNG, HEIC (the
iPhone's camera, through pillow-heif) or WebP. The size limit is checked before reading, the pixel
limit on the header before decoding, so a decompression bomb never reaches memory. What is kept is
re-encoded from the pixels alone: no EXIF, GPS or other metadata survives.
"""

import io
import warnings
from dataclasses import dataclass
from datetime import datetime

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "HEIF": "HEIC", "WEBP": "WebP"}
DISPLAY_PX = 1600
THUMBNAIL_PX = 320
QUALITY = 85
EXIF_DATETIME_ORIGINAL = 0x9003


class PhotoRefused(ValueError):
    """An upload refused, with the sentence to show beside it."""


@dataclass(frozen=True)
class CleanPhoto:
    display: bytes  # JPEG, at most DISPLAY_PX on its longer side
    thumbnail: bytes  # JPEG, at most THUMBNAIL_PX
    width: int
    height: int
    source_format: str
    taken_at: datetime | None  # naive, the camera's local time


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def clean_photo(data, *, size: int, max_bytes: int, max_pixels: int) -> CleanPhoto:
    """Check one uploaded file (a binary file object of `size` bytes) and make its display image and
    thumbnail; raise PhotoRefused with a sentence for the user when it is not a photo we take."""
    if size > max_bytes:
        raise PhotoRefused(f"is {_megabytes(size)}; photos up to {_megabytes(max_bytes)} are accepted.")
    if size == 0:
        raise PhotoRefused("is empty.")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard warns, then refuses, past its limit; ours below is tighter.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(data, formats=list(FORMATS)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise PhotoRefused(
                        f"is {width} × {height} pixels ({width * height / 1e6:.0f} megapixels); "
                        f"photos up to {max_pixels / 1e6:.0f} megapixels are accepted."
                    )
                source_format = FORMATS[image.format]
                taken_at = _taken_at(image)
                if image.format == "JPEG":
                    # Decode at the smallest JPEG scale still at least the display size: a quarter
                    # of the memory and time of a 12-megapixel photo, every byte still decoded.
                    scale = DISPLAY_PX / max(width, height)
                    if scale < 1:
                        image.draft("RGB", (round(width * scale), round(height * scale)))
                image.load()  # decodes every pixel: a truncated or corrupt file fails here
                upright = ImageOps.exif_transpose(image)
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoRefused(
            f"declares more pixels than a photo has, so it was not opened (photos up to "
            f"{max_pixels / 1e6:.0f} megapixels are accepted)."
        ) from error
    except (UnidentifiedImageError, KeyError) as error:
        raise PhotoRefused("is not a JPEG, PNG, HEIC or WebP image.") from error
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's errors for a broken file
        raise PhotoRefused("could not be read as an image: it may be damaged or incomplete.") from error
    display = _as_rgb(upright)  # a new image: the upload's own stays untouched
    display.thumbnail((DISPLAY_PX, DISPLAY_PX), Image.Resampling.LANCZOS)
    thumbnail = display.copy()
    thumbnail.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    return CleanPhoto(
        display=_jpeg(display),
        thumbnail=_jpeg(thumbnail),
        width=display.width,
        height=display.height,
        source_format=source_format,
        taken_at=taken_at,
    )


def _taken_at(image: Image.Image) -> datetime | None:
    raw = image.getexif().get_ifd(0x8769).get(EXIF_DATETIME_ORIGINAL)
    try:
        return datetime.strptime(str(raw).strip(), "%Y:%m:%d %H:%M:%S") if raw else None  # noqa: DTZ007 - local
    except ValueError:
        return None


def _as_rgb(image: Image.Image) -> Image.Image:
    """Flatten transparency onto white (a PNG's alpha), for JPEG."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB") if image.mode != "RGB" else image.copy()


def _jpeg(image: Image.Image) -> bytes:
    # Only the pixels are written: no EXIF (GPS, camera, time), XMP or ICC profile from the upload.
    image.info.clear()
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
