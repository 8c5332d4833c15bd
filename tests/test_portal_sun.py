"""A patient tells the clinic about planned time in the sun on their own page: the next session is
then offered only after it and its two weeks, bad dates are refused with a reason, and the trail
names the patient."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.cache import cache
from django.urls import reverse

from clinical.models import SunExposure
from tests.conftest import local
from tests.portal import completed_session, sign_in

pytestmark = pytest.mark.django_db
SUN = reverse("portal:sun_exposure")


@pytest.fixture
def signed_in(client, clinic, frozen):
    """Ada, signed in on 1 March 2027, her next session due 15 to 29 March."""
    cache.clear()
    completed_session(clinic)
    sign_in(client, clinic.patient)
    return client


def test_a_trip_told_online_keeps_the_next_sessions_offers_after_it_and_its_two_weeks(signed_in, clinic):
    book = reverse("portal:book_next", args=[clinic.course.pk])
    before = [slot.start for _, slot in signed_in.get(book).context["slots"]]
    assert before and min(before) < local(25, 0)

    saved = signed_in.post(SUN, {"what": "Beach holiday", "first_day": "2027-03-08", "last_day": "2027-03-10"})
    assert saved.status_code == 302 and saved["Location"] == SUN
    trip = SunExposure.objects.get(patient=clinic.patient)
    assert (trip.first_day, trip.last_day, trip.what) == (date(2027, 3, 8), date(2027, 3, 10), "Beach holiday")
    assert "Beach holiday: 8 March to 10 March 2027" in signed_in.get(SUN).content.decode()
    entry = LogEntry.objects.get_for_object(trip).get(action=LogEntry.Action.CREATE)
    assert entry.actor == clinic.patient.user

    after = [slot.start for _, slot in signed_in.get(book).context["slots"]]
    assert after and min(after) >= local(25, 0)  # 10 March plus 14 days: nothing before the 25th

    removed = signed_in.post(reverse("portal:sun_exposure_cancel", args=[trip.pk]))
    assert removed.status_code == 302 and not SunExposure.objects.exists()
    assert [slot.start for _, slot in signed_in.get(book).context["slots"]] == before


def test_a_trip_with_its_days_the_wrong_way_round_is_refused_and_nothing_is_saved(signed_in, clinic):
    refused = signed_in.post(SUN, {"what": "Ski trip", "first_day": "2027-04-10", "last_day": "2027-04-03"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Ski trip" in page and "2027-04-10" in page  # what was typed is kept
    assert "last day" in page.lower()
    assert not SunExposure.objects.exists()


def test_the_sun_pages_need_a_patient_session(client, clinic):
    assert client.get(SUN)["Location"] == reverse("portal:sign_in")
