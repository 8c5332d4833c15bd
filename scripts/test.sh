#!/usr/bin/env bash
# Set up and run the checks: creates .venv, installs, runs ruff and pytest.
# Uses PostgreSQL when DATABASE_URL points there (pytest-django creates and drops test_<name>),
# otherwise an in-memory SQLite database. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "Running tests on ${DATABASE_URL:-SQLite}"
.venv/bin/pytest "$@"
