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

# The dependency audit: pip-audit looks up every installed package (the pins and what they pulled
# in) in PyPI's advisory data, then in OSV what PyPI could not, within AUDIT_TIME_LIMIT seconds
# (120). It says how many it looked up and names the ones it could not. A known vulnerability fails
# the run; an advisory service it cannot reach leaves the audit incomplete, which fails the run only
# with STRICT_AUDIT=1. A failed audit is reported after the tests, so that they still run.
echo "Running the dependency audit (pip-audit)"
audit_status=0
audit_log=$(.venv/bin/python scripts/dependency_audit.py 2>&1) || audit_status=$?
echo "$audit_log"

echo "Running tests on ${DATABASE_URL:-SQLite}"
# pytest-xdist: a process per core, at most 4 (each has its own test database and Redis database,
# 15 down to 12; tests/settings.py). `-n 0` among the extra arguments runs them in one process.
status=0
.venv/bin/pytest -n auto --maxprocesses 4 "$@" || status=$?

if [ "$audit_status" != 0 ]; then
  tail -n 1 <<<"$audit_log" >&2
  exit 1
fi
exit "$status"
