"""Waitlist benchmarks on the generated bench clinic; prints figures, asserts nothing about time.

    .venv/bin/python bench/waitlist.py                  # both figures
    .venv/bin/python bench/waitlist.py --only matcher   # the matcher among 10,000 waiting entries
    .venv/bin/python bench/waitlist.py --only refill    # a simulated month with 10% of visits cancelled

The matcher: the time and the queries of offering one freed slot (a cancelled visit's) among
10,000 waiting entries (5,000 patients waiting for a consultation and for their course's next
session), run inside a transaction rolled back after each run.

The refill: a month of the bench clinic's booked visits (from 14 days ahead, so that treatments keep
their prep window), 10% of them cancelled at random moments through the booking service. Each
offered patient answers with probability --accept-rate at a random time within three hours (after
two hours the offer has expired); the sweep passes unanswered offers on. It prints how many freed
slots were booked again and how far ahead of the slot. Everything runs in one transaction that is
rolled back, so the clinic is the same for the next run.

The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/clinic_bench).
"""

import argparse
import random
import statistics
import time
from datetime import timedelta

from clinic_setup import build, setup_django  # noqa: I001 - bench/ is run as a script

ENTRIES = 10_000


class Rollback(Exception):
    """Raised to roll the benchmark's transaction back."""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="matcher runs")
    parser.add_argument("--accept-rate", type=float, default=0.3, help="share of offered patients who accept")
    parser.add_argument("--cancel-rate", type=float, default=0.10)
    parser.add_argument("--only", nargs="+", choices=("matcher", "refill"), default=["matcher", "refill"])
    args = parser.parse_args()
    url = setup_django()
    summary = build()
    print(f"database: {url.rsplit('@', 1)[-1]}")
    print("clinic: " + ", ".join(f"{v:,} {k}" for k, v in summary.items()))
    if "matcher" in args.only:
        matcher(args.runs)
    if "refill" in args.only:
        refill(accept_rate=args.accept_rate, cancel_rate=args.cancel_rate)


def _waitlist(rng, now):
    """ENTRIES waiting entries: each bench patient waits for a consultation and for their course's next
    session, on three to seven weekdays, at one to three times of day, for one to eight weeks."""
    from django.db import connection
    from django.utils import timezone

    from clinical.models import TreatmentCourse
    from waitlist.models import WaitlistEntry

    WaitlistEntry.objects.all().delete()
    today = timezone.localdate(now)
    entries = []
    for n, (course_id, patient_id) in enumerate(TreatmentCourse.objects.values_list("pk", "patient_id")):
        for wants in ("consultation", "next_session"):
            days = rng.sample(range(7), rng.randint(3, 7))
            entries.append(
                WaitlistEntry(
                    patient_id=patient_id,
                    wants=wants,
                    course_id=course_id if wants == "next_session" else None,
                    earliest_date=today,
                    latest_date=today + timedelta(days=rng.randint(7, 56)),
                    weekdays=sum(1 << d for d in days),
                    times_of_day=rng.randint(1, 7),
                    created_at=now - timedelta(minutes=n * 2 + (wants == "consultation")),
                )
            )
            if len(entries) >= ENTRIES:
                break
        if len(entries) >= ENTRIES:
            break
    WaitlistEntry.objects.bulk_create(entries, batch_size=2000)
    with connection.cursor() as cursor:  # what autovacuum does in a running clinic
        cursor.execute(f"ANALYZE {WaitlistEntry._meta.db_table}")
    return len(entries)


