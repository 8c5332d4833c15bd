"""Answering a waitlist offer: the first to accept books, the others are told it was taken and stay
on the list; declining passes the slot on; the link is the patient's own; staff pages by role."""

from datetime import timedelta

import pytest
from django.urls import reverse

from outbox.links import make_payload_token
from scheduling.models import Appointment
from scheduling.services import appointment_cancel
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, TreatmentCourseFactory
from tests.waitlist_helpers import SLOT_DAY, booked_visit, waiting
from waitlist.links import offer_token
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.services.offers import offer_accept, offer_decline

pytestmark = pytest.mark.django_db
S = WaitlistOffer.Status


def offers_of_a_freed_slot(clinic, count=3):
    entries = [waiting(days_ago=count - n) for n in range(count)]
    visit = booked_visit(clinic)
    appointment_cancel(appointment=visit)
    return [WaitlistOffer.objects.get(entry=entry) for entry in entries[:3]], visit


def accept(offer):
    return offer_accept(offer_id=offer.pk, patient_id=offer.entry.patient_id)


def test_the_first_to_accept_books_the_slot_and_the_others_are_told_it_was_taken(clinic, frozen):
    (first, second, third), freed = offers_of_a_freed_slot(clinic)
    answer = accept(second)
    assert answer.status == S.ACCEPTED
    booked = answer.appointment
    assert (booked.patient_id, booked.kind, booked.start, booked.practitioner_id, booked.status) == (
        second.entry.patient_id,
        "consultation",
        freed.start,
        clinic.practitioner.pk,
        Appointment.Status.BOOKED,
    )
    late = accept(first)
    assert late.status == S.TAKEN and "Another patient took this time first" in late.message
    statuses = dict(WaitlistOffer.objects.values_list("pk", "status"))
    assert statuses == {first.pk: S.TAKEN, second.pk: S.ACCEPTED, third.pk: S.TAKEN}
    entries = dict(WaitlistEntry.objects.values_list("pk", "status"))
    assert entries[second.entry_id] == "booked"
    assert entries[first.entry_id] == entries[third.entry_id] == "waiting"
    assert accept(second).status == S.ACCEPTED  # asked again, the same answer and no second booking
    assert Appointment.objects.filter(start=freed.start, status="booked").count() == 1


def test_declining_keeps_the_patient_waiting_and_offers_the_slot_to_the_next_in_line(clinic, frozen):
    (first, *_), _ = offers_of_a_freed_slot(clinic, count=4)
    fourth = WaitlistEntry.objects.order_by("-created_at").first()
    answer = offer_decline(offer_id=first.pk, patient_id=first.entry.patient_id)
    assert answer.status == S.DECLINED
    assert WaitlistEntry.objects.get(pk=first.entry_id).status == "waiting"
    assert WaitlistOffer.objects.filter(entry=fourth, status=S.OFFERED).exists()


def test_an_expired_offer_cannot_be_accepted(clinic, frozen, time_machine):
    (first, *_), _ = offers_of_a_freed_slot(clinic)
    time_machine.move_to(frozen + timedelta(hours=2, seconds=1), tick=False)
    assert accept(first).status == S.EXPIRED
    assert not Appointment.objects.filter(patient=first.entry.patient).exists()


def test_accepting_an_earlier_time_moves_the_booked_session(clinic, frozen):
    session = book_treatment(clinic, local(29, 10))
    entry = waiting("earlier", patient=clinic.patient, appointment=session)
    other = TreatmentCourseFactory(approved=True, approved_by=clinic.practitioner)
    freed = booked_visit(
        clinic, local(22, 10), kind="treatment", patient=other.patient, course=other, device=clinic.device
    )
    appointment_cancel(appointment=freed)
    offer = WaitlistOffer.objects.get(entry=entry)
    answer = accept(offer)
    assert answer.status == S.ACCEPTED
    session.refresh_from_db()
    assert (answer.appointment.pk, session.start, session.status) == (session.pk, local(22, 10), "booked")
    assert Appointment.objects.filter(patient=clinic.patient).count() == 1
    # The time the session left is free again, and offered in turn (nobody else waits here).
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "booked"


