"""Signing in to the patient pages: the emailed one-time link, its life, the same answer for any
address, the throttles, erased patients, and a patient session that is never a staff login."""

import json

import pytest
import redis
from auditlog.models import LogEntry
from celery import current_app
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from kombu.exceptions import OperationalError as KombuOperationalError
from sesame.utils import get_token

from clinic.accesslog import safe_path
from outbox import sending
from outbox.emails import build_message
from outbox.links import PORTAL_SCOPE
from outbox.models import Notification
from outbox.services import sign_in_email_send
from portal.session import PATIENT_KEY
from portal.tasks import send_sign_in_links
from records.privacy import patient_erase
from tests.factories import PatientFactory
from tests.portal import link_in, sign_in, sign_in_path

pytestmark = pytest.mark.django_db
SIGN_IN = reverse("portal:sign_in")


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()  # the throttles count in the cache, which outlives each test's rollback
    yield
    cache.clear()


@pytest.fixture
def ada(db):
    return PatientFactory(first_name="Ada", email="ada@example.com")


def ask(client, email, **extra):
    return client.post(SIGN_IN, {"email": email}, **extra)


def test_asking_for_a_link_answers_the_same_whether_the_address_is_known_unknown_or_erased(client, ada, manager):
    erased = PatientFactory(email="gone@example.com")
    patient_erase(patient=erased, by=manager, reason="asked on 1 March")
    answers = [ask(client, email) for email in ("ADA@example.com", "nobody@example.com", "gone@example.com")]
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    [row] = Notification.objects.all()
    assert (row.patient, row.kind, row.status) == (ada, Notification.Kind.SIGN_IN, Notification.Status.PENDING)
    ada.refresh_from_db()
    assert ada.user is not None and not ada.user.is_staff and not ada.user.has_usable_password()
    assert ada.user.groups.count() == 0 and ada.email not in ada.user.username


@pytest.fixture
def mail_queue(settings):
    """The broker's mail queue in this test's Redis database, emptied before and after."""
    queue = redis.Redis.from_url(settings.TEST_REDIS_URL)
    queue.delete("mail")
    yield queue
    queue.delete("mail")


def test_a_request_hands_any_address_to_the_workers_so_its_time_says_nothing(client, ada, settings, mail_queue):
    settings.PORTAL_SIGN_IN_IN_WORKER = True
    answers = [ask(client, email) for email in ("ada@example.com", "nobody@example.com")]
    assert {answer.status_code for answer in answers} == {200} and answers[0].content == answers[1].content
    assert not Notification.objects.exists()  # nothing looked up in the request, for either address
    messages = [json.loads(raw) for raw in mail_queue.lrange("mail", 0, -1)]
    assert [m["headers"]["task"] for m in messages] == ["portal.tasks.send_sign_in_links"] * 2
    assert {m["headers"]["argsrepr"] for m in messages} == {"('<address>',)"}  # what logs and monitors show
    assert "example.com" not in json.dumps([m["headers"] for m in messages])
    assert [send_sign_in_links(email) for email in ("ada@example.com", "nobody@example.com")] == [1, 0]
    [row] = Notification.objects.all()
    assert (row.patient, row.kind) == (ada, Notification.Kind.SIGN_IN)


def test_with_the_broker_unreachable_the_request_looks_the_address_up_itself(client, ada, settings, monkeypatch):
    settings.PORTAL_SIGN_IN_IN_WORKER = True

    def unreachable(*args, **kwargs):
        raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", unreachable)
    assert ask(client, "ada@example.com").status_code == 200
    assert Notification.objects.get().patient == ada


def test_the_sign_in_email_is_queued_at_once_and_its_link_signs_in(client, ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "ada@example.com")
    row = Notification.objects.get()
    assert row.status == Notification.Status.QUEUED  # handed to the mail queue, not left for the dispatcher
    assert sending.send(row.pk) == "sent"
    [message] = mail.outbox
    assert message.subject == "Your link to sign in" and message.to == ["ada@example.com"]
    link = link_in(message.body)
    landing = client.get(link)
    assert landing.status_code == 200
    assert client.get(reverse("portal:home")).status_code == 302  # opening the link signs nobody in
    assert client.post(link).status_code == 302
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200 and b"Hello Ada" in home.content


def test_a_link_works_once(client, ada):
    link = sign_in_path(ada)
    assert client.post(link)["Location"] == reverse("portal:home")
    other = client.__class__()
    assert other.post(link).status_code == 410
    assert PATIENT_KEY not in other.session


