"""Celery tasks of the patient pages: thin wrappers that call one service each."""

from celery import shared_task

from portal.services import SIGN_IN_TASK, sign_in_link_request


@shared_task(name=SIGN_IN_TASK, acks_late=True)
def send_sign_in_links(email: str) -> int:
    """Plan a sign-in email to each patient at `email`, for `portal.services.sign_in_link_ask`."""
    return sign_in_link_request(email=email)
