"""New or longer working hours offer the time they open to the waitlist, in the transaction that
saves them; hours that open nothing offer nothing."""

from datetime import time, timedelta

import pytest
from django.db import transaction
from django.urls import reverse

from catalogue.models import WorkingHours
from outbox.models import Notification
from tests.conftest import local
from tests.factories import UserFactory
from tests.waitlist_helpers import waiting
from waitlist.models import WaitlistOffer
from waitlist.services.new_hours import opened_clock_times

pytestmark = pytest.mark.django_db
SATURDAY = WorkingHours.Weekday.SATURDAY


def offers():
    return list(WaitlistOffer.objects.order_by("start", "entry_id"))


def test_the_stretch_new_hours_open_is_what_the_day_did_not_cover():
    nine, twelve, one, five, six = time(9), time(12), time(13), time(17), time(18)
    assert opened_clock_times(after=(nine, six), covered=[(nine, five)]) == [(five, six)]
    assert opened_clock_times(after=(nine, five), covered=[(nine, twelve), (one, five)]) == [(twelve, one)]
    assert opened_clock_times(after=(nine, twelve), covered=[(nine, five)]) == []
    assert opened_clock_times(after=(nine, twelve), covered=[]) == [(nine, twelve)]


def test_new_saturday_hours_are_offered_on_the_first_saturday_once_per_patient(clinic, frozen):
    first, second = waiting(days_ago=2), waiting(days_ago=1)
    assert not offers()
    WorkingHours.objects.create(
        practitioner=clinic.practitioner, weekday=SATURDAY, start_time=time(9), end_time=time(12)
    )
    made = offers()
    # Saturday 6 March 2027, the first after the frozen Monday; each patient is offered it once,
    # not every Saturday of their range.
    assert [(o.entry_id, o.start, o.slot_end) for o in made] == [
        (first.pk, local(6, 9), local(6, 12)),
        (second.pk, local(6, 9), local(6, 12)),
    ]
    assert {(o.practitioner_id, o.room_id, o.device_id) for o in made} == {
        (clinic.practitioner.pk, clinic.room.pk, None)
    }
    emails = Notification.objects.filter(kind=Notification.Kind.WAITLIST_OFFER)
    assert sorted(emails.values_list("patient_id", flat=True)) == sorted([first.patient_id, second.patient_id])


def test_longer_hours_offer_only_the_added_hour(clinic, frozen):
    entry = waiting(weekdays=0b100)  # Wednesdays only
    hours = WorkingHours.objects.get(practitioner=clinic.practitioner, weekday=WorkingHours.Weekday.WEDNESDAY)
    hours.end_time = time(18)
    hours.save()
    assert [(o.entry_id, o.start, o.slot_end) for o in offers()] == [(entry.pk, local(3, 17), local(3, 18))]


def test_shorter_or_unchanged_hours_and_a_rolled_back_save_offer_nothing(clinic, frozen):
    waiting()
    hours = WorkingHours.objects.get(practitioner=clinic.practitioner, weekday=WorkingHours.Weekday.MONDAY)
    hours.save()
    hours.end_time = time(16)
    hours.save()
    assert not offers()
    with pytest.raises(RuntimeError), transaction.atomic():
        WorkingHours.objects.create(
            practitioner=clinic.practitioner, weekday=SATURDAY, start_time=time(9), end_time=time(12)
        )
        assert len(offers()) == 1  # planned inside the save's transaction
        raise RuntimeError("the admin's save fails after the hours")
    assert not offers()


def test_an_entry_outside_the_new_days_or_past_its_dates_is_not_offered(clinic, frozen):
    waiting(weekdays=0b1)  # Mondays only
    waiting(latest_date=local(5, 9).date())  # gone by Saturday
    WorkingHours.objects.create(
        practitioner=clinic.practitioner, weekday=SATURDAY, start_time=time(9), end_time=time(12)
    )
    assert not offers()


def test_a_treatment_waiting_for_its_next_session_is_offered_new_hours_with_a_laser(clinic, frozen):
    entry = waiting("next_session", patient=clinic.patient, course=clinic.course, earliest_date=local(20, 9).date())
    WorkingHours.objects.create(
        practitioner=clinic.practitioner, weekday=SATURDAY, start_time=time(9), end_time=time(12)
    )
    (offer,) = offers()
    assert (offer.entry_id, offer.start, offer.device_id) == (entry.pk, local(20, 9), clinic.device.pk)
    assert offer.end - offer.start == timedelta(minutes=30)  # the course's one small area


def test_hours_added_in_the_admin_are_offered(clinic, frozen, client):
    entry = waiting()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:catalogue_workinghours_add"),
        {"practitioner": clinic.practitioner.pk, "weekday": SATURDAY, "start_time": "09:00", "end_time": "12:00"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [o.entry_id for o in offers()] == [entry.pk]
