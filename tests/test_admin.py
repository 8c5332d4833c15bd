"""Every model the clinic keeps is reachable in the admin with search and filters."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"patients", "scheduling"}
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
    assert admin_client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code == 200


def test_every_domain_admin_has_search_and_filters():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"patients", "scheduling"}:
            assert model_admin.search_fields, model
            assert model_admin.list_filter or model_admin.date_hierarchy, model
