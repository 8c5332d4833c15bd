"""Celery tasks of the records room: thin, each calls one service."""

from celery import shared_task

from records.applicants import forget_unconfirmed_applicants


@shared_task(name="records.tasks.forget_unconfirmed_applicants")
def forget_unconfirmed_applicants_task() -> int:
    """Erase the records online holds left behind unconfirmed (the beat runs it hourly); how many."""
    return forget_unconfirmed_applicants()
