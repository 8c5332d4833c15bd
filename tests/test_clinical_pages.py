"""The dermatologist's pages: assessment, course proposal, review and approval, session record, results."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.errors import IllegalTransition
from clinical.models import Assessment, Contraindication, TreatmentCourse
from clinical.services.assessments import assessment_record
from clinical.services.courses import course_update_proposal
from outbox.models import Notification
from scheduling.models import Appointment, SessionRecord
from scheduling.services import appointment_check_in, appointment_complete
from tests.conftest import book_treatment, local
from tests.factories import (
    AppointmentFactory,
    AssessmentFactory,
    LaserDeviceFactory,
    PatientFactory,
    TreatmentCourseFactory,
    UserFactory,
    area,
    condition,
)

pytestmark = pytest.mark.django_db
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.50", spot_size_mm="4.0", pulses=900, skin_reaction="mild_erythema")


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def candidate_assessment(dermatologist, patient=None, **overrides):
    assessment = AssessmentFactory(patient=patient or PatientFactory(), dermatologist=dermatologist, **overrides)
    assessment.conditions.set([condition("tattoo-removal")])
    return assessment


@pytest.fixture
def checked_in(clinic, frozen, time_machine):
    """Ada's first tattoo-removal session today at 10:00, checked in."""
    session = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 9, 55), tick=False)
    return appointment_check_in(appointment=session)


@pytest.fixture
def pages(clinic, dermatologist):
    """One of everything the pages are about, keyed by page."""
    assessment = candidate_assessment(dermatologist)
    proposed = TreatmentCourseFactory(patient=assessment.patient, assessment=assessment)
    treatment = AppointmentFactory(
        kind="treatment",
        patient=clinic.patient,
        course=clinic.course,
        device=clinic.device,
        room=clinic.room,
    )
    return {
        "assess": reverse("clinical:assess", args=[clinic.patient.pk]),
        "propose": reverse("clinical:propose", args=[assessment.pk]),
        "review": reverse("clinical:review"),
        "results": reverse("clinical:results"),
        "change": reverse("clinical:change", args=[proposed.pk]),
        "record": reverse("clinical:record", args=[treatment.pk]),
    }


# --- Who may use which page ----------------------------------------------------------------------


def test_the_urls_are_where_the_clinic_expects_them(pages, clinic):
    assert pages["assess"] == f"/clinical/patients/{clinic.patient.pk}/assess/"
    assert pages["review"] == "/clinical/courses/review/"
    assert pages["results"] == "/clinical/courses/results/"
    assert pages["record"].startswith("/clinical/appointments/") and pages["record"].endswith("/record/")


@pytest.mark.parametrize("page", ["assess", "propose", "review", "results", "change", "record"])
def test_anonymous_visitors_are_sent_to_log_in(client, pages, page):
    response = client.get(pages[page])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    "page, receptionist_sees, manager_sees",
    [
        ("assess", 403, 403),
        ("propose", 403, 403),
        ("review", 403, 200),
        ("results", 403, 200),
        ("change", 403, 403),
        ("record", 403, 403),
    ],
)
def test_each_page_admits_its_roles(client, pages, page, dermatologist, receptionist, manager, receptionist_sees,
                                    manager_sees):  # fmt: skip
    client.force_login(dermatologist.user)
    assert client.get(pages[page]).status_code == 200
    client.force_login(receptionist)
    assert client.get(pages[page]).status_code == receptionist_sees
    # The manager persona is a superuser but no dermatologist: clinical acts need one's name.
    client.force_login(manager)
    assert client.get(pages[page]).status_code == manager_sees


def test_approving_is_for_dermatologists_only(client, receptionist, manager, dermatologist):
    course = TreatmentCourseFactory()
    for user in (receptionist, manager):
        client.force_login(user)
        assert client.post(reverse("clinical:approve", args=[course.pk])).status_code == 403
    course.refresh_from_db()
    assert course.status == TreatmentCourse.Status.PROPOSED


