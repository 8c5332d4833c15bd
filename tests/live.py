"""Real moving parts for end-to-end runs: an SMTP server and Celery worker processes.

Used by the end-to-end tests and by the mail benchmark. Nothing here is a mock: the worker is a
`celery worker` process with its own database connection, the broker is the real Redis (or, with
no Redis URL, kombu's filesystem transport, as on a first run) and the mail goes over SMTP to
aiosmtpd or into files.
"""

import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives, parsed, and the SMTP session
    (one per connection) it came over. It refuses messages whose Message-ID is in `refuse`."""

    def __init__(self):
        self.messages = []
        self.refuse = set()
        self._sessions = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.original_content or envelope.content)
        if message["Message-ID"] in self.refuse:
            # As real servers do, the refusal names the recipient.
            return f"554 Transaction failed for <{', '.join(envelope.rcpt_tos)}>"
        with self._lock:
            self.messages.append(message)
            self._sessions.append(session)
        return "250 Message accepted for delivery"

    def message_ids(self):
        with self._lock:
            return [m["Message-ID"] for m in self.messages]

    def connections(self) -> int:
        """How many SMTP connections delivered the messages received."""
        with self._lock:
            return len({id(session) for session in self._sessions})


class SMTPServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()


def database_url() -> str:
    """The URL of the database this process uses right now (the test database during tests)."""
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("Worker processes need a database they can share: PostgreSQL.")
    user = s["USER"] or "postgres"
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{user}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def shared_database(folder):
    """The URL of a database other processes can open, holding what this test has committed.

    On PostgreSQL it is the test database itself. SQLite's test database lives in this process's
    memory, so it is copied to a file in `folder` for the other processes, and what they wrote is
    copied back into memory when the block ends (stop them first). Needs a transactional test."""
    if connection.vendor == "postgresql":
        yield database_url()
        return
    path = Path(folder).resolve() / "shared.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.close()
    try:
        yield f"sqlite:///{path}"
    finally:
        copy = sqlite3.connect(path)
        copy.backup(connection.connection)
        copy.close()


def process_env(*, redis_url="", database=None, smtp_port=None, extra_env=None) -> dict[str, str]:
    """The environment of a worker or `manage.py` process that shares this test's database and
    secret. Without `redis_url` the broker is the filesystem transport (its folders: BROKER_DIR in
    `extra_env`); without `smtp_port` mail goes to files (EMAIL_FILE_PATH in `extra_env`)."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "SECRET_KEY": settings.SECRET_KEY,  # links the worker signs must open here
        "DATABASE_URL": database or database_url(),
        "REDIS_URL": redis_url or "",
        "LOG_LEVEL": "WARNING",
    }
    if smtp_port is not None:
        env |= {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
        }
    return env | (extra_env or {})


def manage(*args, env, timeout=60) -> subprocess.CompletedProcess:
    """Run `manage.py` in a process of its own, as a person or cron would."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


class Worker:
    """A `celery worker` process consuming the mail and default queues."""

    def __init__(self, *, redis_url=None, smtp_port=None, concurrency=2, log_path=None, extra_env=None, database=None):
        self.env = process_env(redis_url=redis_url, database=database, smtp_port=smtp_port, extra_env=extra_env)
        self.concurrency = concurrency
        self.log_path = log_path or Path(tempfile.gettempdir()) / f"celery-worker-{free_port()}.log"
        self.process = None

    def start(self, timeout=60):
        command = [
            sys.executable, "-m", "celery", "-A", "clinic", "worker", "-Q", "mail,celery",
            "--concurrency", str(self.concurrency), "--pool", "prefork", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--loglevel", "INFO", "--logfile", str(self.log_path),
        ]  # fmt: skip
        self.log_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.process.returncode}: {self.log()}")
            if "ready." in self.log():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"celery worker not ready after {timeout} s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def kill(self):
        """SIGKILL the whole worker (parent and pool processes), as a crash or OOM kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        """A warm shutdown: SIGTERM to the main process, which stops its pool itself. (Signalling
        the whole group kills the pool under it, and on the filesystem transport the main process
        then waits for ever.)"""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(condition, *, timeout=90, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")
