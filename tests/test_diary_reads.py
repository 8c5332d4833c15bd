"""The slot search's read of one practitioner's window (`diary.busy_rows` with `Whose`) gives what
the ORM gives, and on SQLite it reads each resource's rows through that resource's index."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from scheduling.models import Appointment
from scheduling.services.diary import Whose, busy_rows
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory, RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def window_and_whose(clinic):
    """Appointments of the searched practitioner, room, laser and patient, and of others, inside and
    outside a ten-day window, some cancelled."""
    now = timezone.now().replace(microsecond=0)
    other_practitioner, other_room = PractitionerFactory(), RoomFactory()
    patient = PatientFactory()
    holders = [
        dict(practitioner=clinic.practitioner),
        dict(room=clinic.room),
        dict(device=clinic.device, kind=Appointment.Kind.TREATMENT, course=clinic.course, patient=clinic.patient),
        dict(patient=patient),
        dict(),  # nobody searched for
    ]
    for day in (-3, 1, 4, 9, 14):
        for hour, holder in enumerate(holders):
            start = now + timedelta(days=day, hours=hour)
            times = dict(start=start, end=start + timedelta(minutes=30), blocked_until=start + timedelta(minutes=45))
            AppointmentFactory(**dict(practitioner=other_practitioner, room=other_room) | times | holder)
    cancelled = Appointment.Status.CANCELLED
    AppointmentFactory(practitioner=clinic.practitioner, start=now + timedelta(days=2), status=cancelled)
    whose = Whose(
        practitioner_ids=(clinic.practitioner.pk,), patient_id=patient.pk,
        room_ids=(clinic.room.pk,), device_ids=(clinic.device.pk,),
    )  # fmt: skip
    return (now, now + timedelta(days=10)), whose, patient


def test_a_narrowed_read_gives_the_orms_rows_of_those_resources_in_the_window(window_and_whose, clinic):
    (start, end), whose, patient = window_and_whose
    turnover = timedelta(minutes=15)
    rows = list(busy_rows([(start, end)], turnover=turnover, whose=whose))

    expected = (
        Appointment.objects.filter(status__in=Appointment.ACTIVE_STATUSES)
        .filter(start__lt=end + turnover, blocked_until__gt=start)
        .filter(
            Q(practitioner=clinic.practitioner) | Q(room=clinic.room) | Q(device=clinic.device) | Q(patient=patient)
        )
        .order_by("start")
    )
    assert len(rows) == 12  # four holders on each of the three days inside the window
    assert rows == [
        (a.practitioner_id, a.room_id, a.device_id, a.patient_id,
         int(a.start.timestamp()), int(a.end.timestamp()), int(a.blocked_until.timestamp()))
        for a in expected
    ]  # fmt: skip


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the resource indexes are SQLite's")
def test_on_sqlite_a_narrowed_read_uses_each_resources_index_not_the_whole_window(window_and_whose):
    (start, end), whose, _ = window_and_whose
    captured = []

    def keep(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        list(busy_rows([(start, end)], turnover=timedelta(0), whose=whose))
    ((sql, params),) = captured
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " | ".join(row[-1] for row in cursor.fetchall())
    assert "MULTI-INDEX OR" in plan
    for index in ("appointment_practitioner_id_start", "appointment_room_id_start", "appointment_device_id_start",
                  "appointment_patient_start"):  # fmt: skip
        assert index in plan