def test_approving_takes_a_post_and_a_get_only_asks(client, dermatologist):
    client.force_login(dermatologist.user)
    course = TreatmentCourseFactory()
    assert client.get(reverse("clinical:approve", args=[course.pk])).status_code == 200  # the confirmation
    assert client.put(reverse("clinical:approve", args=[course.pk])).status_code == 405
    course.refresh_from_db()
    assert course.status == TreatmentCourse.Status.PROPOSED


# --- Assessment ----------------------------------------------------------------------------------


def test_an_assessment_records_the_outcome_updates_the_skin_type_and_leads_to_a_proposal(client, dermatologist):
    patient = PatientFactory(skin_type=2)
    tattoo = condition("tattoo-removal")
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:assess", args=[patient.pk]),
        {"skin_type": "4", "conditions": [tattoo.pk], "candidate": "yes", "notes": "Black ink, 3 years old."},
    )
    assessment = Assessment.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("clinical:propose", args=[assessment.pk])
    assert "Assessment recorded" in said(response)[0]
    assert (assessment.skin_type, assessment.candidate, assessment.contraindications) == (4, True, [])
    assert list(assessment.conditions.all()) == [tattoo]
    assert (assessment.dermatologist, assessment.created_by) == (dermatologist, dermatologist.user)
    patient.refresh_from_db()
    assert patient.skin_type == 4


def test_the_assessment_form_starts_from_the_patients_skin_type(client, dermatologist):
    patient = PatientFactory(skin_type=5)
    client.force_login(dermatologist.user)
    response = client.get(reverse("clinical:assess", args=[patient.pk]))
    assert response.context["form"]["skin_type"].value() == 5
    assert "first assessment" in response.content.decode()


def test_an_assessment_needs_a_skin_type_and_a_verdict_and_keeps_what_was_typed(client, dermatologist):
    patient = PatientFactory()
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:assess", args=[patient.pk]),
        {"skin_type": "", "contraindications": ["pregnancy"], "notes": "Due in June."},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["skin_type"] == ["Choose the patient's skin type."]
    assert form.errors["candidate"] == ["Say whether the patient is a good candidate."]
    assert "Due in June." in response.content.decode()
    assert form["contraindications"].value() == ["pregnancy"]
    assert not Assessment.objects.exists()


def test_an_unknown_skin_type_or_contraindication_is_refused(client, dermatologist):
    patient = PatientFactory()
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:assess", args=[patient.pk]),
        {"skin_type": "7", "contraindications": ["sunburn"], "candidate": "no"},
    )
    assert set(response.context["form"].errors) == {"skin_type", "contraindications"}
    assert not Assessment.objects.exists()


def test_a_contraindication_blocks_proposing_with_a_clear_message(client, dermatologist):
    patient = PatientFactory()
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:assess", args=[patient.pk]),
        {
            "skin_type": "3",
            "conditions": [condition("tattoo-removal").pk],
            "contraindications": [Contraindication.ISOTRETINOIN],
            "candidate": "yes",
        },
    )
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert "Contraindications were found (isotretinoin in the last 6 months)" in said(response)[0]
    assessment = Assessment.objects.get(patient=patient)
    page = client.get(reverse("clinical:propose", args=[assessment.pk]))
    assert "Contraindications were found" in page.content.decode()
    assert "form" not in page.context


def test_a_non_candidate_goes_back_to_the_patient_page(client, dermatologist):
    patient = PatientFactory()
    client.force_login(dermatologist.user)
    response = client.post(reverse("clinical:assess", args=[patient.pk]), {"skin_type": "6", "candidate": "no"})
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert "not a good candidate" in said(response)[0]


def test_a_candidate_without_a_condition_has_nothing_to_propose(client, dermatologist):
    patient = PatientFactory()
    client.force_login(dermatologist.user)
    response = client.post(reverse("clinical:assess", args=[patient.pk]), {"skin_type": "2", "candidate": "yes"})
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert "no course to propose" in said(response)[0]


def test_only_a_dermatologist_records_an_assessment(clinic):
    nurse = clinic.practitioner
    nurse.role = "laser_nurse"
    with pytest.raises(Exception, match="Only a dermatologist"):
        assessment_record(patient=clinic.patient, dermatologist=nurse, skin_type=3, candidate=True)


