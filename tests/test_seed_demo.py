from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from catalogue.models import LaserDevice, Practitioner, Room, WorkingHours
from clinical.models import Assessment, TreatmentCourse
from patients.models import Patient
from scheduling.models import Appointment, SessionRecord
from tests.photo_helpers import photo_storage  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

MODELS = [get_user_model(), Practitioner, WorkingHours, Room, LaserDevice, Patient, Assessment, TreatmentCourse,
          Appointment, SessionRecord]  # fmt: skip


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_twice_gives_the_same_clinic(capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    assert first["Practitioner"] == 3
    assert first["Room"] == 2
    assert first["LaserDevice"] == 2
    assert first["Patient"] == 40
    assert "reception" in capsys.readouterr().out


def test_seed_demo_has_courses_in_every_status_and_two_weeks_of_appointments():
    call_command("seed_demo")
    statuses = Counter(TreatmentCourse.objects.values_list("status", flat=True))
    assert set(statuses) == set(TreatmentCourse.Status.values)
    now = timezone.now()
    around_today = Appointment.objects.filter(start__gte=now - timedelta(days=7), start__lte=now + timedelta(days=7))
    assert around_today.filter(start__lt=now).exists()
    assert around_today.filter(start__gt=now).exists()


def test_seed_demo_never_double_books_anyone():
    call_command("seed_demo")
    active = list(Appointment.objects.filter(status__in=Appointment.ACTIVE_STATUSES))
    for a in active:
        overlapping = Appointment.objects.filter(status__in=Appointment.ACTIVE_STATUSES).exclude(pk=a.pk)
        people = overlapping.filter(start__lt=a.end, end__gt=a.start).filter(
            Q(practitioner=a.practitioner_id) | Q(patient=a.patient_id)
        )
        kit = overlapping.filter(start__lt=a.blocked_until, blocked_until__gt=a.start).filter(
            Q(room=a.room_id) | Q(device=a.device_id, device__isnull=False)
        )
        assert not people.exists(), a
        assert not kit.exists(), a


def test_seed_demo_users_can_log_in_with_the_printed_password(client):
    call_command("seed_demo")
    from demo.management.commands.seed_demo import DEMO_PASSWORD

    for username in ("reception", "manager", "dr.patel"):
        response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302 and response.url == "/"
        client.post("/accounts/logout/")
    assert get_user_model().objects.get(username="reception").groups.filter(name="Reception").exists()


def test_seed_demo_plans_the_emails_of_its_upcoming_appointments():
    """So that a first run's worker has mail to send at its first dispatch, with nothing booked."""
    from outbox.models import Notification

    call_command("seed_demo")
    now = timezone.now()
    upcoming = Appointment.objects.filter(start__gt=now, status__in=Appointment.ACTIVE_STATUSES)
    planned = Notification.objects.filter(status=Notification.Status.PENDING)
    assert set(planned.filter(kind="confirmation").values_list("appointment", flat=True)) == set(
        upcoming.values_list("pk", flat=True)
    )
    assert planned.filter(kind="prep_reminder", due_at__lte=now).exists()  # due at once
    assert Notification.objects.filter(kind="cancelled", appointment__status=Appointment.Status.CANCELLED).exists()
    before = Notification.objects.count()
    call_command("seed_demo")
    assert Notification.objects.count() == before


@pytest.mark.seeded_consent  # the photo consent the demo's patients sign
@pytest.mark.usefixtures("photo_storage")
def test_seed_demo_courses_under_way_had_their_test_patch_and_scores_and_some_photos():
    from catalogue.outcome import score_error
    from photos.models import SessionPhoto
    from photos.services import photo_bytes
    from scheduling.services.test_patch import patch_step

    call_command("seed_demo")
    under_way = TreatmentCourse.objects.filter(appointments__kind=Appointment.Kind.TREATMENT).distinct()
    for course in under_way:
        step = patch_step(course)
        first = course.appointments.filter(kind=Appointment.Kind.TREATMENT).order_by("start").first()
        assert not step.needed or (step.booked and step.start + timedelta(days=7) <= first.start), course
    assert Appointment.objects.filter(kind=Appointment.Kind.TEST_PATCH, patch_result="no_reaction").exists()
    records = SessionRecord.objects.select_related("appointment__course__condition")
    assert records and all(r.outcome_score is not None for r in records)
    assert not [r for r in records if score_error(r.appointment.course.condition.outcome_scale, r.outcome_score)]
    photos = SessionPhoto.objects.select_related("appointment")
    assert photos.values("appointment__course").distinct().count() >= 2
    assert all(p.appointment.status == Appointment.Status.COMPLETED for p in photos)
    assert photo_bytes(photo=photos[0])[:2] == b"\xff\xd8"  # a stored JPEG
