"""Issue 11, the staff app's dead ends: every next step is a link for the role that may take it, a
page offers only what is possible now, and a refusal says who may do it.

The clock stands at 08:00 on Monday 1 March 2027; the dermatologist works Monday to Friday 09-17.
"""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from clinic.errors import IllegalTransition
from clinical.models import TreatmentCourse
from outbox.models import Notification
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_check_in, appointment_complete
from scheduling.services.check_in import appointment_defer
from tests.conftest import book_treatment, local
from tests.factories import AssessmentFactory, PatientFactory, TreatmentCourseFactory, UserFactory, condition

pytestmark = pytest.mark.django_db
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.50", spot_size_mm="4.0", pulses=900, skin_reaction="mild_erythema")


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def page_of(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def clinic_manager(db):
    user = UserFactory(username="practice-manager")
    user.groups.add(Group.objects.get_or_create(name="Manager")[0])
    return user


@pytest.fixture
def as_role(client, receptionist, dermatologist, clinic_manager):
    def log_in(role):
        client.force_login({"reception": receptionist, "derm": dermatologist.user, "manager": clinic_manager}[role])
        return client

    return log_in


def book_visit_url(patient, kind):
    return f"{reverse('scheduling:book_visit')}?patient={patient.pk}&amp;kind={kind}"


def consultation(clinic, start, **overrides):
    arguments = dict(
        patient=clinic.patient, kind="consultation", start=start, practitioner=clinic.practitioner, room=clinic.room
    )
    return appointment_book(**arguments | overrides)


# --- A refused page says who may use it ------------------------------------------------------------


def test_a_refused_page_is_the_apps_page_naming_the_roles_that_may(as_role, clinic, frozen):
    response = as_role("reception").get(reverse("clinical:assess", args=[clinic.patient.pk]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Day board" in page and "Log out" in page  # the app's layout, with its navigation
    assert "<strong>Dermatologist</strong> role" in page
    assert "assess patients" in page
    assert "(Reception)" in page  # what the user is

    response = as_role("manager").get(reverse("scheduling:book_visit"))
    assert response.status_code == 403
    assert "<strong>Reception</strong> or <strong>Dermatologist</strong> roles" in response.content.decode()


def test_a_dermatologist_role_without_a_practitioner_record_is_told_why(client, clinic, frozen):
    user = UserFactory(username="locum")
    user.groups.add(Group.objects.get_or_create(name="Dermatologist")[0])
    client.force_login(user)
    response = client.get(reverse("clinical:assess", args=[clinic.patient.pk]))
    assert response.status_code == 403
    assert "practitioner record" in response.content.decode()


def test_the_api_still_refuses_in_json(client, receptionist, clinic, frozen):
    client.force_login(receptionist)
    response = client.post(reverse("api:assessment-list"), {}, content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


# --- Only what is possible now ---------------------------------------------------------------------


def test_a_future_appointment_offers_neither_check_in_nor_no_show(as_role, clinic, frozen):
    later = book_treatment(clinic, local(22, 10))
    page = page_of(as_role("reception"), reverse("scheduling:appointment", args=[later.pk]))
    assert reverse("scheduling:appointment_check_in", args=[later.pk]) not in page
    assert reverse("scheduling:appointment_no_show", args=[later.pk]) not in page
    assert reverse("scheduling:appointment_reschedule", args=[later.pk]) in page
    assert reverse("scheduling:appointment_cancel", args=[later.pk]) in page


def test_today_offers_check_in_and_no_show_only_once_it_has_started(as_role, clinic, frozen, time_machine):
    today = book_treatment(clinic, local(1, 10))
    url = reverse("scheduling:appointment", args=[today.pk])
    page = page_of(as_role("reception"), url)
    assert reverse("scheduling:appointment_check_in", args=[today.pk]) in page
    assert reverse("scheduling:appointment_no_show", args=[today.pk]) not in page
    time_machine.move_to(local(1, 10, 20), tick=False)
    page = page_of(as_role("reception"), url)
    assert reverse("scheduling:appointment_no_show", args=[today.pk]) in page


def test_deferring_a_consultation_is_refused_and_changes_nothing(as_role, clinic, frozen, time_machine):
    visit = consultation(clinic, local(1, 10))
    time_machine.move_to(local(1, 9, 55), tick=False)
    appointment_check_in(appointment=visit)
    emails = Notification.objects.count()
    response = as_role("derm").post(reverse("scheduling:appointment_defer", args=[visit.pk]), follow=True)
    assert response.status_code == 200
    assert said(response) == ["Only a treatment session is deferred; a consultation is cancelled instead."]
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CHECKED_IN and visit.cancel_reason == ""
    assert Notification.objects.count() == emails


def test_the_defer_service_refuses_before_it_changes_anything(clinic, frozen, time_machine):
    visit = consultation(clinic, local(1, 10))
    session = book_treatment(clinic, local(1, 11))
    time_machine.move_to(local(1, 9, 55), tick=False)
    appointment_check_in(appointment=visit)
    for appointment in (visit, session):  # a consultation; a treatment not checked in
        before = Appointment.objects.filter(pk=appointment.pk).values().get()
        emails = list(Notification.objects.values_list("pk", "status"))
        with pytest.raises(IllegalTransition):
            appointment_defer(appointment=appointment)
        assert Appointment.objects.filter(pk=appointment.pk).values().get() == before
        assert list(Notification.objects.values_list("pk", "status")) == emails


def test_not_today_asks_for_confirmation_first(as_role, clinic, frozen, time_machine):
    session = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 9, 55), tick=False)
    appointment_check_in(appointment=session, flags=["recent tan"])
    derm = as_role("derm")
    defer = reverse("scheduling:appointment_defer", args=[session.pk])
    page = page_of(derm, reverse("scheduling:appointment", args=[session.pk]))
    assert f'action="{defer}"' not in page  # no one-click cancellation on the appointment page
    assert f'href="{defer}"' in page
    confirm = page_of(derm, defer)
    assert f'action="{defer}"' in confirm and "Call off the session" in confirm
    session.refresh_from_db()
    assert session.status == Appointment.Status.CHECKED_IN  # looking at the question changes nothing
    derm.post(defer)
    session.refresh_from_db()
    assert session.status == Appointment.Status.CANCELLED


def test_approving_a_course_asks_for_confirmation_first(as_role, clinic, frozen):
    proposed = TreatmentCourseFactory(patient=clinic.patient)
    derm = as_role("derm")
    approve = reverse("clinical:approve", args=[proposed.pk])
    review = page_of(derm, reverse("clinical:review"))
    assert f'action="{approve}"' not in review and f'href="{approve}"' in review
    confirm = page_of(derm, approve)
    assert f'action="{approve}"' in confirm and "Approve the course" in confirm
    proposed.refresh_from_db()
    assert proposed.status == TreatmentCourse.Status.PROPOSED
    derm.post(approve)
    proposed.refresh_from_db()
    assert proposed.status == TreatmentCourse.Status.APPROVED


# --- Every next step is a link ---------------------------------------------------------------------


def test_the_patient_page_leads_the_dermatologist_to_assess_and_propose(as_role, clinic, frozen, dermatologist):
    found = AssessmentFactory(patient=clinic.patient, dermatologist=dermatologist, conditions=[condition()])
    not_candidate = AssessmentFactory(patient=clinic.patient, dermatologist=dermatologist, candidate=False,
                                      conditions=[condition()])  # fmt: skip
    url = reverse("patients:detail", args=[clinic.patient.pk])
    page = page_of(as_role("derm"), url)
    assert reverse("clinical:assess", args=[clinic.patient.pk]) in page
    assert reverse("clinical:propose", args=[found.pk]) in page
    assert reverse("clinical:propose", args=[not_candidate.pk]) not in page
    for role in ("reception", "manager"):
        page = page_of(as_role(role), url)
        assert reverse("clinical:assess", args=[clinic.patient.pk]) not in page
        assert reverse("clinical:propose", args=[found.pk]) not in page


def test_a_proposal_already_made_is_not_offered_again(as_role, clinic, frozen, dermatologist):
    found = AssessmentFactory(patient=clinic.patient, dermatologist=dermatologist, conditions=[condition()])
    TreatmentCourseFactory(patient=clinic.patient, assessment=found, condition=condition())
    page = page_of(as_role("derm"), reverse("patients:detail", args=[clinic.patient.pk]))
    assert reverse("clinical:propose", args=[found.pk]) not in page


def test_the_patient_page_offers_reception_to_book_a_consultation_or_review(as_role, clinic, frozen):
    url = reverse("patients:detail", args=[clinic.patient.pk])
    for role in ("reception", "derm"):
        page = page_of(as_role(role), url)
        assert book_visit_url(clinic.patient, "consultation") in page
        assert book_visit_url(clinic.patient, "review") in page
    page = page_of(as_role("manager"), url)
    assert reverse("scheduling:book_visit") not in page


def test_a_checked_in_session_without_a_flag_leads_the_dermatologist_to_record_it(
    as_role, clinic, frozen, time_machine
):
    session = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 9, 55), tick=False)
    appointment_check_in(appointment=session)
    record = reverse("clinical:record", args=[session.pk])
    for url in (
        reverse("scheduling:appointment", args=[session.pk]),
        reverse("patients:detail", args=[clinic.patient.pk]),
    ):
        assert record in page_of(as_role("derm"), url)
        assert record not in page_of(as_role("reception"), url)
        assert record not in page_of(as_role("manager"), url)
    appointment_complete(appointment=session, record=RECORD)
    assert record not in page_of(as_role("derm"), reverse("scheduling:appointment", args=[session.pk]))