# --- Proposing a course --------------------------------------------------------------------------


def test_the_proposal_starts_from_the_conditions_protocol(client, dermatologist):
    assessment = candidate_assessment(dermatologist)
    assessment.conditions.add(condition("acne-scars"))
    client.force_login(dermatologist.user)
    url = reverse("clinical:propose", args=[assessment.pk])
    form = client.get(url, {"condition": condition("tattoo-removal").pk}).context["form"]
    assert [form[name].value() for name in ("planned_sessions", "min_interval_days", "max_interval_days")] == [
        8, 42, 56
    ]  # fmt: skip
    acne = condition("acne-scars")
    form = client.get(url, {"condition": acne.pk}).context["form"]
    assert form["condition"].value() == acne.pk
    assert form["planned_sessions"].value() == acne.default_sessions


def test_proposing_a_course_records_who_and_on_which_assessment(client, dermatologist):
    assessment = candidate_assessment(dermatologist)
    tattoo = condition("tattoo-removal")
    client.force_login(dermatologist.user)
    data = {
        "condition": tattoo.pk,
        "planned_sessions": "6",
        "min_interval_days": "42",
        "max_interval_days": "63",
        "areas": [area().pk],
        "notes": "Fading well expected.",
    }
    response = client.post(reverse("clinical:propose", args=[assessment.pk]), data)
    assert response["Location"] == reverse("clinical:review")
    assert "Course proposed" in said(response)[0]
    course = TreatmentCourse.objects.get(patient=assessment.patient)
    assert (course.status, course.planned_sessions, course.max_interval_days) == ("proposed", 6, 63)
    assert (course.proposed_by, course.assessment, list(course.areas.all())) == (dermatologist, assessment, [area()])
    # A second submit of the same form proposes nothing more.
    again = client.post(reverse("clinical:propose", args=[assessment.pk]), data)
    assert "already been proposed" in again.content.decode()
    assert TreatmentCourse.objects.filter(patient=assessment.patient).count() == 1


def test_a_proposal_is_checked_and_keeps_what_was_typed(client, dermatologist):
    assessment = candidate_assessment(dermatologist)
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:propose", args=[assessment.pk]),
        {"condition": condition("tattoo-removal").pk, "planned_sessions": "0", "min_interval_days": "50",
         "max_interval_days": "40"},
    )  # fmt: skip
    form = response.context["form"]
    assert set(form.errors) == {"planned_sessions", "max_interval_days", "areas"}
    assert form["min_interval_days"].value() == "50"
    assert not TreatmentCourse.objects.filter(patient=assessment.patient).exists()


def test_a_course_cannot_be_proposed_for_a_non_candidate(client, dermatologist):
    assessment = candidate_assessment(dermatologist, candidate=False)
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:propose", args=[assessment.pk]),
        {"condition": condition("tattoo-removal").pk, "planned_sessions": "8", "min_interval_days": "42",
         "max_interval_days": "56", "areas": [area().pk]},
    )  # fmt: skip
    assert "not a good candidate" in said(response)[0]
    assert not TreatmentCourse.objects.filter(patient=assessment.patient).exists()


def test_a_course_is_proposed_only_for_a_condition_the_assessment_found(client, dermatologist):
    assessment = candidate_assessment(dermatologist)
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:propose", args=[assessment.pk]),
        {"condition": condition("acne-scars").pk, "planned_sessions": "4", "min_interval_days": "28",
         "max_interval_days": "42", "areas": [area().pk]},
    )  # fmt: skip
    assert "condition" in response.context["form"].errors
    assert "alert-danger" in response.content.decode()  # shown, though the field itself is hidden
    assert not TreatmentCourse.objects.filter(patient=assessment.patient).exists()


