"""How long the web app keeps its database connections (clinic/settings.py): a minute per worker on
PostgreSQL, checked before reuse; one per request on SQLite; CONN_MAX_AGE decides when set."""

import json
import os
import subprocess  # nosec B404 # the settings read in a process of their own, with a fixed command
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READ = "import json, clinic.settings as s; d = s.DATABASES['default']; print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS']]))"  # noqa: E501


def database_settings(**env) -> list:
    """CONN_MAX_AGE and CONN_HEALTH_CHECKS as clinic.settings reads them from this environment."""
    environment = {k: v for k, v in os.environ.items() if k not in ("CONN_MAX_AGE", "DATABASE_URL")}
    environment |= {"SECRET_KEY": "tests-only", **env}
    done = subprocess.run(  # noqa: S603  # nosec B603
        [sys.executable, "-c", READ], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DATABASE_URL": "postgres://clinic@db:5432/clinic"}, [60, True]),
        ({"DATABASE_URL": "postgres://clinic@db:5432/clinic", "CONN_MAX_AGE": "0"}, [0, True]),
        ({"DATABASE_URL": "sqlite:////tmp/clinic.sqlite3"}, [0, True]),
        ({"DATABASE_URL": "sqlite:////tmp/clinic.sqlite3", "CONN_MAX_AGE": "30"}, [30, True]),
    ],
    ids=["postgres", "postgres, set to 0", "sqlite", "sqlite, set to 30"],
)
def test_connections_are_kept_on_postgresql_and_checked_before_reuse(env, expected):
    assert database_settings(**env) == expected
