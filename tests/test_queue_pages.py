"""Reception's work queues: unbooked next sessions, short-prep bookings, cancellation requests, failed emails."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinical.models import TreatmentCourse
from outbox.models import Notification
from scheduling.models import Appointment
from scheduling.services.slots import interval_window
from tests.factories import (
    AppointmentFactory,
    LaserDeviceFactory,
    PatientFactory,
    RoomFactory,
    TreatmentCourseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
URL = "/queues/"


@pytest.fixture
def kit(db):
    """Each session on its own room and laser, so that sessions at one time do not clash on PostgreSQL."""
    return lambda: {"room": RoomFactory(), "device": LaserDeviceFactory()}


def session(kit, course, start, status=Appointment.Status.COMPLETED, **overrides):
    return AppointmentFactory(
        kind="treatment", patient=course.patient, course=course, start=start, status=status,
        **kit() | overrides,
    )  # fmt: skip


def approved_course(**overrides):
    return TreatmentCourseFactory(approved=True, status=TreatmentCourse.Status.ACTIVE, **overrides)


def queue(client, user, name):
    client.force_login(user)
    return client.get(URL).context[name]["rows"]


def test_the_queues_page_is_named(client):
    assert reverse("queues:index") == URL


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_reception_managers_and_dermatologists_see_the_queues_and_nobody_else(
    client, receptionist, manager, dermatologist
):
    for user in (receptionist, manager, dermatologist.user):
        client.force_login(user)
        assert client.get(URL).status_code == 200
    client.force_login(UserFactory(username="outsider"))
    assert client.get(URL).status_code == 403


def test_an_empty_clinic_has_helpful_empty_queues(client, receptionist, frozen):
    client.force_login(receptionist)
    page = client.get(URL).content.decode()
    for words in ("Every approved course has its next session booked", "No upcoming treatment was booked",
                  "No patient has asked to cancel", "No failed emails"):  # fmt: skip
        assert words in page


def test_courses_whose_next_session_is_unbooked_are_listed_with_their_window(client, receptionist, frozen, kit):
    now = timezone.now()
    fresh = TreatmentCourseFactory(approved=True)  # approved, nothing booked yet
    overdue = approved_course()
    last = session(kit, overdue, now - timedelta(days=70))
    not_yet = approved_course()  # its window opens in two days
    session(kit, not_yet, now - timedelta(days=40))
    booked_ahead = approved_course()
    session(kit, booked_ahead, now - timedelta(days=40))
    session(kit, booked_ahead, now + timedelta(days=5), status=Appointment.Status.BOOKED)
    finished = approved_course(planned_sessions=1)
    session(kit, finished, now - timedelta(days=40))
    cancelled_next = approved_course()  # a cancelled next session leaves the course to chase
    session(kit, cancelled_next, now - timedelta(days=45))
    session(kit, cancelled_next, now + timedelta(days=3), status=Appointment.Status.CANCELLED)
    TreatmentCourseFactory()  # proposed: not bookable yet

    rows = queue(client, receptionist, "due")

    # Ordered by when the next session may start: a first session at once.
    assert [row.course for row in rows] == [overdue, cancelled_next, fresh, not_yet]
    assert (rows[0].state, rows[0].sessions, rows[0].window) == ("closed", 1, interval_window(last.start, overdue))
    assert [row.state for row in rows[1:]] == ["open", "first", "later"]
    page = client.get(URL).content.decode()
    assert f"/courses/{overdue.pk}/book/" in page and "Window closed" in page


def test_short_prep_bookings_are_future_treatments_booked_inside_the_prep_window(client, receptionist, frozen, kit):
    now = timezone.now()
    course = approved_course()
    short = session(
        kit, course, now + timedelta(days=5), status=Appointment.Status.BOOKED,
        short_prep_acknowledged_at=now - timedelta(days=1), short_prep_acknowledged_by=receptionist,
    )  # fmt: skip
    session(kit, course, now + timedelta(days=60), status=Appointment.Status.BOOKED)  # in good time
    other = approved_course()
    session(kit, other, now - timedelta(days=1), short_prep_acknowledged_at=now - timedelta(days=9))  # past
    session(
        kit, other, now + timedelta(days=3), status=Appointment.Status.CANCELLED,
        short_prep_acknowledged_at=now - timedelta(days=1),
    )  # fmt: skip
    assert queue(client, receptionist, "short_prep") == [short]
    page = client.get(URL).content.decode()
    assert f"/appointments/{short.pk}/" in page
    assert f"{course.condition}, session 1</td>" in page


def test_cancellation_requests_are_open_appointments_the_patient_asked_to_cancel(client, receptionist, frozen):
    now = timezone.now()
    later = AppointmentFactory(cancel_requested_at=now - timedelta(hours=1))
    earlier = AppointmentFactory(cancel_requested_at=now - timedelta(days=1), status=Appointment.Status.CONFIRMED)
    AppointmentFactory(cancel_requested_at=now - timedelta(days=2), status=Appointment.Status.CANCELLED)
    AppointmentFactory()
    assert queue(client, receptionist, "cancel_requests") == [earlier, later]
    assert f"/appointments/{earlier.pk}/" in client.get(URL).content.decode()


def failed_email(patient=None, error="SMTP 550: mailbox unavailable", **overrides):
    appointment = AppointmentFactory(patient=patient or PatientFactory())
    return Notification.objects.create(
        patient=appointment.patient, appointment=appointment, kind=Notification.Kind.CONFIRMATION,
        key=f"test.{appointment.pk}", due_at=timezone.now(), status=Notification.Status.FAILED, attempts=5,
        last_error=error, **overrides,
    )  # fmt: skip


def test_failed_emails_show_the_patient_and_the_last_error(client, receptionist, frozen):
    failed = failed_email(patient=PatientFactory(first_name="Grace", last_name="Hopper"))
    sent = failed_email()
    Notification.objects.filter(pk=sent.pk).update(status=Notification.Status.SENT)
    assert queue(client, receptionist, "failed") == [failed]
    page = client.get(URL).content.decode()
    assert "Grace Hopper" in page and "SMTP 550: mailbox unavailable" in page


def fill_queues(kit, receptionist):
    """One row in every queue."""
    now = timezone.now()
    course = approved_course()
    session(kit, course, now - timedelta(days=50))
    short_prep_course = approved_course()
    session(
        kit, short_prep_course, now + timedelta(days=4), status=Appointment.Status.BOOKED,
        short_prep_acknowledged_at=now, short_prep_acknowledged_by=receptionist,
    )  # fmt: skip
    AppointmentFactory(cancel_requested_at=now, **kit())
    failed_email()


def test_the_queues_cost_the_same_queries_however_long_they_are(client, receptionist, frozen, kit):
    client.force_login(receptionist)
    fill_queues(kit, receptionist)
    with CaptureQueriesContext(connection) as few:
        response = client.get(URL)
    assert all(len(response.context[name]["rows"]) == 1 for name in ("due", "short_prep", "cancel_requests", "failed"))
    for _ in range(3):
        fill_queues(kit, receptionist)
    with CaptureQueriesContext(connection) as more:
        response = client.get(URL)
    assert all(len(response.context[name]["rows"]) == 4 for name in ("due", "short_prep", "cancel_requests", "failed"))
    assert len(more) == len(few)
    # Beyond logging in (session, user, role), one query per queue (with "Test patch to book").
    reads = [query["sql"] for query in more if "scheduling_" in query["sql"]]
    assert len(reads) == 5