def test_assessment_then_proposal_then_approval(client, dermatologist):
    patient = PatientFactory()
    client.force_login(dermatologist.user)
    tattoo = condition("tattoo-removal")
    response = client.post(
        reverse("clinical:assess", args=[patient.pk]), {"skin_type": "3", "conditions": [tattoo.pk], "candidate": "yes"}
    )
    proposal = client.get(response["Location"])
    data = {name: proposal.context["form"][name].value() for name in proposal.context["form"].fields}
    data.update(condition=tattoo.pk, areas=[area().pk], notes="")
    client.post(response["Location"], data)
    course = TreatmentCourse.objects.get(patient=patient)
    assert patient.full_name in client.get(reverse("clinical:review")).content.decode()
    approved = client.post(reverse("clinical:approve", args=[course.pk]))
    assert "Approved" in said(approved)[0]
    course.refresh_from_db()
    assert (course.status, course.approved_by, course.planned_sessions) == ("approved", dermatologist, 8)


# --- Review queue --------------------------------------------------------------------------------


def test_the_review_queue_lists_proposed_courses_oldest_first_with_contraindications(client, dermatologist, frozen):
    newer = TreatmentCourseFactory(patient=PatientFactory(last_name="Newer"))
    older = TreatmentCourseFactory(
        patient=PatientFactory(last_name="Older"),
        created_at=timezone.now() - timedelta(days=3),
        assessment=AssessmentFactory(dermatologist=dermatologist, contraindications=["keloid_tendency"]),
    )
    TreatmentCourseFactory(approved=True, patient=PatientFactory(last_name="Approved"))
    client.force_login(dermatologist.user)
    response = client.get(reverse("clinical:review"))
    assert list(response.context["courses"]) == [older, newer]
    page = response.content.decode()
    assert "Tendency to keloid scarring" in page and "Approved" not in page.split("<tbody>")[1].split("</tbody>")[0]
    assert "Small tattoo (up to 5 × 5 cm)" in page and "42–56 days" in page


def test_a_manager_sees_the_review_queue_without_the_buttons_or_the_clinical_details(client, manager, dermatologist):
    TreatmentCourseFactory(
        notes="Check the keloid on the left arm first",
        assessment=AssessmentFactory(dermatologist=dermatologist, contraindications=["keloid_tendency"]),
    )
    client.force_login(manager)
    page = client.get(reverse("clinical:review")).content.decode()
    assert "Only a dermatologist can approve" in page
    assert "/approve/" not in page
    assert "keloid" not in page.lower() and "Contraindications" not in page


def test_the_review_queue_has_an_empty_state(client, dermatologist):
    client.force_login(dermatologist.user)
    assert "No course is waiting for review" in client.get(reverse("clinical:review")).content.decode()


def test_approving_twice_says_it_is_already_approved(client, dermatologist):
    course = TreatmentCourseFactory()
    client.force_login(dermatologist.user)
    client.post(reverse("clinical:approve", args=[course.pk]))
    response = client.post(reverse("clinical:approve", args=[course.pk]))
    assert said(response)[-1] == "This course is already approved."


def test_a_proposed_course_can_be_changed_and_the_change_is_noted(client, dermatologist, frozen):
    course = TreatmentCourseFactory()
    client.force_login(dermatologist.user)
    url = reverse("clinical:change", args=[course.pk])
    assert client.get(url).context["form"]["planned_sessions"].value() == 8
    response = client.post(
        url,
        {"planned_sessions": "10", "min_interval_days": "49", "max_interval_days": "70",
         "areas": [area().pk, area("Medium tattoo (up to 15 × 15 cm)").pk]},
    )  # fmt: skip
    assert response["Location"] == reverse("clinical:review")
    assert "Proposal changed" in said(response)[0]
    course.refresh_from_db()
    assert (course.planned_sessions, course.min_interval_days, course.max_interval_days) == (10, 49, 70)
    assert course.areas.count() == 2
    assert "8 sessions every 42-56 days" in course.notes and "10 sessions every 49-70 days" in course.notes
    assert str(dermatologist) in course.notes


def test_changing_a_proposal_is_checked(client, dermatologist):
    course = TreatmentCourseFactory()
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:change", args=[course.pk]),
        {"planned_sessions": "31", "min_interval_days": "30", "max_interval_days": "20"},
    )
    assert set(response.context["form"].errors) == {"planned_sessions", "max_interval_days", "areas"}
    course.refresh_from_db()
    assert course.planned_sessions == 8


