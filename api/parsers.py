"""The request bodies the API reads (settings' DEFAULT_PARSER_CLASSES). Apart from the views, so that
DRF's settings can load it without importing them."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser


class StrictMultiPartParser(MultiPartParser):
    """Multipart form data, refused when the body holds no part at all: Django reads a body that is
    not multipart (a bare `False`) as an empty form, which a PATCH would take as "change nothing"."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if not parsed.data and not parsed.files:
            raise ParseError("The multipart body holds no field.")
        return parsed
