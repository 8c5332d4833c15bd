"""What the logs may say about a request's path: gunicorn's access log (`AccessLogger`, named in
gunicorn.conf.py) and Django's own request lines (`RequestPathFilter`, on the log handler).

A patient link's path holds its token, which works for months: it is logged as `/p/confirm/[token]/`.
A path is percent-decoded before it is logged, so `%0d%0a` would end the line and let a request write
a line of its own; control characters are written as `\\xNN` escapes instead.
"""

import logging
import re

from gunicorn.glogging import Logger

# The link pages under /p/ (outbox/urls.py): the purpose stays, the token goes.
# Up to a space (a request line's separator) or the query: a control character inside a token hides none of it.
_LINK = re.compile(r"(?:^|(?<=\s))(/p/[^/ ?]*)(/[^ ?]*)?")
# The patient pages' sign-in link (portal/urls.py): a one-time token, alive for 30 minutes.
_SIGN_IN_LINK = re.compile(r"(?:^|(?<=\s))(/me/sign-in/)[^/ ?]+/?")
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(text: str) -> str:
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def safe_path(text: str) -> str:
    """A path, or a request line holding one, fit for a log: no link token, no control character."""
    redacted = _LINK.sub(lambda match: match.group(1) + ("/[token]/" if match.group(2) else ""), text)
    redacted = _SIGN_IN_LINK.sub(r"\1[token]/", redacted)
    return escape(redacted)


class AccessLogger(Logger):
    """gunicorn's logger, with every access-log atom made safe: paths (and the raw request line)
    without link tokens, and no control character anywhere (headers an access format may name)."""

    PATHS = ("U", "r", "{path_info}e", "{raw_uri}e", "{script_name}e")

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in self.PATHS:
            if isinstance(atoms.get(key), str):
                atoms[key] = safe_path(atoms[key])
        return {key: escape(value) if isinstance(value, str) else value for key, value in atoms.items()}


class RequestPathFilter(logging.Filter):
    """Django's request log lines ("Not Found: /p/confirm/...", runserver's request lines), made safe
    the same way; the message is formatted here, once, and what it quotes of the path cleaned."""

    def filter(self, record):
        if record.name.startswith("django."):
            record.msg = safe_path(record.getMessage())
            record.args = None
        return True
