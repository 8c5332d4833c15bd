"""The waitlist's Celery task: thin, it calls one service."""

from celery import shared_task

from waitlist.services.offers import sweep_offers


@shared_task(name="waitlist.tasks.sweep_offers")
def sweep_offers_task() -> dict[str, int]:
    """Beat runs this every few minutes (settings.CELERY_BEAT_SCHEDULE)."""
    return sweep_offers()
