"""The audit trail: a row for every change to an audited record and for every opening of a
patient's clinical record, with who did it; readable by managers only."""

import ast
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from patients.models import Patient
from scheduling.models import Appointment
from tests.conftest import book_treatment, local
from tests.test_patient_pages import VALID

pytestmark = pytest.mark.django_db
ACTION = LogEntry.Action


def entries(obj, action=None):
    rows = LogEntry.objects.get_for_object(obj).order_by("pk")
    return list(rows.filter(action=action) if action is not None else rows)


def test_registering_and_editing_a_patient_on_the_pages_is_recorded_with_who_did_it(client, receptionist):
    client.force_login(receptionist)
    client.post(reverse("patients:create"), VALID)
    patient = Patient.objects.get(last_name="Lovelace")
    client.post(reverse("patients:edit", args=[patient.pk]), VALID | {"phone": "+44 7700 900999"})
    created, changed = entries(patient)
    assert (created.action, created.actor) == (ACTION.CREATE, receptionist)
    assert (changed.action, changed.actor) == (ACTION.UPDATE, receptionist)
    assert changed.changes_dict["phone"] == ["+44 7700 900123", "+44 7700 900999"]


def test_booking_moving_and_cancelling_through_the_api_are_recorded_with_the_token_user(clinic, frozen, receptionist):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=receptionist).key}")
    body = {
        "patient": clinic.patient.pk, "kind": "treatment", "course": clinic.course.pk,
        "start": local(22, 10).isoformat(), "practitioner": clinic.practitioner.pk, "room": clinic.room.pk,
        "device": clinic.device.pk,
    }  # fmt: skip
    booked = api.post("/api/v1/appointments/", body, format="json").json()
    api.post(f"/api/v1/appointments/{booked['id']}/reschedule/", {"start": local(22, 11).isoformat()}, format="json")
    api.post(f"/api/v1/appointments/{booked['id']}/cancel/", {"reason": "Patient is unwell"}, format="json")
    appointment = Appointment.objects.get(pk=booked["id"])
    rows = entries(appointment)
    assert [row.action for row in rows] == [ACTION.CREATE, ACTION.UPDATE, ACTION.UPDATE]
    assert {row.actor for row in rows} == {receptionist}
    assert "start" in rows[1].changes_dict
    assert rows[2].changes_dict["status"][1] == "cancelled"


def test_an_assessment_a_course_approval_and_a_session_record_are_recorded(clinic, frozen, dermatologist, client):
    appointment = book_treatment(clinic, local(1, 10))
    client.force_login(dermatologist.user)
    client.post(
        reverse("clinical:assess", args=[clinic.patient.pk]),
        {"skin_type": "2", "conditions": [clinic.course.condition.pk], "candidate": "yes", "notes": "Fine"},
    )
    assessment = clinic.patient.assessments.latest("pk")  # the course rests on an earlier one
    assert entries(assessment, ACTION.CREATE)[0].actor == dermatologist.user
    from scheduling.services import appointment_check_in

    appointment_check_in(appointment=appointment, now=local(1, 9, 55))
    client.post(
        reverse("clinical:record", args=[appointment.pk]),
        {"wavelength_nm": 1064, "fluence_j_cm2": "2.5", "spot_size_mm": "4", "pulses": 900,
         "skin_reaction": "mild_erythema", "area": ""},
    )  # fmt: skip
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COMPLETED
    assert entries(appointment.session_record, ACTION.CREATE)[0].actor == dermatologist.user
    assert entries(appointment)[-1].changes_dict["status"] == ["checked_in", "completed"]


def test_opening_the_clinical_record_is_recorded_but_a_receptionists_view_is_not(
    client, clinic, dermatologist, receptionist
):
    client.force_login(receptionist)
    client.get(reverse("patients:detail", args=[clinic.patient.pk]))
    assert entries(clinic.patient, ACTION.ACCESS) == []
    client.force_login(dermatologist.user)
    client.get(reverse("patients:detail", args=[clinic.patient.pk]))
    client.get(reverse("clinical:assess", args=[clinic.patient.pk]))
    opened = entries(clinic.patient, ACTION.ACCESS)
    assert [(row.actor, row.additional_data["opened"]) for row in opened] == [
        (dermatologist.user, "patient page"),
        (dermatologist.user, "assessment form"),
    ]