def test_an_approved_course_cannot_be_changed(client, dermatologist, clinic):
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:change", args=[clinic.course.pk]),
        {"planned_sessions": "3", "min_interval_days": "30", "max_interval_days": "40", "areas": [area().pk]},
    )
    assert response["Location"] == reverse("clinical:review")
    assert "only a proposed course can be changed" in said(response)[0]
    with pytest.raises(IllegalTransition):
        course_update_proposal(
            course=clinic.course, planned_sessions=3, min_interval_days=30, max_interval_days=40, areas=[area()],
            by=dermatologist,
        )  # fmt: skip
    clinic.course.refresh_from_db()
    assert clinic.course.planned_sessions == 8


# --- Session record ------------------------------------------------------------------------------


def test_recording_a_session_completes_it_and_plans_the_aftercare_email(client, dermatologist, checked_in):
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:record", args=[checked_in.pk]),
        RECORD | {"area": area().pk, "notes": "Good frosting response."},
    )
    assert response["Location"] == f"/patients/{checked_in.patient_id}/"
    assert "Session 1 of 8 recorded and completed" in said(response)[0]
    checked_in.refresh_from_db()
    assert checked_in.status == Appointment.Status.COMPLETED
    record = checked_in.session_record
    assert (record.wavelength_nm, str(record.fluence_j_cm2), record.pulses) == (1064, "2.50", 900)
    assert (record.recorded_by, record.area, record.notes) == (dermatologist, area(), "Good frosting response.")
    assert checked_in.notifications.filter(
        kind=Notification.Kind.AFTERCARE, status=Notification.Status.PENDING
    ).exists()


def test_the_first_session_starts_blank_but_the_next_starts_from_the_previous_settings(
    client, dermatologist, clinic, checked_in, time_machine
):
    client.force_login(dermatologist.user)
    first = client.get(reverse("clinical:record", args=[checked_in.pk]))
    assert first.context["previous"] is None
    assert first.context["form"]["fluence_j_cm2"].value() is None
    assert first.context["form"]["area"].value() == area().pk  # the course's only area
    appointment_complete(appointment=checked_in, record=RECORD | {"fluence_j_cm2": "3.10", "area": area()})
    second = book_treatment(clinic, local(12, 10, month=4))
    time_machine.move_to(local(12, 9, 50, month=4), tick=False)
    appointment_check_in(appointment=second)
    client.force_login(dermatologist.user)  # six weeks on, the first session cookie has expired
    form = client.get(reverse("clinical:record", args=[second.pk])).context["form"]
    assert form["wavelength_nm"].value() == 1064
    assert str(form["fluence_j_cm2"].value()) == "3.10"
    assert (form["pulses"].value(), form["area"].value()) == (900, area().pk)
    assert form["skin_reaction"].value() is None  # each session's reaction is observed afresh


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"fluence_j_cm2": "0"}, "fluence_j_cm2", "more than 0"),
        ({"wavelength_nm": "250"}, "wavelength_nm", "between 300 and 2000"),
        ({"wavelength_nm": "2500"}, "wavelength_nm", "between 300 and 2000"),
        ({"spot_size_mm": "0"}, "spot_size_mm", "more than 0"),
        ({"pulses": "0"}, "pulses", "At least one pulse"),
        ({"skin_reaction": ""}, "skin_reaction", "required"),
        ({"area": "999999"}, "area", "valid choice"),
    ],
)
def test_a_session_record_is_checked_and_keeps_what_was_typed(client, dermatologist, checked_in, change, field, words):
    client.force_login(dermatologist.user)
    response = client.post(reverse("clinical:record", args=[checked_in.pk]), RECORD | {"notes": "Kept."} | change)
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors[field])
    assert "Kept." in response.content.decode()
    checked_in.refresh_from_db()
    assert checked_in.status == Appointment.Status.CHECKED_IN
    assert not SessionRecord.objects.exists()