def test_the_appointment_page_leads_to_the_next_bookings(as_role, clinic, frozen):
    session = book_treatment(clinic, local(22, 10))
    url = reverse("scheduling:appointment", args=[session.pk])
    page = page_of(as_role("reception"), url)
    assert book_visit_url(clinic.patient, "consultation") in page
    assert book_visit_url(clinic.patient, "review") in page
    assert reverse("scheduling:course_book", args=[clinic.course.pk]) in page  # sessions are left
    page = page_of(as_role("manager"), url)
    assert reverse("scheduling:book_visit") not in page
    assert reverse("scheduling:course_book", args=[clinic.course.pk]) not in page


def test_a_course_with_every_session_booked_offers_no_next_session(as_role, clinic, frozen):
    clinic.course.planned_sessions = 1
    clinic.course.save()
    session = book_treatment(clinic, local(22, 10))
    page = page_of(as_role("reception"), reverse("scheduling:appointment", args=[session.pk]))
    assert reverse("scheduling:course_book", args=[clinic.course.pk]) not in page


def test_a_consultation_leads_the_dermatologist_to_the_assessment_and_then_the_proposal(
    as_role, clinic, frozen, dermatologist
):
    visit = consultation(clinic, local(1, 10))
    url = reverse("scheduling:appointment", args=[visit.pk])
    assess = reverse("clinical:assess", args=[clinic.patient.pk])
    assert assess in page_of(as_role("derm"), url)
    assert assess not in page_of(as_role("reception"), url)
    found = AssessmentFactory(patient=clinic.patient, dermatologist=dermatologist, conditions=[condition()])
    propose = reverse("clinical:propose", args=[found.pk])
    assert propose in page_of(as_role("derm"), url)
    assert propose not in page_of(as_role("reception"), url)


