"""The waitlist on PostgreSQL with real parts: ten patients accepting one slot's offers at the same
moment, and an offer's email through the real Celery worker and SMTP server."""

import re
import threading
from datetime import time, timedelta

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from outbox.models import Notification
from outbox.tasks import dispatch_notifications
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_cancel
from tests.factories import PatientFactory, PractitionerFactory, RoomFactory, WorkingHoursFactory
from tests.live import wait_for
from tests.test_mail_end_to_end import broker, smtp, start_worker  # noqa: F401, F811 - the real worker's fixtures
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.services.entries import waitlist_join
from waitlist.services.offers import offer_accept

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROUNDS = 3


def in_threads(jobs):
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def a_clinic():
    practitioner = PractitionerFactory()
    for weekday in range(7):
        WorkingHoursFactory(practitioner=practitioner, weekday=weekday, start_time=time(9), end_time=time(17))
    return practitioner, RoomFactory()


def a_week_ahead_at(hour):
    return (timezone.localtime() + timedelta(days=7)).replace(hour=hour, minute=0, second=0, microsecond=0)


def waiting_patients(count):
    today = timezone.localdate()
    return [
        waitlist_join(
            patient=PatientFactory(), wants="consultation", earliest_date=today, latest_date=today + timedelta(days=30)
        )
        for _ in range(count)
    ]


@override_settings(WAITLIST_OFFERS_PER_SLOT=10, WAITLIST_MAX_OFFERS_PER_DAY=ROUNDS)
def test_ten_patients_accepting_one_slot_at_once_end_with_one_booking_and_nine_clear_answers():
    practitioner, room = a_clinic()
    entries = waiting_patients(10)
    for round_number in range(ROUNDS):
        start = a_week_ahead_at(10 + round_number)
        visit = appointment_book(
            patient=PatientFactory(), kind="consultation", start=start, practitioner=practitioner, room=room
        )
        appointment_cancel(appointment=visit)
        offers = list(WaitlistOffer.objects.filter(start=start))
        assert len(offers) == 10 - round_number  # the winners of earlier rounds wait no more
        answers = in_threads([lambda o=o: offer_accept(offer_id=o.pk, patient_id=o.entry.patient_id) for o in offers])
        statuses = sorted(getattr(a, "status", repr(a)) for a in answers)
        assert statuses == ["accepted"] + ["taken"] * (len(offers) - 1), answers
        assert all("Another patient took this time first" in a.message for a in answers if a.status == "taken")
        booked = Appointment.objects.filter(start=start, status="booked")
        assert booked.count() == 1
        [winner] = [a for a in answers if a.status == "accepted"]
        assert booked.get().pk == winner.appointment.pk
    assert WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries], status="waiting").count() == 10 - ROUNDS


def test_an_offer_email_reaches_the_patient_through_the_worker_and_its_link_books_the_slot(
    client,
    start_worker,  # noqa: F811 - the imported fixture
    smtp,  # noqa: F811
):
    start_worker()
    practitioner, room = a_clinic()
    [entry] = waiting_patients(1)
    start = a_week_ahead_at(11)
    visit = appointment_book(
        patient=PatientFactory(), kind="consultation", start=start, practitioner=practitioner, room=room
    )
    Notification.objects.all().delete()  # the first patient's confirmation is not what this test reads
    appointment_cancel(appointment=visit)
    offer_email = Notification.objects.get(kind=Notification.Kind.WAITLIST_OFFER)
    assert dispatch_notifications() >= 1
    wait_for(lambda: Notification.objects.get(pk=offer_email.pk).status == "sent", message="the offer to be sent")
    [message] = [m for m in smtp.inbox.messages if m["To"] == entry.patient.email]
    assert message["Subject"].startswith("A consultation time has come free")
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    link = next(url for url in re.findall(r"https?://\S+", text) if "/p/offer/" in url)
    path = link.split("127.0.0.1:8000", 1)[1]
    offer = WaitlistOffer.objects.get(entry=entry)
    page = client.post(path, {"offer": offer.pk, "answer": "accept"})
    assert page.status_code == 200 and "Your visit is booked" in page.content.decode()
    assert Appointment.objects.get(start=start, status="booked").patient_id == entry.patient_id
