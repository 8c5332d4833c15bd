"""Celery tasks of the engine: thin, each calls one service."""

from celery import shared_task

from scheduling.services.holds import holds_release_expired


@shared_task(name="scheduling.tasks.release_expired_holds")
def release_expired_holds() -> int:
    """Release the held consultations past their expiry (the beat runs it every minute); how many."""
    return holds_release_expired()
