"""The hand-written reads behind a course's next session and an input's ids give what the ORM gives:
`session_length`, the start of the course's latest session, and a record named by its id."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.appointments import AppointmentBookSerializer
from api.common import IdField, row_by_pk, rows_by_pk
from catalogue.models import LaserDevice, Practitioner, Room, TreatmentArea
from clinical.models import TreatmentCourse
from patients.models import Patient
from scheduling.models import Appointment
from scheduling.services import calendar_rows
from scheduling.services.slots import course_sessions, find_slots, session_length
from tests.factories import AppointmentFactory, area

pytestmark = pytest.mark.django_db


def orm_length(course):
    return timedelta(minutes=sum(a.minutes for a in TreatmentCourse.objects.get(pk=course.pk).areas.all()))


def test_a_sessions_length_is_the_sum_of_its_areas_as_the_orm_reads_them(clinic):
    names = [a.name for a in TreatmentArea.objects.order_by("pk")][:3]
    course = clinic.course
    for chosen in ([], names[:1], names[1:], names):
        course.areas.set([area(name) for name in chosen])
        assert session_length(course) == orm_length(course)
    prefetched = TreatmentCourse.objects.prefetch_related("areas").get(pk=course.pk)
    assert session_length(prefetched) == orm_length(course)


def test_the_latest_session_is_previous_sessions_whatever_the_kind_status_or_ignored_ids(clinic, frozen):
    course = clinic.course
    assert latest(course, ()) is None
    made = []
    for days, kind, status in [
        (20, Appointment.Kind.TREATMENT, Appointment.Status.COMPLETED),
        (30, Appointment.Kind.TREATMENT, Appointment.Status.BOOKED),
        (40, Appointment.Kind.REVIEW, Appointment.Status.BOOKED),  # a visit, not a session
        (50, Appointment.Kind.TREATMENT, Appointment.Status.CANCELLED),  # gave its place up
        (60, Appointment.Kind.TREATMENT, Appointment.Status.NO_SHOW),
    ]:
        made.append(
            AppointmentFactory(
                course=course,
                patient=course.patient,
                kind=kind,
                status=status,
                device=clinic.device,
                start=frozen + timedelta(days=days, microseconds=days),
            )  # fmt: skip
        )
    for ignored in [(), (made[1].pk,), (made[0].pk, made[1].pk), (made[3].pk,)]:
        expected = course_sessions(course).exclude(pk__in=ignored).order_by("-start").first()
        assert latest(course, ignored) == (expected.start if expected else None)
    assert latest(course, ()) == made[1].start


def latest(course, ignored):
    return calendar_rows.fetch(calendar_rows.latest_session_start(course.pk, ignore_ids=ignored))[0]


def test_a_course_search_reads_its_areas_and_latest_session_with_the_calendar(clinic, frozen):
    with CaptureQueriesContext(connection) as captured:
        slots = find_slots(start_date=frozen.date(), days=7, course=clinic.course, limit=1)
    assert slots[0].end - slots[0].start == orm_length(clinic.course)
    # One round trip (with the patient's planned sun exposure and the course's test patch), then the diary.
    assert len(captured) == (2 if connection.vendor == "postgresql" else 10)


@pytest.mark.parametrize("model", [Patient, Practitioner, Room, LaserDevice, TreatmentCourse])
def test_a_record_read_by_its_id_is_the_orms(clinic, model):
    record = model.objects.order_by("pk").first()
    found = row_by_pk(model, record.pk)
    expected = model.objects.get(pk=record.pk)
    fields = [f.attname for f in model._meta.concrete_fields]
    assert [getattr(found, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert found._state.db == expected._state.db and not found._state.adding
    assert row_by_pk(model, record.pk + 10_000) is None


def test_records_read_together_are_those_read_one_by_one(clinic):
    wanted = [(model, model.objects.order_by("pk").first().pk) for model in (Patient, Practitioner, Room)]
    wanted.insert(1, (LaserDevice, LaserDevice.objects.order_by("-pk").first().pk + 10_000))  # none such
    together, alone = rows_by_pk(wanted), [row_by_pk(model, pk) for model, pk in wanted]
    assert together[1] is None and alone[1] is None
    for found, expected in zip(together, alone, strict=True):
        assert found == expected and (found is None or found.__dict__.keys() == expected.__dict__.keys())


def test_a_bookings_ids_are_read_in_one_round_trip_on_postgresql(clinic, frozen):
    data = {"patient": clinic.course.patient_id, "kind": "treatment", "start": (frozen + timedelta(days=3)).isoformat(),
            "practitioner": clinic.practitioner.pk, "room": clinic.room.pk, "device": clinic.device.pk,
            "course": clinic.course.pk}  # fmt: skip
    serializer = AppointmentBookSerializer(data=data)
    with CaptureQueriesContext(connection) as captured:
        assert serializer.is_valid(), serializer.errors
    assert len(captured) == (1 if connection.vendor == "postgresql" else 5)
    assert serializer.validated_data["room"] == clinic.room and serializer.validated_data["course"] == clinic.course
    missing = AppointmentBookSerializer(data=data | {"room": clinic.room.pk + 10_000, "device": "x"})
    assert not missing.is_valid()
    assert set(missing.errors) == {"room", "device"}
    assert "does not exist" in str(missing.errors["room"][0])


def test_an_id_field_reads_the_orm_way_when_its_queryset_is_not_plain(clinic):
    course = clinic.course
    joined = IdField(queryset=TreatmentCourse.objects.select_related("patient"))
    filtered = IdField(queryset=TreatmentCourse.objects.filter(pk=-1))
    plain = IdField(queryset=TreatmentCourse.objects.all())
    assert "patient" in joined.to_internal_value(course.pk)._state.fields_cache
    with pytest.raises(Exception, match="does not exist"):
        filtered.to_internal_value(course.pk)
    assert plain.to_internal_value(str(course.pk)) == course
    with pytest.raises(Exception, match="does not exist"):
        plain.to_internal_value(2**40)  # past the plain read's range: the ORM's answer