def test_an_area_of_another_course_is_not_offered(client, dermatologist, checked_in):
    client.force_login(dermatologist.user)
    response = client.post(reverse("clinical:record", args=[checked_in.pk]), RECORD | {"area": area("Back").pk})
    assert "area" in response.context["form"].errors


def test_a_session_not_checked_in_is_refused_with_the_services_reason(client, dermatologist, clinic, frozen):
    session = book_treatment(clinic, local(2, 10))
    client.force_login(dermatologist.user)
    url = reverse("clinical:record", args=[session.pk])
    page = client.get(url)
    assert "once the patient has been checked in" in page.content.decode()
    assert "Record and complete" not in page.content.decode()
    response = client.post(url, RECORD)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["A booked appointment cannot be completed."]
    session.refresh_from_db()
    assert session.status == Appointment.Status.BOOKED
    assert not SessionRecord.objects.exists()


def test_only_treatments_have_a_session_record_page(client, dermatologist):
    consultation = AppointmentFactory()
    client.force_login(dermatologist.user)
    assert client.get(reverse("clinical:record", args=[consultation.pk])).status_code == 404


# --- Results review ------------------------------------------------------------------------------


def completed_course(last_session_start, **overrides):
    course = TreatmentCourseFactory(
        approved=True, status=TreatmentCourse.Status.COMPLETED, planned_sessions=1, **overrides
    )
    AppointmentFactory(
        kind="treatment", patient=course.patient, course=course, start=last_session_start,
        status=Appointment.Status.COMPLETED, device=LaserDeviceFactory(),
    )  # fmt: skip
    return course


def test_results_list_undecided_completed_courses_with_the_review_visit_booked_after_the_last_session(
    client, dermatologist, frozen
):
    now = timezone.now()
    waiting_longer = completed_course(now - timedelta(days=60), patient=PatientFactory(last_name="Longer"))
    waiting = completed_course(now - timedelta(days=10), patient=PatientFactory(last_name="Waiting"))
    reviewed = completed_course(now - timedelta(days=20))
    AppointmentFactory(kind="review", patient=reviewed.patient, start=now + timedelta(days=5))
    reviewed_before = completed_course(now - timedelta(days=30))  # a review before the last session counts not
    AppointmentFactory(kind="review", patient=reviewed_before.patient, start=now - timedelta(days=40))
    cancelled_review = completed_course(now - timedelta(days=5))
    AppointmentFactory(
        kind="review", patient=cancelled_review.patient, start=now + timedelta(days=2), status="cancelled"
    )
    client.force_login(dermatologist.user)
    response = client.get(reverse("clinical:results"))
    listed = list(response.context["courses"])
    assert listed == [waiting_longer, reviewed_before, reviewed, waiting, cancelled_review]
    # The visit booked after the last session is shown; one before it, or cancelled, is not.
    assert [course.review_at for course in listed] == [None, None, now + timedelta(days=5), None, None]
    assert "Longer" in response.content.decode()


def test_results_have_an_empty_state(client, manager):
    client.force_login(manager)
    assert "Nothing to follow up" in client.get(reverse("clinical:results")).content.decode()


def test_the_results_page_costs_the_same_queries_however_many_courses(client, dermatologist, frozen):
    client.force_login(dermatologist.user)
    completed_course(timezone.now() - timedelta(days=3))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("clinical:results"))
    for days in (4, 5, 6):
        completed_course(timezone.now() - timedelta(days=days))
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("clinical:results"))
    assert len(more) == len(few)


def test_the_review_page_costs_the_same_queries_however_many_courses(client, dermatologist):
    client.force_login(dermatologist.user)
    TreatmentCourseFactory(assessment=AssessmentFactory(dermatologist=dermatologist), proposed_by=dermatologist)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("clinical:review"))
    for _ in range(3):
        TreatmentCourseFactory(assessment=AssessmentFactory(dermatologist=dermatologist), proposed_by=dermatologist)
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("clinical:review"))
    assert len(more) == len(few)


def test_an_outsider_without_a_role_is_refused(client, pages):
    client.force_login(UserFactory(username="outsider"))
    assert client.get(pages["review"]).status_code == 403
