"""The permission matrix, as one table over every page and API endpoint and every role.

`ROUTES` names each URL of the project with the ability it needs (clinic.roles.ABILITIES); a test
checks that no URL is missing from it, so a new page cannot ship without a decision about who may
use it. The README's table is checked against the same matrix.
"""

import re
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from clinic.roles import ABILITIES, DERMATOLOGIST, MANAGER, RECEPTION, ROLES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "login only"  # any signed-in user, whatever their role
PUBLIC = "public"

# url name, arguments (from the objects below), method, ability
ROUTES = [
    ("home", {}, "get", LOGIN),
    ("scheduling:day_board", {}, "get", "view_schedule"),
    ("scheduling:day_board_date", {"day": date(2027, 3, 1)}, "get", "view_schedule"),
    ("scheduling:day_list", {"day": date(2027, 3, 1)}, "get", "view_schedule"),
    ("scheduling:week_board", {}, "get", "view_schedule"),
    ("scheduling:week_board_date", {"day": date(2027, 3, 1)}, "get", "view_schedule"),
    ("scheduling:appointment", {"pk": "appointment"}, "get", "view_schedule"),
    ("scheduling:appointment_check_in", {"pk": "appointment"}, "post", "book"),
    ("scheduling:appointment_reschedule", {"pk": "appointment"}, "get", "book"),
    ("scheduling:consent_tablet", {"pk": "appointment"}, "get", "book"),
    ("scheduling:appointment_cancel", {"pk": "appointment"}, "post", "book"),
    ("scheduling:appointment_move", {"pk": "appointment"}, "post", "book"),
    ("scheduling:board_changes", {}, "get", "view_schedule"),
    ("scheduling:appointment_no_show", {"pk": "appointment"}, "post", "book"),
    ("scheduling:appointment_complete", {"pk": "appointment"}, "post", "treat"),
    ("scheduling:appointment_defer", {"pk": "appointment"}, "post", "treat"),
    ("scheduling:course_book", {"pk": "course"}, "get", "book"),
    ("scheduling:course_plan", {"pk": "course"}, "get", "book"),
    ("scheduling:book_visit", {}, "get", "book"),
    ("queues:index", {}, "get", "view_schedule"),
    ("queues:waitlist", {}, "get", "view_schedule"),
    ("queues:skin", {}, "get", "view_clinical"),
    ("queues:skin_handled", {"appointment_id": "appointment"}, "post", "treat"),
    ("waitlist:join", {"patient_id": "patient"}, "get", "book"),
    ("waitlist:leave", {"entry_id": 1}, "post", "book"),
    ("patients:search", {}, "get", "view_patients"),
    ("patients:create", {}, "get", "edit_patients"),
    ("patients:detail", {"patient_id": "patient"}, "get", "view_patients"),
    ("patients:edit", {"patient_id": "patient"}, "get", "edit_patients"),
    ("patients:export", {"patient_id": "patient"}, "post", "manage_data"),
    ("patients:erase", {"patient_id": "patient"}, "get", "manage_data"),
    ("patients:consent_record", {"patient_id": "patient", "pk": "consent_signature"}, "get", "view_patients"),
    ("patients:sun_exposure_add", {"patient_id": "patient"}, "get", "edit_patients"),
    ("patients:sun_exposure_edit", {"patient_id": "patient", "pk": "sun_exposure"}, "get", "edit_patients"),
    ("patients:sun_exposure_remove", {"patient_id": "patient", "pk": "sun_exposure"}, "post", "edit_patients"),
    ("scheduling:sun_exposure_confirm", {"pk": "appointment"}, "post", "book"),
    ("clinical:assess", {"patient_id": "patient"}, "get", "treat"),
    ("clinical:propose", {"assessment_id": "assessment"}, "get", "treat"),
    ("clinical:review", {}, "get", "oversee_courses"),
    ("clinical:results", {}, "get", "oversee_courses"),
    ("clinical:approve", {"course_id": "proposed"}, "post", "treat"),
    ("clinical:change", {"course_id": "proposed"}, "get", "treat"),
    ("clinical:record", {"appointment_id": "appointment"}, "get", "treat"),
    ("clinical:photos_upload", {"appointment_id": "appointment"}, "get", "treat"),
    ("clinical:course_photos", {"course_id": "course"}, "get", "view_clinical"),
    ("clinical:photo_file", {"key": "6f1c2a3e-0000-4000-8000-000000000001", "size": "display"}, "get", "view_clinical"),
    ("clinical:photo_remove", {"key": "6f1c2a3e-0000-4000-8000-000000000001"}, "post", "treat"),
    ("clinical:teaching_photos", {}, "get", "view_clinical"),
    ("clinical:course", {"course_id": "course"}, "get", "view_clinical"),
    ("clinical:course_decision", {"course_id": "course"}, "post", "treat"),
    ("clinical:patch_result", {"appointment_id": "patch"}, "get", "treat"),
    ("second_factor:manage", {}, "get", LOGIN),
    ("second_factor:enrol", {}, "get", LOGIN),
    ("second_factor:renew_recovery_codes", {}, "post", LOGIN),
    ("api:api-root", {}, "get", LOGIN),
    ("api-schema", {}, "get", LOGIN),
    ("api-docs", {}, "get", LOGIN),
    ("api:availability", {}, "get", "view_schedule"),
    ("api:appointment-list", {}, "get", "view_schedule"),
    ("api:appointment-list", {}, "post", "book"),
    ("api:appointment-detail", {"pk": "appointment"}, "get", "view_schedule"),
    ("api:appointment-reschedule", {"pk": "appointment"}, "post", "book"),
    ("api:appointment-cancel", {"pk": "appointment"}, "post", "book"),
    ("api:appointment-confirm", {"pk": "appointment"}, "post", "book"),
    ("api:appointment-check-in", {"pk": "appointment"}, "post", "book"),
    ("api:appointment-no-show", {"pk": "appointment"}, "post", "book"),
    ("api:appointment-complete", {"pk": "appointment"}, "post", "treat"),
    ("api:appointment-patch-result", {"pk": "appointment"}, "post", "treat"),
    ("api:assessment-list", {}, "get", "view_patients"),
    ("api:assessment-list", {}, "post", "treat"),
    ("api:assessment-detail", {"pk": "assessment"}, "get", "view_patients"),
    ("api:course-list", {}, "post", "treat"),
    ("api:course-detail", {"pk": "course"}, "get", "view_schedule"),
    ("api:course-approve", {"pk": "proposed"}, "post", "treat"),
    ("api:course-plan", {"pk": "course"}, "get", "view_schedule"),
    ("api:course-book-plan", {"pk": "course"}, "post", "book"),
    ("api:course-review", {"pk": "course"}, "post", "treat"),
    ("api:patient-list", {}, "get", "view_patients"),
    ("api:patient-list", {}, "post", "edit_patients"),
    ("api:patient-detail", {"pk": "patient"}, "get", "view_patients"),
    ("api:patient-detail", {"pk": "patient"}, "patch", "edit_patients"),
    ("api:patient-sun-exposure", {"pk": "patient"}, "get", "view_patients"),
    *[
        (f"api:{name}-{kind}", {"pk": "catalogue"} if kind == "detail" else {}, "get", "view_schedule")
        for name in ("condition", "treatment-area", "practitioner", "room", "device")
        for kind in ("list", "detail")
    ],
]
# Outside the matrix: logging in and out, the patients' own signed links and pages (their own
# session, tests/test_portal_*.py), and the admin (which checks Django's model permissions, given to
# each role's group in clinic.roles.PERMISSIONS). The second factor's code step and its recovery
# codes shown once are steps of logging in.
PORTAL = {"portal:home", "portal:sign_in", "portal:sign_in_link", "portal:sign_out", "portal:visit", "portal:move",
          "portal:cancel", "portal:ask_to_cancel", "portal:book_next", "portal:sun_exposure",
          "portal:sun_exposure_cancel", "portal:waitlist", "portal:waitlist_cancel", "portal:consent",
          "portal:photo_consent_withdraw"}  # fmt: skip
