#!/usr/bin/env bash
# Quick start: set up and run the demo clinic on SQLite with nothing but Python 3.11+: gunicorn
# (static files by whitenoise), and a Celery worker with beat that sends the patient emails.
# The broker is Redis when REDIS_URL is set, else files under var/broker/ (see clinic/settings.py).
# HOST and PORT choose where the server listens (default 127.0.0.1:8000).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBUG="${DEBUG:-true}"
# The demo's logins need no second factor; STAFF_2FA_REQUIRED=true bash scripts/run.sh asks for it (README).
export STAFF_2FA_REQUIRED="${STAFF_2FA_REQUIRED:-false}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
case "$HOST" in
  *:*) url_host="[$HOST]" ;;  # an IPv6 address
  *) url_host="$HOST" ;;
esac
# Links in the demo's emails point at the server as it really listens; the host check lets it in.
export CLINIC_BASE_URL="${CLINIC_BASE_URL:-http://$url_host:$PORT}"
ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}"
case ",$ALLOWED_HOSTS," in
  *",$url_host,"*) ;;
  *) ALLOWED_HOSTS="$ALLOWED_HOSTS,$url_host" ;;
esac
export ALLOWED_HOSTS

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
# pip runs only when requirements.txt has changed since it last succeeded here (a stamp holds the
# file's hash), so a second start needs no network and does not wait for pip.
stamp=.venv/.requirements.sha256
wanted=$(.venv/bin/python -c "import hashlib; print(hashlib.sha256(open('requirements.txt', 'rb').read()).hexdigest())")
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$wanted" >"$stamp"
fi
mkdir -p var

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
# whitenoise serves the collected files (as in the Docker image), indexed once per gunicorn worker.
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
# The file broker keeps each message it delivered under var/broker/processed/: drop week-old ones.
if [ -d var/broker/processed ]; then
  find var/broker/processed -type f -mtime +7 -delete
fi

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

.venv/bin/celery -A clinic worker --beat --queues mail,celery --loglevel=info \
  --schedule var/celerybeat-schedule --logfile var/celery.log &
pids+=($!)

# gunicorn, as in production (gunicorn.conf.py), not runserver, which under 150 clients dropped
# connections and answered "database is locked" (README, bench/quickstart_load.py). 2 processes of
# 4 threads: two processes keep a small machine's two cores busy (a page is CPU work, and a process
# runs Python on one core at a time); the threads serve on while one waits on SQLite's write lock
# or the disk, and with at most 8 requests at once the writers' queue for the lock stays short,
# well inside the 20 s each may wait (clinic/settings.py). WEB_WORKERS and WEB_THREADS change them.
# No control socket: its default path is one per user, shared by every gunicorn on the machine.
.venv/bin/gunicorn clinic.wsgi --config gunicorn.conf.py --bind "$url_host:$PORT" --no-control-socket \
  --workers "${WEB_WORKERS:-2}" --threads "${WEB_THREADS:-4}" &
pids+=($!)

cat <<MSG

The clinic is running at http://$url_host:$PORT/  (admin: http://$url_host:$PORT/admin/)
Log in with one of the demo logins in the README. Patient emails are written to var/mail/;
the Celery worker and beat log to var/celery.log.
Press Ctrl+C to stop.

MSG
# Whichever stops first (or Ctrl+C) stops the other, through the EXIT trap.
wait -n "${pids[@]}"
