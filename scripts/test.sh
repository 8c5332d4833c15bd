#!/usr/bin/env bash
# Set up and run the checks: creates .venv, installs, then runs ruff, bandit, pip-audit and pytest.
# Uses PostgreSQL when DATABASE_URL points there (pytest-django creates and drops test_<name>),
# otherwise an in-memory SQLite database. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "Running bandit"
.venv/bin/bandit --quiet -c pyproject.toml -r . -x ./tests
# In tests: assert is how pytest checks; the rest are what ruff also allows there (fixed test
# passwords, seeded random numbers, subprocesses with fixed arguments).
.venv/bin/bandit --quiet -c pyproject.toml -r tests -s B101,B105,B106,B107,B311,B404,B603,B607

# pip-audit looks up every installed package (the pins and what they pulled in) in PyPI's advisory
# data. A package it could not look up fails the audit (--strict): an unchecked audit is not a pass.
# A failed audit is reported after the tests, so that they still run.
echo "Running pip-audit"
audit_failure=""
audit_status=0
audit_log=$(.venv/bin/pip-audit --strict --progress-spinner off --no-deps --disable-pip \
  -r <(.venv/bin/pip freeze) 2>&1) || audit_status=$?
# (--no-deps is right here: the frozen list is complete; pip-audit's advice to hash it is noise.)
grep -v -e "--no-deps is supported" -e "Consider using a tool like" <<<"$audit_log" >&2 || true
if [ "$audit_status" != 0 ]; then
  if grep -q "known vulnerabilit" <<<"$audit_log"; then
    audit_failure="pip-audit found known vulnerabilities (above): upgrade those pins to a fixed version."
  elif [ "${ALLOW_UNCHECKED_AUDIT:-}" = 1 ]; then
    echo "WARNING: pip-audit could not look the packages up (above): NOT AUDITED (ALLOW_UNCHECKED_AUDIT=1)." >&2
  else
    audit_failure="pip-audit could not look the packages up in its advisory service (PyPI's JSON API; see
above), so nothing was audited. Run it where that service answers, or set ALLOW_UNCHECKED_AUDIT=1
to accept an unchecked audit knowingly."
  fi
fi

echo "Running tests on ${DATABASE_URL:-SQLite}"
status=0
.venv/bin/pytest "$@" || status=$?

if [ -n "$audit_failure" ]; then
  echo "FAILED: $audit_failure" >&2
  exit 1
fi
exit "$status"
