"""One place per rule: the pages, the JSON API and the admin give the same answer, because they call
the same function.

- proposing a course needs an assessment that found the patient a candidate for the condition,
  without contraindications (clinical.services.courses.course_propose);
- a course's plan stays within its bounds (plan_errors);
- clinical work is a dermatologist's (catalogue.permissions.is_dermatologist);
- the check-in re-screen's answers flag a treatment (scheduling.services.check_in.check_in_flags).
"""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from catalogue.models import Practitioner
from clinic.errors import SchedulingError
from clinical.models import Contraindication, TreatmentCourse
from clinical.services.courses import course_approve, course_propose
from scheduling.forms import CheckInForm
from scheduling.models import Appointment
from scheduling.services.check_in import QUESTIONS, SUN_NOT_RULED_OUT, check_in_flags
from tests.conftest import book_treatment, local, record_assessment
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    PractitionerFactory,
    TreatmentCourseFactory,
    UserFactory,
    area,
    condition,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def proposal(assessment, condition_slug="tattoo-removal", **plan):
    """The propose page's form, as its button posts it."""
    tattoo = condition(condition_slug)
    data = {
        "condition": tattoo.pk,
        "planned_sessions": tattoo.default_sessions,
        "min_interval_days": tattoo.min_interval_days,
        "max_interval_days": tattoo.max_interval_days,
        "areas": [area().pk],
    }
    return data | plan


def api_proposal(assessment, **change):
    data = proposal(assessment) | {"patient": assessment.patient_id, "assessment": assessment.pk}
    return data | change


# --- Proposing a course needs an assessment that allows it ------------------------------------


@pytest.mark.parametrize(
    "assessed, field, reason",
    [
        (dict(candidate=False), "assessment", "The assessment found the patient not a good candidate"),
        (
            dict(contraindications=[Contraindication.ISOTRETINOIN]),
            "assessment",
            "Contraindications were found (isotretinoin in the last 6 months)",
        ),
    ],
)
def test_a_blocked_assessment_is_refused_with_one_reason_on_the_page_and_in_the_api(
    client, dermatologist, assessed, field, reason
):
    assessment = record_assessment(dermatologist, PatientFactory(), **assessed)
    client.force_login(dermatologist.user)
    page = client.post(reverse("clinical:propose", args=[assessment.pk]), proposal(assessment))
    response = api_client(dermatologist.user).post(f"{API}/courses/", api_proposal(assessment))
    assert response.status_code == 400
    [message] = response.json()[field]
    assert message.startswith(reason)
    assert said(page) == [message]  # word for word
    assert not TreatmentCourse.objects.exists()


def test_a_condition_the_assessment_did_not_find_is_refused_alike_on_the_page_and_in_the_api(client, dermatologist):
    assessment = record_assessment(dermatologist, PatientFactory())  # found tattoo removal only
    client.force_login(dermatologist.user)
    page = client.post(reverse("clinical:propose", args=[assessment.pk]), proposal(assessment, "acne-scars"))
    body = api_proposal(assessment, condition=condition("acne-scars").pk)
    response = api_client(dermatologist.user).post(f"{API}/courses/", body)
    assert response.status_code == 400
    assert response.json() == {"condition": ["The assessment did not find Acne scars."]}
    assert page.context["form"].errors["condition"] == ["The assessment did not find Acne scars."]
    assert not TreatmentCourse.objects.exists()


def test_the_api_proposes_on_the_patients_latest_assessment_and_refuses_without_one(dermatologist):
    api = api_client(dermatologist.user)
    patient = PatientFactory()
    body = {"patient": patient.pk, "condition": condition().pk, "areas": [area().pk]}
    refused = api.post(f"{API}/courses/", body)
    assert refused.status_code == 400
    assert refused.json()["assessment"] == [
        "No assessment of this patient has been recorded, so no course can be proposed: "
        "a dermatologist assesses the patient first."
    ]
    record_assessment(dermatologist, patient)
    latest = record_assessment(dermatologist, patient, candidate=False)  # the latest finding stands
    refused = api.post(f"{API}/courses/", body)
    assert "not a good candidate" in refused.json()["assessment"][0]
    usable = record_assessment(dermatologist, patient)
    proposed = api.post(f"{API}/courses/", body)
    assert proposed.status_code == 201
    assert proposed.json()["assessment"] == usable.pk != latest.pk


def test_the_api_refuses_an_assessment_of_another_patient(dermatologist):
    assessment = record_assessment(dermatologist, PatientFactory())
    response = api_client(dermatologist.user).post(
        f"{API}/courses/", api_proposal(assessment, patient=PatientFactory().pk)
    )
    assert response.status_code == 400
    assert response.json() == {
        "assessment": ["That assessment is of another patient, so no course can be proposed on it for this one."]
    }


