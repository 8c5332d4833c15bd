from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

from outbox import sending
from outbox.models import Notification
from outbox.tasks import enqueue


class Command(BaseCommand):
    help = "Run one dispatch of due patient emails by hand: claim them and queue their send tasks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--at",
            help="Dispatch as if it were this ISO-8601 time (with offset): what falls due by then is claimed, "
            "and the workers decide by it whether each email is still wanted (a reminder is skipped once its "
            "visit has started). Whether a row a worker holds is stale is still the real clock's.",
        )
        parser.add_argument("--dry-run", action="store_true", help="List what is due; claim and send nothing.")
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, at=None, dry_run=False, limit=1000, **options):
        now = timezone.now()
        if at:
            now = parse_datetime(at)
            if now is None or timezone.is_naive(now):
                raise CommandError("--at takes an ISO-8601 time with its offset, e.g. 2027-03-01T10:00+00:00.")
        if dry_run:
            due = Notification.objects.filter(status=Notification.Status.PENDING, due_at__lte=now).order_by("due_at")
            rows = list(due[:limit])
            for row in rows:
                self.stdout.write(
                    f"due   #{row.pk} {row.kind} for patient #{row.patient_id} at {row.due_at.isoformat()}"
                )
            self.stdout.write(f"{len(rows)} due at {now.isoformat()} (dry run: nothing claimed).")
            return
        try:
            with transaction.atomic():
                ids = sending.claim_due(now=now, limit=limit)
                transaction.on_commit(lambda: enqueue(ids, at=now if at else None))
        except OperationalError as error:
            # enqueue has put the rows back as pending: the next dispatch claims them again.
            broker = maybe_sanitize_url(settings.CELERY_BROKER_URL)
            reason = " ".join(str(error).split())  # one line
            raise CommandError(
                f"The Celery broker at {broker} cannot be reached ({reason}). The due emails it did not "
                "take are pending again, for the next dispatch."
            ) from None
        for row in Notification.objects.filter(pk__in=ids).order_by("due_at"):
            self.stdout.write(f"queued #{row.pk} {row.kind} for patient #{row.patient_id}")
        self.stdout.write(f"{len(ids)} claimed at {now.isoformat()} and queued for sending.")
