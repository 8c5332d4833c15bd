"""Audit the installed packages for known vulnerabilities with pip-audit, within a time limit.

Step 3 of scripts/test.sh. Every installed package (`pip freeze` of this interpreter, or the pinned
requirements files given with -r) is looked up in PyPI's advisory data; the ones PyPI could not
look up are then tried in OSV. The report says how many packages were looked up, which ones could
not be and why, and every known vulnerability with its fixed versions.

Exit status: 1 when a known vulnerability was found, or when a package could not be looked up and
the audit is strict (--strict or STRICT_AUDIT=1); otherwise 0. An advisory service that cannot be
reached (no network, a package index that does not serve the advisory API) leaves the audit
incomplete, which the report says loudly, but is not a failure unless the audit is strict.

pip-audit's JSON report is read, not its text: each dependency has either `vulns` (looked up) or
`skip_reason` (not looked up); a run with no report at all (it stops at the first connection
error) leaves every package it was given unchecked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess  # nosec B404 # runs pip and pip-audit from this interpreter's environment, no shell
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("pypi", "osv")
TIME_LIMIT = 120  # seconds for the whole audit, over every service
REQUEST_TIMEOUT = 10  # seconds for one request to an advisory service


def canonical(name: str) -> str:
    """A package name as PEP 503 compares it (pip-audit's JSON uses this form)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text: str) -> dict[str, str]:
    """Name -> version of every `name==version` line (pip freeze's format); other lines are ignored."""
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
        if match:
            pins[canonical(match[1])] = match[2]
    return pins


@dataclass
class Audit:
    packages: dict[str, str]  # every package to audit: name -> version
    looked_up: dict[str, str] = field(default_factory=dict)  # name -> the service that looked it up
    vulnerable: dict[str, list[dict]] = field(default_factory=dict)  # name -> its known vulnerabilities
    unchecked: set[str] = field(default_factory=set)  # not looked up (yet)
    services: dict[str, str] = field(default_factory=dict)  # service -> what its run did, in a few words

    def __post_init__(self):
        self.unchecked = set(self.packages)

    def record(self, service: str, names: list[str], report: dict | None, error: str = "") -> None:
        """Take in one pip-audit run over `names`: its JSON report, or the error that left none."""
        if report is None:
            self.services[service] = f"none of {len(names)} looked up: {error}"
            return
        reasons = set()
        for dependency in report.get("dependencies", []):
            name = canonical(dependency["name"])
            if "skip_reason" in dependency:
                # PyPI's reasons end with the package, "...: aiosmtpd (1.4.6)": say each kind once.
                reasons.add(re.sub(r": \S+ \([^)]*\)$", "", dependency["skip_reason"]))
            elif name in self.unchecked:
                self.looked_up[name] = service
                self.unchecked.discard(name)
                if dependency.get("vulns"):
                    self.vulnerable[name] = dependency["vulns"]
        missing = [name for name in names if name in self.unchecked]
        self.services[service] = f"looked up {len(names) - len(missing)} of {len(names)}" + (
            f"; {len(missing)} not ({'; '.join(sorted(reasons)) or 'not in its report'})" if missing else ""
        )

    def verdict(self, strict: bool) -> tuple[int, str]:
        """The exit status and the last line of the report."""
        if self.vulnerable:
            count = sum(len(vulns) for vulns in self.vulnerable.values())
            return 1, (
                f"FAILED: {count} known {'vulnerability' if count == 1 else 'vulnerabilities'} in "
                f"{', '.join(sorted(self.vulnerable))} (above): raise those pins to a fixed version."
            )
        if self.unchecked and strict:
            return 1, (
                f"FAILED: strict audit (STRICT_AUDIT=1): {len(self.unchecked)} of {len(self.packages)} packages "
                "could not be looked up in any advisory service (above)."
            )
        if self.unchecked:
            return 0, (
                f"AUDIT INCOMPLETE: {len(self.unchecked)} of {len(self.packages)} packages NOT AUDITED (above), "
                f"no known vulnerability in the {len(self.looked_up)} looked up; not a failure unless STRICT_AUDIT=1."
            )
        return 0, f"Audit passed: {len(self.looked_up)} packages looked up, no known vulnerabilities."

    def report(self) -> list[str]:
        lines = [f"Dependency audit of {len(self.packages)} installed packages"]
        lines += [f"  {service}: {what}" for service, what in self.services.items()]
        for name, vulns in sorted(self.vulnerable.items()):
            for vuln in vulns:
                ids = " ".join(sorted({vuln["id"], *vuln.get("aliases", [])}))
                fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
                lines.append(f"VULNERABLE: {name} {self.packages[name]}: {ids}; fixed in {fixed}")
                if vuln.get("description"):
                    lines.append("    " + textwrap.shorten(vuln["description"], 196))
        if self.unchecked:
            listed = ", ".join(f"{name} {self.packages[name]}" for name in sorted(self.unchecked))
            lines.append(f"NOT AUDITED ({len(self.unchecked)}), no advisory service looked them up:")
            lines += textwrap.wrap(listed, 100, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False)
        return lines


def error_of(stderr: str) -> str:
    """A short cause from pip-audit's stderr: its own error message, or the exception that stopped it."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.split(":", 2)[-1] for line in lines if line.startswith("ERROR:")]
    line = errors[0] if errors else next((line for line in reversed(lines) if not line.startswith("File ")), "")
    cause, host = re.search(r"Caused by (\w+)", line), re.search(r"host='([^']+)'", line)
    if cause and host:
        return f"{cause[1]} for {host[1]}"
    return textwrap.shorten(line, 160) or "pip-audit gave no report"


def run_pip_audit(service: str, pins: dict[str, str], seconds: float, osv_url: str = "") -> tuple[dict | None, str]:
    """One pip-audit run over the pins against one service: its JSON report, or None and the error."""
    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as scratch:
        requirements, output = Path(scratch, "requirements.txt"), Path(scratch, "report.json")
        requirements.write_text("".join(f"{name}=={version}\n" for name, version in pins.items()))
        command = [str(pip_audit), "--requirement", str(requirements), "--no-deps", "--disable-pip"]
        command += ["--vulnerability-service", service, "--format", "json", "--output", str(output)]
        command += ["--progress-spinner", "off", "--timeout", str(max(1, min(REQUEST_TIMEOUT, int(seconds))))]
        if osv_url and service == "osv":
            command += ["--osv-url", osv_url]
        try:
            # (--no-deps is right: the list is complete; its advice to hash the pins is noise.)
            # This environment's pip-audit, our own arguments, no shell.
            finished = subprocess.run(  # noqa: S603  # nosec B603
                command, capture_output=True, text=True, timeout=seconds, check=False
            )
        except subprocess.TimeoutExpired:
            return None, f"no answer within {seconds:.0f} s"
        if not output.exists() or not output.read_text().strip():
            return None, error_of(finished.stderr)
        try:
            return json.loads(output.read_text()), ""
        except json.JSONDecodeError as error:
            return None, f"unreadable report ({error})"


def audit(pins: dict[str, str], services=SERVICES, time_limit: float = TIME_LIMIT, osv_url: str = "") -> Audit:
    result = Audit(packages=pins)
    deadline = time.monotonic() + time_limit
    for service in services:
        names = sorted(result.unchecked)
        if not names:
            break
        left = deadline - time.monotonic()
        if left < 1:
            result.record(service, names, None, f"the audit's {time_limit:.0f} s were used up")
            continue
        report, error = run_pip_audit(service, {name: pins[name] for name in names}, left, osv_url)
        result.record(service, names, report, error)
    return result


def installed_pins() -> dict[str, str]:
    frozen = subprocess.run(  # nosec B603 # this interpreter's pip, fixed arguments
        [sys.executable, "-m", "pip", "freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    return read_pins(frozen.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-r", "--requirement", action="append", type=Path, help="audit these pins, not pip freeze")
    parser.add_argument("--strict", action="store_true", default=os.environ.get("STRICT_AUDIT") == "1",
                        help="fail when a package could not be looked up (also STRICT_AUDIT=1)")  # fmt: skip
    parser.add_argument("--service", action="append", choices=SERVICES, help="advisory services to ask, in order")
    parser.add_argument("--time-limit", type=float, default=float(os.environ.get("AUDIT_TIME_LIMIT", TIME_LIMIT)))
    parser.add_argument("--osv-url", default=os.environ.get("AUDIT_OSV_URL", ""), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.requirement:
        pins = {}
        for path in args.requirement:
            pins |= read_pins(path.read_text())
    else:
        pins = installed_pins()
    result = audit(pins, args.service or SERVICES, args.time_limit, args.osv_url)
    status, verdict = result.verdict(args.strict)
    print("\n".join([*result.report(), verdict]))
    return status


if __name__ == "__main__":
    sys.exit(main())