def test_the_page_and_the_api_propose_the_same_course_on_the_same_assessment(client, dermatologist):
    on_page = record_assessment(dermatologist, PatientFactory())
    in_api = record_assessment(dermatologist, PatientFactory())
    client.force_login(dermatologist.user)
    client.post(reverse("clinical:propose", args=[on_page.pk]), proposal(on_page))
    api_client(dermatologist.user).post(f"{API}/courses/", api_proposal(in_api))
    fields = ("condition", "planned_sessions", "min_interval_days", "max_interval_days", "status", "proposed_by")
    page_course, api_course = (TreatmentCourse.objects.get(assessment=a) for a in (on_page, in_api))
    assert [getattr(page_course, f) for f in fields] == [getattr(api_course, f) for f in fields]
    assert list(page_course.areas.all()) == list(api_course.areas.all()) == [area()]


# --- A plan within its bounds -------------------------------------------------------------------


@pytest.mark.parametrize(
    "plan, errors",
    [
        ({"planned_sessions": 31}, {"planned_sessions": "Plan between 1 and 30 sessions."}),
        ({"planned_sessions": 0}, {"planned_sessions": "Plan between 1 and 30 sessions."}),
        ({"min_interval_days": 0}, {"min_interval_days": "The minimum interval is 1 to 365 days."}),
        (
            {"min_interval_days": 50, "max_interval_days": 40},
            {"max_interval_days": "The maximum interval is at least the minimum and at most a year."},
        ),
        (
            {"planned_sessions": 40, "max_interval_days": 400},
            {
                "planned_sessions": "Plan between 1 and 30 sessions.",
                "max_interval_days": "The maximum interval is at least the minimum and at most a year.",
            },
        ),
    ],
)
def test_plan_bounds_answer_alike_on_the_pages_in_the_api_and_in_the_service(client, dermatologist, plan, errors):
    assessment = record_assessment(dermatologist, PatientFactory())
    client.force_login(dermatologist.user)
    page = client.post(reverse("clinical:propose", args=[assessment.pk]), proposal(assessment, **plan))
    assert {field: messages for field, messages in page.context["form"].errors.items()} == {
        field: [message] for field, message in errors.items()
    }
    proposed = TreatmentCourseFactory(patient=assessment.patient, assessment=assessment)
    change = client.post(reverse("clinical:change", args=[proposed.pk]), proposal(assessment, **plan))
    assert change.context["form"].errors == page.context["form"].errors
    response = api_client(dermatologist.user).post(f"{API}/courses/", api_proposal(assessment, **plan))
    assert response.status_code == 400
    assert response.json() == {field: [message] for field, message in errors.items()}
    with pytest.raises(SchedulingError) as refused:
        course_propose(
            assessment=assessment,
            **{"condition": condition(), "areas": [area()]} | plan,
            proposed_by=dermatologist,
        )
    first = next(iter(errors))
    assert (refused.value.field, refused.value.message) == (first, errors[first])


# --- Clinical work is a dermatologist's ---------------------------------------------------------


@pytest.fixture
def not_quite_dermatologists(db):
    """Users in the Dermatologist group (so `treat` and `view_clinical`) whose practitioner record
    is not an active dermatologist's: a laser nurse, and a dermatologist who left."""
    nurse = PractitionerFactory(role=Practitioner.Role.LASER_NURSE, user=UserFactory(is_staff=True))
    former = PractitionerFactory(active=False, user=UserFactory(is_staff=True))
    for practitioner in (nurse, former):
        practitioner.user.groups.add(Group.objects.get(name="Dermatologist"))
    return [nurse.user, former.user]


def test_reception_gets_403_on_recording_an_assessment_and_proposing_a_course(client, receptionist, dermatologist):
    patient = PatientFactory()
    assessment = record_assessment(dermatologist, patient)
    api = api_client(receptionist)
    body = {"patient": patient.pk, "skin_type": 3, "candidate": True}
    assert api.post(f"{API}/assessments/", body).status_code == 403
    assert api.post(f"{API}/courses/", api_proposal(assessment)).status_code == 403
    client.force_login(receptionist)
    assert client.post(reverse("clinical:assess", args=[patient.pk]), {"skin_type": "3"}).status_code == 403
    assert client.post(reverse("clinical:propose", args=[assessment.pk]), proposal(assessment)).status_code == 403
    assert patient.assessments.count() == 1 and not TreatmentCourse.objects.exists()