OUTSIDE = {"login", "logout", "patient_links:confirm", "patient_links:cancel", "patient_links:prep",
           "patient_links:unsubscribe", "second_factor:verify", "second_factor:recovery_codes",
           "consultation:book", "consultation:held", "consultation:confirm", "waitlist_links:offer",
           "aftercare_links:answer", *PORTAL}  # fmt: skip


def _named_routes(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            if inner == "admin":
                continue
            name = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from _named_routes(pattern.url_patterns, name)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_url_of_the_project_is_in_the_matrix():
    assert set(_named_routes(get_resolver().url_patterns)) - OUTSIDE == {name for name, *_ in ROUTES}


def test_the_readme_shows_the_matrix_of_the_code():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Who may do what", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \|[^|]*\|([^|]*)\|([^|]*)\|([^|]*)\|$", section, flags=re.MULTILINE)
    table = {name: tuple(role for role, cell in zip(ROLES, cells, strict=True) if "✓" in cell) for name, *cells in rows}
    assert table == ABILITIES


def _url(name, arguments, records):
    kwargs = {}
    for key, value in arguments.items():
        if value == "catalogue":
            model = get_resolver().resolve(reverse(name.replace("-detail", "-list"))).func.cls.queryset.model
            kwargs[key] = model.objects.order_by("pk").first().pk
        else:
            kwargs[key] = records.get(value, value)
    return reverse(name, kwargs=kwargs)


