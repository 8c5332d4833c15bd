#!/usr/bin/env bash
# Set up and run the checks: creates .venv, installs, then runs ruff, bandit and pytest.
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

echo "Running tests on ${DATABASE_URL:-SQLite}"
.venv/bin/pytest "$@"
