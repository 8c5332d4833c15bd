"""The logs of a real gunicorn, run with the project's gunicorn.conf.py: a patient link's token is
never written, and a path's CR, LF or NUL cannot start a line of its own."""

import os
import socket
import subprocess
import sys
import time

import pytest

from clinic.accesslog import safe_path
from tests.live import ROOT, free_port

TOKEN = "AbCdEf123.secret-token:xyz"


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    logs = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"}
    with open(logs / "out", "wb") as out, open(logs / "err", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "clinic.wsgi",
             "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT, env=env, stdout=out, stderr=err,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            yield port, logs
        finally:
            process.terminate()
            process.wait(timeout=30)


def _get(port, target):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def _lines(logs, *, after):
    """Every log line (access log on stdout, Django's on stderr) that mentions `after`."""
    time.sleep(0.5)
    text = (logs / "out").read_text(errors="replace") + (logs / "err").read_text(errors="replace")
    return text, [line for line in text.splitlines() if after in line]


def test_a_patient_links_token_is_not_in_the_access_log(gunicorn):
    port, logs = gunicorn
    assert _get(port, f"/p/confirm/{TOKEN}/") == 400  # not a valid link: the page says so
    text, lines = _lines(logs, after="/p/confirm/")
    assert TOKEN not in text and "secret-token" not in text
    assert any('"GET /p/confirm/[token]/"' in line for line in lines), lines
    assert any("Bad Request: /p/confirm/[token]/" in line for line in lines), lines  # Django's line


def test_a_path_cannot_forge_a_log_line(gunicorn):
    port, logs = gunicorn
    forged = 'FORGED 127.0.0.1 [01/Jan/2030] "GET /admin/ HTTP/1.1" 200'
    assert _get(port, "/nothing-here%0d%0a" + forged.replace(" ", "%20").replace('"', "%22") + "%00/") == 404
    text, _ = _lines(logs, after="nothing-here")
    assert not any(line.startswith("FORGED") for line in text.splitlines())
    assert "\x00" not in text and "\r" not in text
    assert '"GET /nothing-here\\x0d\\x0aFORGED' in text  # the access log's line, escaped
    assert "Not Found: /nothing-here\\" in text  # Django's own, escaped (by Django, then the filter)


def test_a_token_cut_by_a_control_character_is_still_left_out():
    assert safe_path("/p/cancel/abc\r\ndef/") == "/p/cancel/[token]/"
    assert safe_path("GET /p/prep/abc/ HTTP/1.1") == "GET /p/prep/[token]/ HTTP/1.1"
    assert safe_path("/patients/7/\u2028x") == "/patients/7/\\x2028x"