def _persona(role, dermatologist):
    if role == DERMATOLOGIST:
        return dermatologist.user
    if role is None:
        return UserFactory(username="no-role")
    user = UserFactory(username=role.lower(), is_staff=role == MANAGER)
    user.groups.add(Group.objects.get(name=role))
    return user


def _allowed(ability, role):
    if ability == LOGIN:
        return True
    return role in ABILITIES[ability]


@pytest.mark.parametrize("role", [RECEPTION, DERMATOLOGIST, MANAGER, None], ids=[*ROLES, "no role"])
@pytest.mark.parametrize("name, arguments, method, ability", ROUTES, ids=[f"{r[2]} {r[0]}" for r in ROUTES])
def test_each_role_reaches_exactly_what_the_matrix_allows(
    client, records, dermatologist, role, name, arguments, method, ability
):
    url = _url(name, arguments, records)
    user = _persona(role, dermatologist)
    if name.startswith("api"):
        api = APIClient()
        api.force_authenticate(user)
        response = getattr(api, method)(url, {}, format="json")
    else:
        client.force_login(user)
        response = getattr(client, method)(url)
    if _allowed(ability, role):
        assert response.status_code not in (401, 403), response.content[:300]
        assert response.status_code < 500
        if response.status_code == 302:
            assert not response.url.startswith(reverse("login"))
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("name, arguments, method, ability", ROUTES, ids=[f"{r[2]} {r[0]}" for r in ROUTES])
def test_strangers_log_in_first(client, records, name, arguments, method, ability):
    url = _url(name, arguments, records)
    if name.startswith("api"):
        response = getattr(APIClient(), method)(url, {}, format="json")
        assert response.status_code == 401
    else:
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")


def test_a_token_carries_its_users_role(dermatologist, clinic):
    from rest_framework.authtoken.models import Token

    reception = _persona(RECEPTION, dermatologist)
    key = Token.objects.create(user=reception).key
    api = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api:patient-list")).status_code == 200
    assert api.post(reverse("api:appointment-complete", kwargs={"pk": 1}), {}).status_code == 403


@pytest.mark.parametrize("role", [RECEPTION, DERMATOLOGIST, MANAGER], ids=ROLES)
def test_only_managers_edit_the_catalogue_in_the_admin(client, dermatologist, role):
    user = _persona(role, dermatologist)
    user.is_staff = True  # even with admin access, the group's permissions decide
    user.save()
    client.force_login(user)
    allowed = role in ABILITIES["edit_catalogue"]
    for path in ("/admin/catalogue/room/add/", "/admin/catalogue/laserdevice/add/", "/admin/catalogue/condition/add/"):
        assert client.get(path).status_code == (200 if allowed else 403), path
