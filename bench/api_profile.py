"""Where one API request's CPU goes: the same request as bench/api_load.py sends, run in this process
through Django's test client (the whole middleware stack, token authentication, DRF) on the bench
clinic, timed, its SQL counted, and profiled with cProfile.

    .venv/bin/python bench/api_profile.py availability        # a course's slot search over 3 days
    .venv/bin/python bench/api_profile.py booking --top 40    # a booking refused with 409, and one made

Prints CPU per request (median of `--runs`), the statements of one request, and the functions that
took the most time, cumulative. Prints figures; asserts nothing.
"""

import argparse
import cProfile
import io
import json
import pstats
import statistics
import time

from clinic_setup import build, setup_django  # noqa: I001 - bench/ is run as a script


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("availability", "booking"))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime, ...")
    parser.add_argument("--queries", action="store_true", help="print each statement of one request")
    args = parser.parse_args()

    setup_django()
    build()
    from api_load import Plan, bench_token, clear_bench_bookings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clear_bench_bookings()
    plan = Plan.make(days=args.days, requests=args.runs + 20)
    client = Client(HTTP_AUTHORIZATION=f"Token {bench_token()}", HTTP_HOST="127.0.0.1", SERVER_NAME="127.0.0.1")
    held = plan.openings[0]
    if args.kind == "booking":  # the bench's bookings are mostly refused: hold one time, then try it again
        first = client.post("/api/v1/appointments/", plan.booking(0, held), content_type="application/json",
                            secure=True)  # fmt: skip
        print(f"the held booking: HTTP {first.status_code}")

    def request(n):
        if args.kind == "availability":
            return client.get(plan.search(n), secure=True)
        return client.post("/api/v1/appointments/", plan.booking(n + 1, held), content_type="application/json",
                           secure=True)  # fmt: skip

    try:
        for n in range(10):
            request(n)  # warm: imports, URL patterns, first connection
        samples = []
        for n in range(args.runs):
            began = time.process_time()
            response = request(n)
            samples.append(time.process_time() - began)
        print(f"{args.kind}: HTTP {response.status_code}, {len(response.content):,} bytes; CPU per request "
              f"median {statistics.median(samples) * 1000:.2f} ms (min {min(samples) * 1000:.2f})")  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            request(0)
        print(f"{len(captured)} statements")
        if args.queries:
            for q in captured:
                print("  ", q["sql"][:300])
        if args.kind == "booking":
            made = client.post("/api/v1/appointments/", plan.booking(1, plan.openings[-1]),
                               content_type="application/json", secure=True)  # fmt: skip
            print(f"a booking made: HTTP {made.status_code} {json.loads(made.content).get('id', made.content[:200])}")
        profiler = cProfile.Profile(time.process_time)  # CPU, as the median above: not waits on the database
        profiler.enable()
        for n in range(args.runs):
            request(n)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    finally:
        clear_bench_bookings()


if __name__ == "__main__":
    main()
