"""The waitlist's matcher: which waiting patients a freed slot is offered to, in the transaction
that frees it, and the sweep that passes unanswered offers on."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings

from catalogue.models import Condition
from outbox.emails import build_message
from outbox.models import Notification
from scheduling.models import Appointment
from scheduling.services import appointment_cancel, appointment_reschedule
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, PatientFactory, TreatmentCourseFactory
from tests.waitlist_helpers import SLOT_DAY, booked_visit, waiting
from waitlist.models import AFTERNOON, MORNING, WaitlistEntry, WaitlistOffer
from waitlist.services.matching import FreeSlot, offer_slot
from waitlist.services.offers import sweep_offers

pytestmark = pytest.mark.django_db
MONDAY_ONLY, TUESDAY_ONLY = 0b1, 0b10


def offered_entries():
    return set(WaitlistOffer.objects.values_list("entry_id", flat=True))


def test_a_cancelled_visit_is_offered_to_the_three_oldest_waiting_patients(clinic, frozen):
    entries = [waiting(days_ago=days) for days in (1, 5, 3, 4, 2)]
    visit = booked_visit(clinic)
    appointment_cancel(appointment=visit)
    oldest = sorted(entries, key=lambda e: e.created_at)[:3]
    assert offered_entries() == {e.pk for e in oldest}
    offers = WaitlistOffer.objects.all()
    assert {(o.start, o.end, o.practitioner_id, o.room_id, o.freed_by_id) for o in offers} == {
        (visit.start, visit.end, clinic.practitioner.pk, clinic.room.pk, visit.pk)
    }
    assert all(o.expires_at == frozen + timedelta(hours=2) for o in offers)
    emails = Notification.objects.filter(kind=Notification.Kind.WAITLIST_OFFER)
    assert sorted(emails.values_list("patient_id", flat=True)) == sorted(e.patient_id for e in oldest)
    assert {o.notification_id for o in offers} == set(emails.values_list("pk", flat=True))


@override_settings(WAITLIST_OFFERS_PER_SLOT=1)
def test_the_number_of_offers_per_slot_is_a_setting(clinic, frozen):
    first, _ = waiting(days_ago=2), waiting(days_ago=1)
    appointment_cancel(appointment=booked_visit(clinic))
    assert offered_entries() == {first.pk}


def test_a_rolled_back_cancellation_plans_no_offer(clinic, frozen):
    waiting()
    visit = booked_visit(clinic)
    with pytest.raises(RuntimeError), transaction.atomic():
        appointment_cancel(appointment=visit)
        assert WaitlistOffer.objects.count() == 1  # planned inside the cancellation's transaction
        raise RuntimeError("the caller's transaction fails after the cancellation")
    assert not WaitlistOffer.objects.exists()
    assert not Notification.objects.filter(kind=Notification.Kind.WAITLIST_OFFER).exists()


def test_the_time_a_move_leaves_is_offered(clinic, frozen):
    entry = waiting()
    visit = booked_visit(clinic)
    appointment_reschedule(appointment=visit, start=local(23, 14))
    [offer] = WaitlistOffer.objects.all()
    assert (offer.entry_id, offer.start) == (entry.pk, local(22, 10))


def _breaks(rule, clinic):
    """An entry that breaks `rule` for the consultation slot of 22 March, 10:00."""
    if rule == "dates":
        return waiting(latest_date=SLOT_DAY - timedelta(days=1))
    if rule == "weekday":
        return waiting(weekdays=TUESDAY_ONLY)
    if rule == "time of day":
        return waiting(times_of_day=AFTERNOON)
    if rule == "another visit":
        entry = waiting()
        AppointmentFactory(patient=entry.patient, start=local(22, 10, 15))  # with another practitioner
        return entry
    if rule == "offers today":
        entry = waiting()
        for hour in (11, 12):  # two offers already today, of other slots
            offer_slot(slot=FreeSlot(local(24, hour), local(24, hour, 30), clinic.practitioner.pk, clinic.room.pk))
        assert WaitlistOffer.objects.filter(entry=entry).count() == 2
        return entry
    if rule == "no emails":
        return waiting(patient=PatientFactory(email_consent=False))
    raise AssertionError(rule)


@pytest.mark.parametrize("rule", ["dates", "weekday", "time of day", "another visit", "offers today", "no emails"])
def test_each_rule_refuses_an_entry_that_breaks_it(clinic, frozen, rule):
    breaking = _breaks(rule, clinic)
    breaking.created_at -= timedelta(days=30)  # the oldest: it would be offered first
    breaking.save(update_fields=["created_at"])
    keeping = waiting()
    offers_before = set(WaitlistOffer.objects.values_list("pk", flat=True))
    appointment_cancel(appointment=booked_visit(clinic))
    new = WaitlistOffer.objects.exclude(pk__in=offers_before)
    assert set(new.values_list("entry_id", flat=True)) == {keeping.pk}


def _treatment_slot(clinic, start, **course):
    """A treatment of another course at `start`, cancelled: a laser slot freed."""
    other = TreatmentCourseFactory(approved=True, approved_by=clinic.practitioner, **course)
    visit = booked_visit(
        clinic,
        start,
        kind="treatment",
        patient=other.patient,
        course=other,
        device=clinic.device,
        acknowledge_short_prep=True,
    )
    appointment_cancel(appointment=visit)
    return visit


def test_a_course_session_is_offered_inside_its_window_and_outside_the_prep_window(clinic, frozen):
    """Tattoo removal: 6-8 weeks apart. Sessions on 1 Feb (done) make 15-29 March its window."""
    done = AppointmentFactory(
        patient=clinic.patient,
        course=clinic.course,
        kind="treatment",
        device=clinic.device,
        start=local(1, 10, month=2),
        practitioner=clinic.practitioner,
        room=clinic.room,
        status=Appointment.Status.COMPLETED,
    )
    entry = waiting("next_session", patient=clinic.patient, course=clinic.course)
    _treatment_slot(clinic, local(10, 10))  # inside the prep window: ten days away
    _treatment_slot(clinic, local(8, 10, month=4))  # after the window closes
    assert not WaitlistOffer.objects.exists()
    _treatment_slot(clinic, local(22, 10))
    [offer] = WaitlistOffer.objects.all()
    assert (offer.entry_id, offer.start, offer.device_id) == (entry.pk, local(22, 10), clinic.device.pk)
    assert offer.end - offer.start == timedelta(minutes=30)  # the course's one small area
    assert done.pk


def test_a_laser_slot_is_not_offered_for_a_session_of_a_condition_its_laser_is_not_set_up_for(clinic, frozen):
    waiting("next_session", patient=clinic.patient, course=clinic.course)  # tattoo removal
    acne = Condition.objects.get(slug="acne-scars")
    clinic.device.conditions.set([acne])
    _treatment_slot(clinic, local(22, 10), condition=acne)
    assert not WaitlistOffer.objects.exists()


def test_a_consultation_slot_has_no_laser_for_a_course_session(clinic, frozen):
    waiting("next_session", patient=clinic.patient, course=clinic.course)
    appointment_cancel(appointment=booked_visit(clinic))
    assert not WaitlistOffer.objects.exists()


def test_an_earlier_time_is_offered_only_before_the_session_it_would_replace(clinic, frozen):
    session = book_treatment(clinic, local(29, 10))
    entry = waiting("earlier", patient=clinic.patient, appointment=session)
    _treatment_slot(clinic, local(30, 10, month=3))  # later than the session: no use
    assert not WaitlistOffer.objects.exists()
    _treatment_slot(clinic, local(22, 10))
    [offer] = WaitlistOffer.objects.all()
    assert offer.entry_id == entry.pk


def test_the_sweep_expires_unanswered_offers_and_offers_the_slot_to_the_next_in_line(clinic, frozen, time_machine):
    first_three = [waiting(days_ago=4 - n) for n in range(3)]
    fourth = waiting()
    appointment_cancel(appointment=booked_visit(clinic))
    assert offered_entries() == {e.pk for e in first_three}
    assert sweep_offers() == {"expired": 0, "offered": 0}
    time_machine.move_to(frozen + timedelta(hours=2, minutes=1), tick=False)
    assert sweep_offers() == {"expired": 3, "offered": 1}
    assert set(WaitlistOffer.objects.filter(status="offered").values_list("entry_id", flat=True)) == {fourth.pk}
    assert WaitlistEntry.objects.filter(status="waiting").count() == 4  # ignoring an offer keeps the place


def test_the_sweep_does_not_offer_a_slot_booked_meanwhile(clinic, frozen, time_machine):
    waiting()
    waiting(days_ago=1)
    with override_settings(WAITLIST_OFFERS_PER_SLOT=1):
        appointment_cancel(appointment=booked_visit(clinic))
    booked_visit(clinic)  # reception booked the time directly
    time_machine.move_to(frozen + timedelta(hours=3), tick=False)
    assert sweep_offers() == {"expired": 1, "offered": 0}


def test_the_offer_email_names_the_time_and_carries_its_link_on_the_clinics_base_url(clinic, frozen, settings):
    settings.CLINIC_BASE_URL = "https://booking.example-clinic.co.uk"
    waiting(patient=clinic.patient)
    appointment_cancel(appointment=booked_visit(clinic))
    email = Notification.objects.get(kind=Notification.Kind.WAITLIST_OFFER)
    message = build_message(email)
    assert message.subject == "A consultation time has come free: Monday 22 March at 10:00"
    assert "10:00 on Monday 1 March" in message.body  # when the offer stops holding
    assert clinic.patient.last_name not in message.body
    html = message.alternatives[0].content
    links = re.findall(r'href="([^"]*)"', html) + re.findall(r"https?://\S+", message.body)
    offer_links = [link for link in links if "/p/offer/" in link]
    assert offer_links and all(link.startswith("https://booking.example-clinic.co.uk/") for link in links)


@pytest.mark.parametrize("count", [10, 200])
def test_the_matcher_asks_a_fixed_number_of_queries_however_long_the_list(
    clinic, frozen, count, django_assert_num_queries
):
    """Patients waiting for a consultation, and one in four for their course's next session, half of
    them in the morning: a laser slot on Monday morning suits both kinds."""
    courses = TreatmentCourseFactory.create_batch(count // 4, approved=True, approved_by=clinic.practitioner)
    entries = [
        WaitlistEntry(patient=course.patient, wants="next_session", course=course, earliest_date=SLOT_DAY,
                      latest_date=SLOT_DAY)
        for course in courses
    ]  # fmt: skip
    entries += [
        WaitlistEntry(patient=patient, wants="consultation", earliest_date=SLOT_DAY, latest_date=SLOT_DAY,
                      weekdays=MONDAY_ONLY, times_of_day=MORNING if n % 2 else AFTERNOON)
        for n, patient in enumerate(PatientFactory.create_batch(count - len(courses)))
    ]  # fmt: skip
    WaitlistEntry.objects.bulk_create(entries)
    slot = FreeSlot(local(22, 10), local(22, 10, 30), clinic.practitioner.pk, clinic.room.pk, clinic.device.pk)
    # Its offers so far, the candidates, their courses' sessions and areas, their other visits, their
    # offers today, and two inserts.
    with django_assert_num_queries(8):
        offers = offer_slot(slot=slot)
    assert len(offers) == 3