def test_search_results_offer_booking_a_consultation_or_review(as_role, clinic, frozen):
    url = f"{reverse('patients:search')}?q=Byron"
    for partial in (False, True):
        headers = {"HX-Request": "true"} if partial else {}
        page = as_role("reception").get(url, headers=headers).content.decode()
        assert book_visit_url(clinic.patient, "consultation") in page
        assert book_visit_url(clinic.patient, "review") in page
        page = as_role("manager").get(url, headers=headers).content.decode()
        assert reverse("scheduling:book_visit") not in page


def test_the_results_queue_offers_booking_the_review(as_role, clinic, frozen):
    done = TreatmentCourseFactory(patient=PatientFactory(), approved=True, status=TreatmentCourse.Status.COMPLETED)
    page = page_of(as_role("derm"), reverse("clinical:results"))
    assert book_visit_url(done.patient, "review") in page
    page = page_of(as_role("manager"), reverse("clinical:results"))
    assert reverse("scheduling:book_visit") not in page


def test_an_erased_patient_offers_no_next_step(as_role, clinic, frozen, dermatologist):
    patient = PatientFactory()
    AssessmentFactory(patient=patient, dermatologist=dermatologist, conditions=[condition()])
    patient.erased_at = frozen
    patient.save()
    page = page_of(as_role("derm"), reverse("patients:detail", args=[patient.pk]))
    assert reverse("clinical:assess", args=[patient.pk]) not in page
    assert reverse("scheduling:book_visit") not in page
    assert "/propose/" not in page


def test_a_checked_in_consultation_is_completed_on_its_page_by_the_dermatologist(as_role, clinic, frozen, time_machine):
    visit = consultation(clinic, local(1, 10))
    time_machine.move_to(local(1, 9, 55), tick=False)
    appointment_check_in(appointment=visit)
    complete = reverse("scheduling:appointment_complete", args=[visit.pk])
    desk = page_of(as_role("reception"), reverse("scheduling:appointment", args=[visit.pk]))
    assert complete not in desk and "the dermatologist marks the consultation completed" in desk
    assert as_role("reception").post(complete).status_code == 403
    assert complete in page_of(as_role("derm"), reverse("scheduling:appointment", args=[visit.pk]))
    response = as_role("derm").post(complete, follow=True)
    assert said(response) == ["The consultation is recorded as completed."]
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED
    assert complete not in response.content.decode()  # nothing more to complete


def test_a_treatment_is_not_completed_without_its_session_record(as_role, clinic, frozen, time_machine):
    session = book_treatment(clinic, local(1, 11))
    time_machine.move_to(local(1, 10, 55), tick=False)
    appointment_check_in(appointment=session)
    complete = reverse("scheduling:appointment_complete", args=[session.pk])
    assert complete not in page_of(as_role("derm"), reverse("scheduling:appointment", args=[session.pk]))
    response = as_role("derm").post(complete, follow=True)
    assert said(response) == ["Record the laser settings to complete a treatment."]
    session.refresh_from_db()
    assert session.status == Appointment.Status.CHECKED_IN
