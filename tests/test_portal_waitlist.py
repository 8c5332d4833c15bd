"""A patient joins and leaves the waitlist on their own page, through the same service as reception;
bad input is refused with a reason and saves nothing."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.portal import completed_session, sign_in
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db
WAITLIST = reverse("portal:waitlist")


@pytest.fixture
def signed_in(client, clinic, frozen):
    cache.clear()
    completed_session(clinic)
    sign_in(client, clinic.patient)
    return client


def wish(clinic, **changes):
    return {
        "wants": "next_session", "course": str(clinic.course.pk), "earliest_date": "2027-03-15",
        "latest_date": "2027-03-29", "weekdays": ["0", "1", "2"], "times_of_day": ["1"],
    } | changes  # fmt: skip


def test_a_patient_joins_the_waitlist_for_their_next_session_and_leaves_it(signed_in, clinic):
    joined = signed_in.post(WAITLIST, wish(clinic))
    assert joined.status_code == 302 and joined["Location"] == WAITLIST
    entry = WaitlistEntry.objects.get(patient=clinic.patient)
    assert (entry.wants, entry.course, entry.source, entry.status) == (
        "next_session",
        clinic.course,
        "patient",
        "waiting",
    )
    assert (entry.weekdays, entry.times_of_day, entry.created_by) == (0b111, 1, clinic.patient.user)
    page = signed_in.get(WAITLIST).content.decode()
    assert "15 March to 29 March 2027" in page

    left = signed_in.post(reverse("portal:waitlist_cancel", args=[entry.pk]))
    assert left.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "left"


def test_a_wish_with_its_dates_the_wrong_way_round_is_refused_and_nothing_is_saved(signed_in, clinic):
    refused = signed_in.post(WAITLIST, wish(clinic, earliest_date="2027-03-29", latest_date="2027-03-15"))
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Nothing is saved yet" in page and "2027-03-29" in page
    assert not WaitlistEntry.objects.exists()


def test_another_patients_course_cannot_be_chosen(signed_in, clinic):
    from tests.factories import PatientFactory, TreatmentCourseFactory, area

    theirs = TreatmentCourseFactory(approved=True, patient=PatientFactory(), areas=[area()])
    refused = signed_in.post(WAITLIST, wish(clinic, course=str(theirs.pk)))
    assert refused.status_code == 400 and not WaitlistEntry.objects.exists()


def test_joining_and_leaving_online_are_in_the_audit_trail_with_the_patient_as_actor(signed_in, clinic):
    from auditlog.models import LogEntry

    signed_in.post(WAITLIST, wish(clinic))
    entry = WaitlistEntry.objects.get()
    signed_in.post(reverse("portal:waitlist_cancel", args=[entry.pk]))
    entries = LogEntry.objects.get_for_object(entry).order_by("pk")
    assert [(e.action, e.actor) for e in entries] == [
        (LogEntry.Action.CREATE, clinic.patient.user), (LogEntry.Action.UPDATE, clinic.patient.user),
    ]  # fmt: skip