def matcher(runs):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from scheduling.models import Appointment
    from waitlist.services.matching import FreeSlot, offer_slot

    rng = random.Random(3)  # nosec B311 # a repeatable benchmark, not a secret
    now = timezone.now()
    print(f"\nmatcher: one freed slot among {ENTRIES:,} waiting entries ({runs} runs, each rolled back)")
    try:
        with transaction.atomic():
            count = _waitlist(rng, now)
            visits = list(
                Appointment.objects.filter(
                    status="booked", start__gt=now + timedelta(days=15), start__lt=now + timedelta(days=50)
                ).order_by("?")[:runs]
            )
            seconds, queries, offers = [], [], []
            for visit in visits:
                slot = FreeSlot(visit.start, visit.end, visit.practitioner_id, visit.room_id, visit.device_id, visit.pk)
                sid = transaction.savepoint()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    made = offer_slot(slot=slot, now=now)
                    seconds.append(time.perf_counter() - started)
                transaction.savepoint_rollback(sid)
                queries.append(len(captured.captured_queries))
                offers.append(len(made))
            raise Rollback
    except Rollback:
        pass
    print(f"  entries waiting: {count:,}")
    print(
        f"  time: median {statistics.median(seconds) * 1000:.1f} ms (min {min(seconds) * 1000:.1f}, "
        f"max {max(seconds) * 1000:.1f})"
    )
    print(f"  queries per slot: {sorted(set(queries))}; offers per slot: median {statistics.median(offers)}")


def refill(*, accept_rate, cancel_rate):
    import time_machine
    from django.db import transaction
    from django.utils import timezone

    from scheduling.models import Appointment
    from scheduling.services import appointment_cancel
    from waitlist.models import WaitlistOffer
    from waitlist.services.offers import offer_accept, sweep_offers

    rng = random.Random(5)  # nosec B311 # a repeatable benchmark, not a secret
    start = timezone.now().replace(microsecond=0)
    month = (start + timedelta(days=14), start + timedelta(days=44))
    started = time.perf_counter()
    try:
        with transaction.atomic():
            _waitlist(rng, start)
            visits = list(Appointment.objects.filter(status="booked", start__gte=month[0], start__lt=month[1]))
            cancelled = rng.sample(visits, int(len(visits) * cancel_rate))
            # Each is cancelled at a random moment of the month before it (at least three hours ahead).
            events = sorted(
                (start + timedelta(seconds=rng.uniform(0, (v.start - start).total_seconds() - 3 * 3600)), v)
                for v in cancelled
            )
            refilled, leads, answers = 0, [], {"accepted": 0, "taken": 0, "expired": 0, "other": 0}
            for moment, visit in events:
                with time_machine.travel(moment, tick=False):
                    appointment_cancel(appointment=visit)
                booked = False
                clock = moment
                for _ in range(4):  # the first offers, then three sweeps passing them on
                    offers = list(
                        WaitlistOffer.objects.filter(
                            start=visit.start, practitioner_id=visit.practitioner_id, status="offered"
                        )
                    )
                    replies = sorted(
                        (clock + timedelta(seconds=rng.uniform(0, 3 * 3600)), o)
                        for o in offers
                        if rng.random() < accept_rate
                    )
                    for when, offer in replies:
                        answer = offer_accept(offer_id=offer.pk, patient_id=offer.entry.patient_id, now=when)
                        answers[answer.status if answer.status in answers else "other"] += 1
                        if answer.status == "accepted":
                            booked = True
                            leads.append(visit.start - when)
                    if booked or not offers:
                        break
                    clock += timedelta(hours=2, minutes=5)
                    if clock >= visit.start:
                        break
                    sweep_offers(now=clock)
                refilled += booked
            raise Rollback
    except Rollback:
        pass
    elapsed = time.perf_counter() - started
    days = [lead.total_seconds() / 86400 for lead in leads]
    print(
        f"\nrefill: a month of visits ({len(visits):,} booked), {len(cancelled):,} cancelled at random "
        f"({cancel_rate:.0%}), {accept_rate:.0%} of offered patients accept (simulated in {elapsed:.0f} s)"
    )
    print(f"  freed slots booked again: {refilled:,} of {len(cancelled):,} ({refilled / max(len(cancelled), 1):.0%})")
    if days:
        print(
            f"  how far ahead of the slot: median {statistics.median(days):.1f} days "
            f"(min {min(days):.1f}, max {max(days):.1f})"
        )
    print(f"  answers: {answers}")


if __name__ == "__main__":
    main()
