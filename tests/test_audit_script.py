"""scripts/dependency_audit.py, the test command's dependency audit: a known vulnerability fails it,
an advisory service it cannot reach leaves it incomplete but passing (unless STRICT_AUDIT=1)."""

import importlib.util
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "dependency_audit", Path(__file__).resolve().parent.parent / "scripts" / "dependency_audit.py"
)
dependency_audit = importlib.util.module_from_spec(spec)
sys.modules.setdefault("dependency_audit", dependency_audit)  # dataclasses look their module up
spec.loader.exec_module(dependency_audit)
Audit = dependency_audit.Audit

PINS = {"django": "5.2.19", "aiosmtpd": "1.4.6", "redis": "8.1.0"}
DJANGO_VULN = {
    "id": "GHSA-test-0000-0000",
    "fix_versions": ["5.2.20"],
    "aliases": ["CVE-2099-0001"],
    "description": "SQL injection in a made-up lookup",
}


def skipped(name):
    return {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)"}


def test_pip_freeze_lines_become_pins_by_canonical_name():
    frozen = "Django==5.2.19\ndjango_crispy_forms==2.7\ncelery[redis]==5.7.0\n-e git+https://x/y#egg=z\n# note\n"
    assert dependency_audit.read_pins(frozen) == {"django": "5.2.19", "django-crispy-forms": "2.7", "celery": "5.7.0"}


def test_every_package_looked_up_and_clean_passes():
    audit = Audit(packages=PINS)
    report = {"dependencies": [{"name": name, "version": version, "vulns": []} for name, version in PINS.items()]}
    audit.record("pypi", sorted(PINS), report)
    status, verdict = audit.verdict(strict=True)
    assert status == 0
    assert verdict.startswith("Audit passed: 3 packages looked up")
    assert "  pypi: looked up 3 of 3" in audit.report()


def test_a_known_vulnerability_fails_even_when_other_packages_were_not_looked_up():
    audit = Audit(packages=PINS)
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.19", "vulns": [DJANGO_VULN]},
            {"name": "redis", "version": "8.1.0", "vulns": []},
            skipped("aiosmtpd"),
        ]
    }
    audit.record("pypi", sorted(PINS), report)
    status, verdict = audit.verdict(strict=False)
    assert status == 1
    assert verdict.startswith("FAILED: 1 known vulnerability in django")
    report_lines = audit.report()
    assert "VULNERABLE: django 5.2.19: CVE-2099-0001 GHSA-test-0000-0000; fixed in 5.2.20" in report_lines
    assert any("aiosmtpd 1.4.6" in line for line in report_lines)


def test_packages_not_looked_up_are_reported_but_pass_unless_strict():
    audit = Audit(packages=PINS)
    looked_up = {"name": "django", "version": "5.2.19", "vulns": []}
    report = {"dependencies": [looked_up, skipped("aiosmtpd"), skipped("redis")]}
    audit.record("pypi", sorted(PINS), report)
    lines = audit.report()
    assert "  pypi: looked up 1 of 3; 2 not (Dependency not found on PyPI and could not be audited)" in lines
    assert "NOT AUDITED (2), no advisory service looked them up:" in lines
    assert "    aiosmtpd 1.4.6, redis 8.1.0" in lines
    status, verdict = audit.verdict(strict=False)
    assert status == 0
    assert verdict.startswith("AUDIT INCOMPLETE: 2 of 3 packages NOT AUDITED")
    status, verdict = audit.verdict(strict=True)
    assert status == 1
    assert verdict.startswith("FAILED: strict audit (STRICT_AUDIT=1): 2 of 3 packages")


def test_a_second_service_looks_up_what_the_first_could_not():
    audit = Audit(packages=PINS)
    audit.record("pypi", sorted(PINS), None, "NameResolutionError for pypi.org")
    assert audit.unchecked == set(PINS)
    osv = {"dependencies": [{"name": name, "version": version, "vulns": []} for name, version in PINS.items()]}
    audit.record("osv", sorted(PINS), osv)
    assert audit.verdict(strict=True) == (0, "Audit passed: 3 packages looked up, no known vulnerabilities.")
    assert audit.looked_up == dict.fromkeys(PINS, "osv")
    assert audit.report()[1] == "  pypi: none of 3 looked up: NameResolutionError for pypi.org"


