"""Every model the clinic keeps is reachable in the admin with search and filters."""

import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import transaction
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


# The demo has no time off, and plans no emails (it writes its appointments directly).
EMPTY_IN_THE_DEMO = {"timeoff", "notification"}


@pytest.fixture(scope="class")
def demo_clinic(django_db_setup, django_db_blocker):
    """The demo clinic, seeded once for a whole class of tests, in a transaction of its own that is
    rolled back after the class's last test. Each test still runs in its own savepoint inside it
    (the `db` fixture), so what one test changes the next does not see, and no test outside the
    class sees the demo clinic. Works alike on SQLite and PostgreSQL; not for transactional tests."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.mark.usefixtures("demo_clinic")
class TestAdminPagesOnTheDemoClinic:
    @pytest.mark.parametrize(("app_label", "model_name"), REGISTERED)
    def test_changelist_search_and_add_pages_answer_for_a_superuser(self, admin_client, app_label, model_name):
        changelist = reverse(f"admin:{app_label}_{model_name}_changelist")
        response = admin_client.get(changelist)
        assert response.status_code == 200
        assert response.context["cl"].result_count > 0 or model_name in EMPTY_IN_THE_DEMO, model_name
        assert admin_client.get(changelist, {"q": "smith"}).status_code == 200
        add_page = admin_client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code
        # Appointments are booked through the booking service and emails planned by it, so the admin
        # has no add page for either.
        assert add_page == (403 if model_name in ("appointment", "notification") else 200)


def test_the_demo_clinic_is_gone_after_its_class():
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username__in=["dr.patel", "reception"]).exists()


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