def test_a_link_expires_after_30_minutes(client, ada, time_machine):
    time_machine.move_to("2027-03-01 08:00Z", tick=False)
    late, in_time = sign_in_path(ada), sign_in_path(ada)
    time_machine.move_to("2027-03-01 08:29Z", tick=False)
    assert client.post(in_time).status_code == 302
    time_machine.move_to("2027-03-01 08:31Z", tick=False)
    fresh = client.__class__()
    assert fresh.post(late).status_code == 410
    assert fresh.post(sign_in_path(ada)).status_code == 302


def test_a_stale_sign_in_email_is_not_sent_after_an_outage(ada, time_machine):
    time_machine.move_to("2027-03-01 08:00Z", tick=False)
    row = sign_in_email_send(patient=_with_account(ada))
    time_machine.move_to("2027-03-01 08:45Z", tick=False)
    assert sending.unwanted_reason(row) == "The sign-in link was asked for too long ago."


def _with_account(patient):
    sign_in_path(patient)
    return patient


def test_sign_in_emails_go_even_to_a_patient_who_unsubscribed_from_reminders(ada):
    ada.email_consent = False
    ada.save()
    row = sign_in_email_send(patient=_with_account(ada))
    assert sending.unwanted_reason(row) == ""
    assert "/me/sign-in/" in build_message(row).body


def test_requests_are_throttled_per_address(client, ada, settings):
    settings.PORTAL_SIGN_IN_RATE_PER_ADDRESS = "3/h"
    assert [ask(client, "ada@example.com", REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(4)] == [
        200, 200, 200, 429,
    ]  # fmt: skip
    assert ask(client, "Ada@Example.com ", REMOTE_ADDR="10.0.0.9").status_code == 429  # the same address
    assert ask(client, "other@example.com", REMOTE_ADDR="10.0.0.9").status_code == 200
    assert Notification.objects.count() == 3


def test_requests_are_throttled_per_client_address_behind_the_proxy(client, ada, settings):
    settings.PORTAL_SIGN_IN_RATE_PER_CLIENT = "3/h"
    settings.BEHIND_TLS_PROXY = True
    proxied = {"REMOTE_ADDR": "10.9.9.9"}
    answers = [ask(client, f"p{n}@example.com", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxied) for n in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    # Another client behind the same proxy is not held up; a forged left-hand entry does not help.
    assert ask(client, "ada@example.com", HTTP_X_FORWARDED_FOR="198.51.100.1", **proxied).status_code == 200
    forged = ask(client, "p9@example.com", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7", **proxied)
    assert forged.status_code == 429


def test_an_erased_patient_can_never_sign_in(client, ada, manager):
    link = sign_in_path(ada)
    signed_in = client.__class__()
    sign_in(signed_in, ada)
    patient_erase(patient=ada, by=manager, reason="asked on 1 March")
    assert client.post(link).status_code == 410
    assert signed_in.get(reverse("portal:home")).status_code == 302  # the session ends too
    assert PATIENT_KEY not in signed_in.session


def test_a_patient_session_is_not_a_staff_login(client, ada, receptionist):
    client.force_login(receptionist)
    staff_session = client.session.session_key
    sign_in(client, ada)
    assert client.session.session_key != staff_session  # a new session: the staff login is gone
    for path in ("/", reverse("scheduling:day_board"), reverse("patients:search"), "/admin/"):
        response = client.get(path)
        assert response.status_code == 302 and "login" in response["Location"], path
        assert response.wsgi_request.user.is_anonymous
    assert client.get("/api/v1/appointments/").status_code in (401, 403)
    assert client.get(reverse("portal:home")).status_code == 200


def test_signing_in_and_out_is_in_the_audit_trail_with_the_patient_as_actor(client, ada):
    sign_in(client, ada)
    client.post(reverse("portal:sign_out"))
    assert client.get(reverse("portal:home")).status_code == 302
    entries = LogEntry.objects.filter(object_id=ada.pk, action=LogEntry.Action.ACCESS).order_by("pk")
    assert [(e.actor, e.additional_data) for e in entries] == [
        (ada.user, {"patient pages": "signed in"}),
        (ada.user, {"patient pages": "signed out"}),
    ]


def test_a_token_for_a_staff_account_never_signs_in(client, receptionist):
    token = get_token(receptionist, scope=PORTAL_SCOPE)
    assert client.post(reverse("portal:sign_in_link", args=[token])).status_code == 410


def test_the_logs_never_quote_a_sign_in_token(ada):
    link = sign_in_path(ada)
    assert safe_path(f"GET {link} HTTP/1.1") == "GET /me/sign-in/[token]/ HTTP/1.1"
    assert safe_path("POST /me/sign-in/ HTTP/1.1") == "POST /me/sign-in/ HTTP/1.1"