def test_no_service_reachable_leaves_everything_unchecked_and_passing():
    audit = Audit(packages=PINS)
    audit.record("pypi", sorted(PINS), None, "NameResolutionError for pypi.org")
    audit.record("osv", sorted(PINS), None, "no answer within 60 s")
    assert audit.verdict(strict=False)[0] == 0
    assert audit.verdict(strict=True)[0] == 1


@pytest.mark.parametrize(
    ("stderr", "cause"),
    [
        (
            "WARNING:pip_audit._cli:--no-deps is supported\nTraceback (most recent call last):\n"
            '  File "x.py", line 1, in y\n'
            "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries "
            'exceeded with url: /pypi/aiosmtpd/1.4.6/json (Caused by NameResolutionError("..."))\n',
            "NameResolutionError for pypi.org",
        ),
        (
            "ERROR:pip_audit._cli:Could not connect to OSV's vulnerability feed\n"
            "ERROR:pip_audit._cli:Tip: your network may be blocking this service. Try another service\n",
            "Could not connect to OSV's vulnerability feed",
        ),
        ("", "pip-audit gave no report"),
    ],
)
def test_the_cause_of_a_run_without_a_report_is_put_in_a_few_words(stderr, cause):
    assert dependency_audit.error_of(stderr) == cause


class FakeOsv(BaseHTTPRequestHandler):
    """OSV's query API (POST /v1/query): Django 5.2.19 has one advisory, everything else none."""

    def do_POST(self):
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        vulnerable = query["package"]["name"] == "django" and query["version"] == "5.2.19"
        body = {}
        if vulnerable:
            body = {
                "vulns": [
                    {
                        "id": "GHSA-test-0000-0000",
                        "summary": "A made-up advisory",
                        "aliases": ["CVE-2099-0001"],
                        "affected": [
                            {
                                "package": {"name": "django", "ecosystem": "PyPI"},
                                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.2.20"}]}],
                            }
                        ],
                    }
                ]
            }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def osv_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()
    server.server_close()


def audit_pins(tmp_path, capsys, pins, *options):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(pins)
    status = dependency_audit.main(["-r", str(requirements), "--service", "osv", "--time-limit", "60", *options])
    return status, capsys.readouterr().out.splitlines()


def test_pip_audit_against_a_service_that_answers_catches_a_vulnerable_pin(tmp_path, capsys, osv_url, monkeypatch):
    monkeypatch.delenv("STRICT_AUDIT", raising=False)
    status, lines = audit_pins(tmp_path, capsys, "Django==5.2.19\nredis==8.1.0\n", "--osv-url", osv_url)
    assert status == 1, lines
    assert "  osv: looked up 2 of 2" in lines
    assert "VULNERABLE: django 5.2.19: CVE-2099-0001 GHSA-test-0000-0000; fixed in 5.2.20" in lines
    assert "    A made-up advisory" in lines
    assert lines[-1].startswith("FAILED: 1 known vulnerability in django")


def test_pip_audit_against_a_service_that_does_not_answer_passes(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("STRICT_AUDIT", raising=False)
    closed = "http://127.0.0.1:9/v1/query"  # the discard port: nothing listens there
    status, lines = audit_pins(tmp_path, capsys, "Django==5.2.19\n", "--osv-url", closed)
    assert status == 0, lines
    assert lines[1].startswith("  osv: none of 1 looked up: ")
    assert "    django 5.2.19" in lines
    assert lines[-1].startswith("AUDIT INCOMPLETE: 1 of 1 packages NOT AUDITED")


def test_strict_audit_is_asked_for_with_the_environment_or_the_option(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(dependency_audit, "run_pip_audit", lambda *args: (None, "no network"))
    monkeypatch.delenv("STRICT_AUDIT", raising=False)
    assert audit_pins(tmp_path, capsys, "Django==5.2.19\n")[0] == 0
    assert audit_pins(tmp_path, capsys, "Django==5.2.19\n", "--strict")[0] == 1
    monkeypatch.setenv("STRICT_AUDIT", "1")
    status, lines = audit_pins(tmp_path, capsys, "Django==5.2.19\n")
    assert status == 1
    assert lines[-1].startswith("FAILED: strict audit")
