"""Every model the clinic keeps is reachable in the admin with search and filters."""

import io

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from catalogue.models import Condition
from clinic.roles import RECEPTION
from clinical.models import Assessment, TreatmentCourse
from outbox.models import Notification
from patients.models import Patient
from scheduling.models import Appointment, SessionRecord
from scheduling.services import appointment_book
from tests.conftest import _in_group, book_treatment, local
from tests.factories import (
    AssessmentFactory,
    PatientFactory,
    SessionRecordFactory,
    TreatmentCourseFactory,
    UserFactory,
)

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
        # Appointments are booked through the booking service and emails planned by it, and patients
        # sign consents on their pages or the clinic's tablet, so the admin has no add page for these.
        assert add_page == (403 if model_name in ("appointment", "notification", "consentsignature") else 200)


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


# The admin keeps the pages' permission matrix (clinic.roles.ABILITIES) and their services.


def _actions(client, changelist):
    response = client.get(changelist)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered at all
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def _visit(clinic):
    return appointment_book(patient=clinic.patient, kind="consultation", start=local(2, 10),
                            practitioner=clinic.practitioner, room=clinic.room)  # fmt: skip


def test_only_managers_are_admin_staff_in_the_demo_clinic(db):
    from django.contrib.auth.models import User

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    staff = User.objects.filter(is_staff=True, is_superuser=False)
    assert {group for user in staff for group in user.groups.values_list("name", flat=True)} == {"Manager"}


def test_a_manager_cannot_cancel_appointments_in_the_admin(frozen, client, manager, clinic):
    """Managers do not `book`: the pages let them see the diary, not change it."""
    appointment = _visit(clinic)
    client.force_login(manager)
    changelist = reverse("admin:scheduling_appointment_changelist")
    assert "cancel" not in _actions(client, changelist)
    client.post(changelist, {"action": "cancel", "index": 0, "_selected_action": [appointment.pk]}, follow=True)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.version) == ("booked", 1)
    assert not Notification.objects.filter(appointment=appointment, kind=Notification.Kind.CANCELLED).exists()


def test_staff_who_may_book_are_offered_the_cancel_action(frozen, client, admin_user, clinic):
    appointment = _visit(clinic)
    changelist = reverse("admin:scheduling_appointment_changelist")
    client.force_login(admin_user)
    assert "cancel" in _actions(client, changelist)
    # Reception books; given admin access, its group's view permission is enough to cancel.
    receptionist = _in_group(UserFactory(username="desk", is_staff=True), RECEPTION)
    client.force_login(receptionist)
    assert "cancel" in _actions(client, changelist)
    client.post(changelist, {"action": "cancel", "index": 0, "_selected_action": [appointment.pk]}, follow=True)
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


@pytest.fixture
def failed_email(clinic, frozen):
    appointment = book_treatment(clinic, local(22, 10))
    emails = Notification.objects.filter(appointment=appointment).order_by("pk")
    failed, sent = emails[0], emails[1]
    Notification.objects.filter(pk=failed.pk).update(status="failed", attempts=5, last_error="SMTP 554")
    Notification.objects.filter(pk=sent.pk).update(status="sent", attempts=1)
    return failed, sent


def test_a_manager_sends_failed_emails_again_through_the_outbox_service(client, manager, failed_email):
    """The failed-emails queue is on the work queues, which `view_schedule` reads: managers too."""
    failed, sent = failed_email
    client.force_login(manager)
    changelist = reverse("admin:outbox_notification_changelist")
    assert "retry" in _actions(client, changelist)
    client.post(changelist, {"action": "retry", "index": 0, "_selected_action": [failed.pk, sent.pk]}, follow=True)
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert (sent.status, sent.attempts) == ("sent", 1)


def test_staff_without_a_role_cannot_send_emails_again(client, failed_email):
    failed, _ = failed_email
    user = UserFactory(username="temp", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(user)
    changelist = reverse("admin:outbox_notification_changelist")
    assert "retry" not in _actions(client, changelist)
    client.post(changelist, {"action": "retry", "index": 0, "_selected_action": [failed.pk]}, follow=True)
    failed.refresh_from_db()
    assert failed.status == "failed"


CLINICAL = [Patient, Assessment, TreatmentCourse, Appointment, SessionRecord, Notification]


@pytest.mark.parametrize("model", CLINICAL, ids=lambda m: m._meta.model_name)
def test_nothing_clinical_is_deleted_from_the_admin_even_by_a_superuser(frozen, admin_client, clinic, model):
    appointment = book_treatment(clinic, local(1, 10))
    rows = {
        Patient: clinic.patient,
        Assessment: AssessmentFactory(patient=clinic.patient, dermatologist=clinic.practitioner),
        TreatmentCourse: clinic.course,
        Appointment: appointment,
        SessionRecord: SessionRecordFactory(appointment=appointment, recorded_by=clinic.practitioner),
        Notification: Notification.objects.filter(appointment=appointment).first(),
    }
    row = rows[model]
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert "delete_selected" not in _actions(admin_client, reverse(f"{name}_changelist"))
    assert admin_client.get(reverse(f"{name}_delete", args=[row.pk])).status_code == 403
    assert admin_client.post(reverse(f"{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    forged = {"action": "delete_selected", "index": 0, "_selected_action": [row.pk], "post": "yes"}
    admin_client.post(reverse(f"{name}_changelist"), forged, follow=True)
    assert model.objects.filter(pk=row.pk).exists()


def test_an_active_courses_patient_and_plan_cannot_be_changed_from_its_change_form(frozen, admin_client, clinic):
    course = clinic.course
    book_treatment(clinic, local(1, 10))
    course.refresh_from_db()
    assert course.status in ("approved", "active")
    url = reverse("admin:clinical_treatmentcourse_change", args=[course.pk])
    form = admin_client.get(url).context["adminform"].form
    assert list(form.fields) == ["notes"]
    other = PatientFactory()
    before = (course.patient_id, course.condition_id, course.planned_sessions, course.min_interval_days)
    response = admin_client.post(url, {
        "patient": other.pk, "planned_sessions": 1, "min_interval_days": 1, "max_interval_days": 2,
        "notes": "Patient asked for Friday mornings.", "_save": "Save",
    })  # fmt: skip
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.patient_id, course.condition_id, course.planned_sessions, course.min_interval_days) == before
    assert course.notes == "Patient asked for Friday mornings."


def test_a_proposed_course_keeps_its_patient_in_the_admin(admin_client, clinic):
    course = TreatmentCourseFactory(patient=clinic.patient)
    form = admin_client.get(reverse("admin:clinical_treatmentcourse_change", args=[course.pk])).context["adminform"]
    assert "patient" not in form.form.fields and "planned_sessions" in form.form.fields


def test_a_manager_edits_a_conditions_advice_for_the_two_weeks_and_the_day_before_apart(client, manager):
    condition = Condition.objects.get(slug="tattoo-removal")
    client.force_login(manager)
    url = reverse("admin:catalogue_condition_change", args=[condition.pk])
    page = client.get(url).content.decode()
    assert "Two weeks before" in page and "The day before" in page and "Shown in the day-before note" in page
    form = {
        field: getattr(condition, field)
        for field in ("name", "slug", "default_sessions", "min_sessions", "max_sessions", "min_interval_days")
        + ("max_interval_days", "aftercare_text", "outcome_scale")
    }
    form |= {"active": "on", "prep_text": "No self-tan on the area.", "day_before_text": "Shave the area."}
    assert client.post(url, form).status_code == 302
    condition.refresh_from_db()
    assert (condition.prep_text, condition.day_before_text) == ("No self-tan on the area.", "Shave the area.")
