"""The sign-in link end to end, with no mocks: the form's request goes through the real Redis to a
real `celery worker` process and over SMTP to aiosmtpd, and the link read from that message signs
in. No dispatcher runs: the sign-in email is handed to the mail queue as its request commits."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from outbox.models import Notification
from tests.factories import PatientFactory
from tests.live import wait_for
from tests.portal import link_in
from tests.test_mail_end_to_end import broker, smtp, start_worker  # noqa: F401 - the fixtures

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker process shares a PostgreSQL database"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_emailed_sign_in_link_arrives_through_the_worker_and_signs_in(start_worker, smtp, client, settings):  # noqa: F811
    settings.PORTAL_SIGN_IN_IN_WORKER = True  # the worker looks the address up, as in production
    cache.clear()
    ada = PatientFactory(first_name="Ada", email="ada@example.com")
    start_worker()
    assert client.post(reverse("portal:sign_in"), {"email": "ada@example.com"}).status_code == 200
    wait_for(lambda: Notification.objects.filter(status="sent").exists(), message="the sign-in email to be sent")
    [message] = smtp.inbox.messages
    assert message["To"] == "ada@example.com" and message["Subject"] == "Your link to sign in"
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    link = link_in(text)
    assert client.get(link).status_code == 200
    assert client.post(link)["Location"] == reverse("portal:home")
    assert b"Hello Ada" in client.get(reverse("portal:home")).content
    assert client.__class__().post(link).status_code == 410  # used up
    assert ada.pk == client.session["portal_patient_id"]
