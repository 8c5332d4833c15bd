"""The boards' live refresh on the bench clinic: what one poll costs when nothing changed.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench_dnd .venv/bin/python bench/board_live.py

A day board asks `GET /board/changes/?from=...&days=...&token=...` every few seconds
(BOARD_POLL_SECONDS). Printed: the answer's size in bytes (body and the headers Django sends; the
WSGI server adds its own Date and Server lines), and its server time through the whole middleware
stack (session, login, role, CSP) for a busy day and a week, medians over the runs; then the
token's query alone. Nothing is asserted about time.
"""

import argparse
import statistics
import time
from datetime import timedelta

from clinic_setup import build, setup_django  # noqa: I001 - bench/ is run as a script


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appointments", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    url = setup_django()
    summary = build(args.appointments)
    print(f"database: {url.rsplit('@', 1)[-1]}")
    print("clinic: " + ", ".join(f"{v:,} {k}" for k, v in summary.items()))

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.models import Count
    from django.db.models.functions import TruncDate
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    from scheduling.availability import day_bounds
    from scheduling.models import Appointment
    from scheduling.selectors import board_token

    setup_test_environment()  # the test client's host name is allowed
    busiest = (
        Appointment.objects.annotate(day=TruncDate("start", tzinfo=timezone.get_default_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    day = busiest["day"]
    user, _ = get_user_model().objects.get_or_create(username="bench-reception")
    user.groups.add(Group.objects.get(name="Reception"))
    client = Client()
    client.force_login(user)
    tz = timezone.get_default_timezone()
    print()
    for days in (1, 7):
        first, last = day_bounds(day, tz)[0], day_bounds(day + timedelta(days=days - 1), tz)[1]
        held = Appointment.objects.filter(start__gte=first, start__lt=last).count()
        token = board_token(first=first, last=last)
        poll = f"{reverse('scheduling:board_changes')}?from={day.isoformat()}&days={days}&token={token}"
        samples, answer = [], None
        for _ in range(args.runs):
            began = time.perf_counter()
            answer = client.get(poll, secure=True)
            samples.append(time.perf_counter() - began)
        assert answer.status_code == 204 and "HX-Trigger" not in answer, answer.status_code  # nosec B101
        with CaptureQueriesContext(connection) as captured:
            client.get(poll, secure=True)
        token_samples = []
        for _ in range(args.runs):
            began = time.perf_counter()
            board_token(first=first, last=last)
            token_samples.append(time.perf_counter() - began)
        print(
            f"'changed since', nothing changed, {days} day{'s' if days > 1 else ''} ({held} appointments, {day}): "
            f"HTTP {answer.status_code}, body {len(answer.content)} bytes, "
            f"headers {len(answer.serialize_headers())} bytes; "
            f"server {_ms(samples)} over {len(captured)} queries; the token's query and hash alone {_ms(token_samples)}"
        )


def _ms(samples) -> str:
    return f"{statistics.median(samples) * 1000:.2f} ms (min {min(samples) * 1000:.2f})"


if __name__ == "__main__":
    main()
