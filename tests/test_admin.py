"""Every model the clinic keeps is reachable in the admin with search and filters."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from scheduling.services import appointment_book
from tests.conftest import local
from tests.factories import TreatmentCourseFactory

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"catalogue", "patients", "clinical", "scheduling", "outbox"}
)


def test_every_domain_model_is_registered():
    assert {name for _, name in REGISTERED} >= {
        "patient", "condition", "assessment", "practitioner", "workinghours", "timeoff", "clinicclosure",
        "room", "laserdevice", "treatmentarea", "treatmentcourse", "appointment", "sessionrecord",
    }  # fmt: skip


@pytest.mark.parametrize(("app_label", "model_name"), REGISTERED)
def test_changelist_search_and_add_pages_answer_for_a_superuser(admin_client, app_label, model_name):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    changelist = reverse(f"admin:{app_label}_{model_name}_changelist")
    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"q": "smith"}).status_code == 200
    add_page = admin_client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code
    # Appointments are booked through the booking service and emails planned by it, so the admin
    # has no add page for either.
    assert add_page == (403 if model_name in ("appointment", "notification") else 200)


def test_every_domain_admin_has_search_and_filters():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"catalogue", "patients", "clinical", "scheduling", "outbox"}:
            assert model_admin.search_fields, model
            assert model_admin.list_filter or model_admin.date_hierarchy, model


def test_the_admin_cancels_appointments_through_the_service(frozen, admin_client, clinic):
    appointment = appointment_book(patient=clinic.patient, kind="consultation", start=local(2, 10),
                                   practitioner=clinic.practitioner, room=clinic.room)  # fmt: skip
    response = admin_client.post(
        reverse("admin:scheduling_appointment_changelist"),
        {"action": "cancel", "index": 0, "_selected_action": [appointment.pk]},
        follow=True,
    )
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert (appointment.status, appointment.version) == ("cancelled", 2)


def test_the_admin_approves_courses_only_for_dermatologists(client, admin_client, clinic, dermatologist):
    course = TreatmentCourseFactory(patient=clinic.patient)
    url = reverse("admin:clinical_treatmentcourse_changelist")
    admin_client.post(url, {"action": "approve", "index": 0, "_selected_action": [course.pk]}, follow=True)
    course.refresh_from_db()
    assert course.status == "proposed"  # the superuser is not a dermatologist
    dermatologist.user.is_staff = dermatologist.user.is_superuser = True
    dermatologist.user.save()
    client.force_login(dermatologist.user)
    client.post(url, {"action": "approve", "index": 0, "_selected_action": [course.pk]}, follow=True)
    course.refresh_from_db()
    assert (course.status, course.approved_by) == ("approved", dermatologist)