def test_a_user_without_an_active_dermatologists_record_is_refused_on_every_path(
    client, dermatologist, not_quite_dermatologists
):
    patient = PatientFactory()
    assessment = record_assessment(dermatologist, patient)
    course = TreatmentCourseFactory(patient=patient, assessment=assessment)
    for user in not_quite_dermatologists:
        api = api_client(user)
        assert api.post(f"{API}/assessments/", {"patient": patient.pk, "skin_type": 3, "candidate": True}).json() == {
            "detail": "Only a dermatologist can do this."
        }
        assert api.post(f"{API}/courses/", api_proposal(assessment)).status_code == 403
        assert api.post(f"{API}/courses/{course.pk}/approve/").status_code == 403
        client.force_login(user)
        assert client.get(reverse("clinical:assess", args=[patient.pk])).status_code == 403
        assert client.post(reverse("clinical:approve", args=[course.pk])).status_code == 403
        admin = client.post(
            reverse("admin:clinical_treatmentcourse_changelist"),
            {"action": "approve", "index": 0, "_selected_action": [course.pk]},
            follow=True,
        )
        assert f"{course}: Only a dermatologist can approve a course." in said(admin)
        with pytest.raises(SchedulingError, match="Only a dermatologist can approve a course."):
            course_approve(course=course, by=user.practitioner)
    course.refresh_from_db()
    assert course.status == TreatmentCourse.Status.PROPOSED
    assert patient.assessments.count() == 1


# --- The check-in re-screen ---------------------------------------------------------------------

ALL_CLEAR = {"no_sun": True, "no_peels_or_waxing": True, "clean_skin": True, "eyewear": True}


@pytest.fixture
def two_sessions(clinic, frozen):
    """Two treatments today, of two patients, each on an approved course."""
    other = TreatmentCourseFactory(approved=True, approved_by=clinic.practitioner)
    first = book_treatment(clinic, local(1, 10))
    second = book_treatment(clinic, local(1, 11), patient=other.patient, course=other)
    return first, second


@pytest.mark.parametrize(
    "answers",
    [
        {"no_peels_or_waxing": True, "clean_skin": True, "eyewear": True},  # sun not ruled out
        ALL_CLEAR | {"pregnancy": True, "recent_tan": True},
        {"new_medication": True, "skin_infection": True},
        ALL_CLEAR,
    ],
)
def test_the_api_check_in_flags_a_session_exactly_as_the_page_does(client, receptionist, two_sessions, answers):
    on_page, in_api = two_sessions
    client.force_login(receptionist)
    form = {name: "on" for name, ticked in answers.items() if ticked} | {"remarks": "Back from Spain"}
    client.post(reverse("scheduling:appointment_check_in", args=[on_page.pk]), form)
    response = api_client(receptionist).post(
        f"{API}/appointments/{in_api.pk}/check-in/", answers | {"remarks": "Back from Spain"}
    )
    assert response.status_code == 200
    on_page.refresh_from_db()
    in_api.refresh_from_db()
    assert on_page.status == in_api.status == Appointment.Status.CHECKED_IN
    assert in_api.notes == on_page.notes  # the same line: flags, time, who, remarks
    expected = check_in_flags(kind="treatment", answers=answers)
    assert response.json()["flags"] == expected
    assert on_page.notes.startswith("Flagged at check-in") == bool(expected)
    if "no_sun" not in answers:
        assert SUN_NOT_RULED_OUT in in_api.notes


def test_an_api_check_in_without_answers_flags_a_treatment_as_an_empty_form_does(client, receptionist, two_sessions):
    on_page, in_api = two_sessions
    client.force_login(receptionist)
    client.post(reverse("scheduling:appointment_check_in", args=[on_page.pk]), {})
    response = api_client(receptionist).post(f"{API}/appointments/{in_api.pk}/check-in/")
    on_page.refresh_from_db()
    in_api.refresh_from_db()
    assert response.json()["flags"] == [SUN_NOT_RULED_OUT]
    assert in_api.notes == on_page.notes != ""


def test_a_consultation_is_not_flagged_by_the_re_screen(receptionist, clinic, frozen):
    visit = AppointmentFactory(start=local(1, 14), practitioner=clinic.practitioner, room=clinic.room)
    response = api_client(receptionist).post(f"{API}/appointments/{visit.pk}/check-in/", {"pregnancy": True})
    visit.refresh_from_db()
    assert (response.json()["status"], response.json()["flags"], visit.notes) == ("checked_in", [], "")


def test_the_page_and_the_api_ask_the_same_questions(receptionist):
    schema = api_client(receptionist).get("/api/schema/", {"format": "json"}).json()
    body = schema["paths"][f"{API}/appointments/{{id}}/check-in/"]["post"]["requestBody"]
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    asked_by_api = set(schema["components"]["schemas"][name]["properties"])
    assert asked_by_api == set(CheckInForm().fields) == {*QUESTIONS, "remarks"}
