#!/usr/bin/env bash
# Quick start: set up and run the demo clinic on SQLite, with a Celery worker (and beat) on Redis.
# Creates .venv, installs, migrates, loads the demo clinic, then serves http://127.0.0.1:8000/.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBUG="${DEBUG:-true}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
mkdir -p var

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo

if ! .venv/bin/python -c "import os, redis; redis.Redis.from_url(os.environ['REDIS_URL'], socket_connect_timeout=2).ping()" 2>/dev/null; then
  cat >&2 <<MSG

Redis is not reachable at $REDIS_URL, and the Celery worker that sends patient emails needs it.
Start Redis and run this command again, for example:
  redis-server --daemonize yes --port 6379         (Redis installed locally)
  docker run -d -p 6379:6379 redis:7                (with Docker)
or point REDIS_URL at a running Redis.
MSG
  exit 1
fi

.venv/bin/celery -A clinic worker --beat --queues mail,celery --loglevel=info \
  --schedule var/celerybeat-schedule --logfile var/celery.log &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM

cat <<MSG

The clinic is running at http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/)
Log in with one of the demo logins above. The Celery worker logs to var/celery.log.
Press Ctrl+C to stop.

MSG
.venv/bin/python manage.py runserver "$HOST:$PORT"