def test_a_patients_own_link_writes_through_save_so_the_trail_sees_it(clinic, frozen):
    from outbox.services import patient_unsubscribe
    from scheduling.services.patient_requests import appointment_request_cancellation

    appointment = book_treatment(clinic, local(22, 10))
    appointment_request_cancellation(appointment=appointment)
    patient_unsubscribe(patient=clinic.patient)
    assert "cancel_requested_at" in entries(appointment)[-1].changes_dict
    assert entries(clinic.patient)[-1].changes_dict["email_consent"] == ["True", "False"]


def test_only_managers_see_the_trail_on_the_patient_page(client, clinic, receptionist, dermatologist, manager):
    client.force_login(dermatologist.user)
    assert "Audit trail" not in client.get(reverse("patients:detail", args=[clinic.patient.pk])).content.decode()
    client.force_login(receptionist)
    assert "Audit trail" not in client.get(reverse("patients:detail", args=[clinic.patient.pk])).content.decode()
    client.force_login(manager)
    response = client.get(reverse("patients:detail", args=[clinic.patient.pk]))
    opened = [row for row in response.context["audit_trail"] if row.note == "opened: patient page"]
    assert [row.who for row in opened] == [dermatologist.user.get_full_name() or "dr.derm"]
    assert "Audit trail" in response.content.decode()


def test_managers_read_the_log_in_the_admin_and_nobody_else_does(client, manager, receptionist):
    client.force_login(manager)
    assert client.get("/admin/auditlog/logentry/").status_code == 200
    client.force_login(receptionist)
    assert client.get("/admin/auditlog/logentry/").status_code in (302, 403)


AUDITED = {"Patient", "Assessment", "TreatmentCourse", "Appointment", "SessionRecord"}
BYPASSING = {"update", "bulk_create", "bulk_update"}


def _root_name(node):
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return node.id if isinstance(node, ast.Name) else None


def test_no_code_writes_an_audited_model_past_the_trail():
    """QuerySet.update() and bulk writes skip the signals auditlog listens to. (A guard over the
    code's text: `Appointment.objects.filter(...).update(...)` and the like are refused.)"""
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in [*root.glob("patients/**/*.py"), *root.glob("scheduling/**/*.py"), *root.glob("clinic/**/*.py")]:
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in BYPASSING
                and _root_name(node.func.value) in AUDITED
            ):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize(
    ("migration", "old_app", "model_name"),
    [
        ("clinical.migrations.0001_initial", "scheduling", "treatmentcourse"),
        ("clinical.migrations.0001_initial", "patients", "assessment"),
        ("catalogue.migrations.0001_initial", "scheduling", "room"),
        ("outbox.migrations.0001_initial", "scheduling", "notification"),
    ],
)
def test_audit_entries_written_before_a_model_moved_rooms_still_open_after(db, migration, old_app, model_name):
    """A database from before the move has the entries under the old app's content type; the move's
    migration relabels it, so the record's history (and its permissions) follow the model."""
    import importlib

    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    model = apps.get_model(migration.split(".")[0], model_name)
    record = model(pk=4242)  # the entry's record; only its type and number matter here
    new_type = ContentType.objects.get_for_model(model)
    ContentType.objects.filter(pk=new_type.pk).update(app_label=old_app)  # as the database was before
    ContentType.objects.clear_cache()
    LogEntry.objects.create(
        content_type_id=new_type.pk, object_pk=str(record.pk), object_id=record.pk, object_repr="before",
        action=LogEntry.Action.UPDATE, changes={"notes": ["", "x"]},
    )  # fmt: skip

    importlib.import_module(migration).relabel_content_types(apps, None)
    ContentType.objects.clear_cache()

    assert ContentType.objects.get(pk=new_type.pk).app_label == model._meta.app_label
    assert LogEntry.objects.get_for_object(record).filter(object_repr="before").exists()