def test_a_booking_refused_by_the_rules_answers_clearly_and_keeps_the_patient_waiting(clinic, frozen):
    (first, *_), freed = offers_of_a_freed_slot(clinic)
    patient = first.entry.patient
    AppointmentFactory(patient=patient, start=local(22, 10))  # another visit then, booked meanwhile elsewhere
    answer = accept(first)
    assert answer.status == S.TAKEN and "stay on the waitlist" in answer.message
    assert WaitlistEntry.objects.get(pk=first.entry_id).status == "waiting"
    assert not Appointment.objects.filter(patient=patient, start=freed.start, practitioner=clinic.practitioner).exists()


def offer_page(offer, token=None):
    return reverse("waitlist_links:offer", args=[token or offer_token(offer)])


def test_the_offer_page_shows_the_time_and_accepts_it_with_its_button(client, clinic, frozen):
    (first, *_), _ = offers_of_a_freed_slot(clinic)
    page = client.get(offer_page(first))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Monday 22 March 2027" in html and 'value="accept"' in html
    assert "style=" not in html and "<script>" not in html  # strict CSP: no inline style or script
    assert page["Referrer-Policy"] == "no-referrer"
    answered = client.post(offer_page(first), {"offer": first.pk, "answer": "accept"})
    assert answered.status_code == 200
    assert "Your visit is booked" in answered.content.decode()
    assert WaitlistOffer.objects.get(pk=first.pk).status == S.ACCEPTED


def test_another_patients_offer_is_refused_by_id_and_by_token(client, clinic, frozen):
    (first, second, _), _ = offers_of_a_freed_slot(clinic)
    # A form posting another offer's id than its link's.
    forged = client.post(offer_page(first), {"offer": second.pk, "answer": "accept"})
    assert forged.status_code == 400
    # A token naming another patient's offer.
    token = make_payload_token("waitlist_offer", {"o": second.pk, "p": first.entry.patient_id})
    assert client.post(offer_page(first, token), {"offer": second.pk, "answer": "accept"}).status_code == 400
    # A token cut short.
    assert client.get(offer_page(first, offer_token(first)[:-3])).status_code == 400
    assert set(WaitlistOffer.objects.values_list("status", flat=True)) == {S.OFFERED}
    assert not Appointment.objects.filter(status="booked", start=local(22, 10)).exists()


def test_an_old_link_is_refused_after_the_offer_hours(client, clinic, frozen, time_machine):
    (first, *_), _ = offers_of_a_freed_slot(clinic)
    url = offer_page(first)
    time_machine.move_to(frozen + timedelta(hours=2, minutes=1), tick=False)
    assert client.get(url).status_code == 410


@pytest.mark.parametrize(
    ("persona", "join", "queue"),
    [("receptionist", 200, 200), ("dermatologist", 200, 200), ("manager", 403, 200), (None, 302, 302)],
)
def test_the_staff_pages_by_role(client, clinic, frozen, request, persona, join, queue):
    if persona:
        user = request.getfixturevalue(persona)
        client.force_login(getattr(user, "user", user))
    entry = waiting(patient=clinic.patient)
    assert client.get(reverse("waitlist:join", args=[clinic.patient.pk])).status_code == join
    assert client.get(reverse("queues:waitlist")).status_code == queue
    leave = client.post(reverse("waitlist:leave", args=[entry.pk]))
    assert leave.status_code == (302 if join == 200 else join)
    assert WaitlistEntry.objects.get(pk=entry.pk).status == ("left" if join == 200 else "waiting")


def test_reception_puts_a_patient_on_the_waitlist_from_the_patient_page(client, clinic, frozen, receptionist):
    client.force_login(receptionist)
    patient_page = client.get(reverse("patients:detail", args=[clinic.patient.pk])).content.decode()
    assert reverse("waitlist:join", args=[clinic.patient.pk]) in patient_page
    url = reverse("waitlist:join", args=[clinic.patient.pk])
    form = {
        "wants": "next_session",
        "course": clinic.course.pk,
        "earliest_date": "2027-03-08",
        "latest_date": str(SLOT_DAY),
        "weekdays": ["0", "2"],
        "times_of_day": ["1"],
    }
    assert client.post(url, form).status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.wants, entry.course_id, entry.weekdays, entry.times_of_day, entry.created_by) == (
        "next_session",
        clinic.course.pk,
        0b101,
        1,
        receptionist,
    )
    again = client.post(url, form)
    assert "already on the waitlist" in again.content.decode()
    queue = client.get(reverse("queues:waitlist")).content.decode()
    assert clinic.patient.full_name in queue
