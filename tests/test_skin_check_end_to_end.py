"""The skin check end to end, with no mocks: a completed treatment's skin-check email goes through
the real Redis and a real `celery worker` process over SMTP to aiosmtpd; the link read from the
received message opens the answer page (recording nothing), its button records the answer, and
the dermatologist finds it in the queue."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from aftercare.models import SkinCheck
from outbox.models import Notification
from outbox.tasks import dispatch_notifications
from scheduling.models import Appointment
from scheduling.services import appointment_complete
from tests.factories import AppointmentFactory
from tests.live import wait_for
from tests.test_mail_end_to_end import broker, smtp, start_worker  # noqa: F401 - the fixtures

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker process shares a PostgreSQL database"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.5", spot_size_mm="4.0", pulses=900, skin_reaction="mild_erythema")


def test_the_skin_check_reaches_the_patient_and_the_answer_reaches_the_dermatologists_queue(
    clinic,
    start_worker,  # noqa: F811
    smtp,  # noqa: F811
    client,
):
    # A treatment three days ago, recorded as completed only now: its check is due at once.
    start = (timezone.localtime() - timedelta(days=3)).replace(hour=11, minute=0, second=0, microsecond=0)
    session = AppointmentFactory(
        kind="treatment", patient=clinic.patient, course=clinic.course, practitioner=clinic.practitioner,
        room=clinic.room, device=clinic.device, start=start, status=Appointment.Status.CHECKED_IN,
    )  # fmt: skip
    appointment_complete(appointment=session, record=dict(RECORD))
    row = Notification.objects.get(appointment=session, kind=Notification.Kind.SKIN_CHECK)
    assert row.due_at <= timezone.now()
    start_worker()
    assert dispatch_notifications() == 2  # the aftercare and the skin check
    wait_for(lambda: Notification.objects.filter(status="sent").count() == 2, message="both emails to be sent")
    [message] = [m for m in smtp.inbox.messages if m["Subject"] == "How is your skin after your treatment?"]
    assert message["To"] == clinic.patient.email and message["Message-ID"] == row.message_id
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    links = dict(re.findall(r"(Settled|Still red or swollen|Blistering or pain|Something else): (https?://\S+)", text))
    assert len(links) == 4
    assert all(url in html.replace("&amp;", "&") for url in links.values())
    path = urlsplit(links["Blistering or pain"]).path

    patient = Client(enforce_csrf_checks=True)  # a mail scanner, then the patient's phone
    opened = patient.get(path)
    assert opened.status_code == 200 and re.search(r'value="blistering"[^>]*checked', opened.content.decode())
    assert not SkinCheck.objects.exists()  # opening the link records nothing
    sent = patient.post(path, {"answer": "blistering", "text": ""})
    assert sent.status_code == 200 and "Blistering or pain" in sent.content.decode()
    check = SkinCheck.objects.get(appointment=session)
    assert check.answer == "blistering" and check.handled_at is None

    client.force_login(clinic.practitioner.user)
    queue = client.get("/queues/skin/").content.decode()
    assert clinic.patient.full_name in queue and "Blistering or pain" in queue
    client.post(f"/queues/skin/{session.pk}/seen/")
    assert "No answer is waiting to be seen" in client.get("/queues/skin/").content.decode()
