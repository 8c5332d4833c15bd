"""The request bodies the API reads (settings' DEFAULT_PARSER_CLASSES). Apart from the views, so that
DRF's settings can load it without importing them."""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, MultiPartParser


class StrictJSONParser(JSONParser):
    """JSON, refused with a 400 that says why when Python's reader would turn it into a server
    error: a body nested deeper than the interpreter recurses (`[[[[...]]]]`, 2,000 deep), or text
    holding a lone surrogate (`"\\ud800"`), which is not Unicode and could not even be written back in
    the error message. A pair of escapes making one character (`"\\ud83d\\ude00"`) is ordinary text."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("The JSON body is nested too deeply.") from None
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except RecursionError:
            raise ParseError("The JSON body is nested too deeply.") from None
        except UnicodeEncodeError:
            raise ParseError("The JSON body holds text that is not valid Unicode (a lone surrogate).") from None
        return data


class StrictMultiPartParser(MultiPartParser):
    """Multipart form data, refused when the body holds no part at all: Django reads a body that is
    not multipart (a bare `False`) as an empty form, which a PATCH would take as "change nothing"."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if not parsed.data and not parsed.files:
            raise ParseError("The multipart body holds no field.")
        return parsed
