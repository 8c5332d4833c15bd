"""The outcome on the pages: the score on the session record form, the course page with its chart
and table, the results review's form, and the links to the course page."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Condition
from clinical.models import CourseDecision, TreatmentCourse
from scheduling.models import Appointment, SessionRecord
from scheduling.services import appointment_check_in
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, SessionRecordFactory, TreatmentCourseFactory

pytestmark = pytest.mark.django_db
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.50", spot_size_mm="4.0", pulses=900, skin_reaction="none")


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def checked_in(clinic, frozen, time_machine):
    session = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 9, 55), tick=False)
    return appointment_check_in(appointment=session)


def test_the_session_form_types_a_clearance_as_a_percentage(client, dermatologist, checked_in):
    client.force_login(dermatologist.user)
    url = reverse("clinical:record", args=[checked_in.pk])
    html = client.get(url).content.decode()
    assert 'type="number" name="outcome_score"' in html
    assert "estimated clearance, %" in html
    response = client.post(url, RECORD | {"outcome_score": "120", "notes": "Kept."})
    assert response.status_code == 200
    assert response.context["form"].errors["outcome_score"] == ["Estimated clearance is a percentage from 0 to 100."]
    assert "Kept." in response.content.decode()
    assert not SessionRecord.objects.exists()
    client.post(url, RECORD | {"outcome_score": "40"})
    assert SessionRecord.objects.get().outcome_score == 40


def test_the_session_form_offers_the_improvement_scale_in_words(client, dermatologist, clinic, checked_in):
    clinic.course.condition = Condition.objects.get(slug="wrinkles-fine-lines")
    clinic.course.save()
    client.force_login(dermatologist.user)
    url = reverse("clinical:record", args=[checked_in.pk])
    html = client.get(url).content.decode()
    assert '<select name="outcome_score"' in html
    for words in ("0 · None", "1 · Slight", "2 · Moderate", "3 · Marked", "4 · Complete or near complete"):
        assert words in html
    response = client.post(url, RECORD | {"outcome_score": "7"})
    assert "Choose a point of the improvement scale" in response.context["form"].errors["outcome_score"][0]
    client.post(url, RECORD | {"outcome_score": "3"})
    assert SessionRecord.objects.get().outcome_score == 3


def _finished(clinic, scores=(None, 20, 45), earlier=timedelta(0)):
    course = clinic.course
    course.status, course.planned_sessions = TreatmentCourse.Status.COMPLETED, len(scores)
    course.save()
    for index, score in enumerate(scores):
        session = AppointmentFactory(
            kind="treatment", patient=clinic.patient, course=course, device=clinic.device,
            start=timezone.now() - earlier - timedelta(weeks=6 * (len(scores) - index)),
            status=Appointment.Status.COMPLETED,
        )  # fmt: skip
        SessionRecordFactory(appointment=session, outcome_score=score, fluence_j_cm2=f"{2 + index}.00")
    return course


def test_the_course_page_shows_the_sessions_in_order_and_their_chart(client, dermatologist, clinic, frozen):
    course = _finished(clinic)
    client.force_login(dermatologist.user)
    response = client.get(reverse("clinical:course", args=[course.pk]))
    html = response.content.decode()
    assert [s.record.outcome_score for s in response.context["outcome"].sessions] == [None, 20, 45]
    assert html.index("2.00 J/cm²") < html.index("3.00 J/cm²") < html.index("4.00 J/cm²")
    assert "Not scored" in html and "20 %" in html and "Mild redness" in html
    assert "<svg" in html and "<polyline" in html and "style=" not in html.split("<svg", 1)[1].split("</svg>")[0]
    assert 'aria-labelledby="outcome-chart-title outcome-chart-desc"' in html
    assert reverse("patients:detail", args=[clinic.patient.pk]) in html  # the list of the course's pages
    assert LogEntry.objects.filter(additional_data__opened="course page").count() == 1


def test_the_course_page_costs_the_same_queries_however_many_sessions(client, dermatologist, clinic, frozen):
    client.force_login(dermatologist.user)
    url = reverse("clinical:course", args=[clinic.course.pk])
    _finished(clinic, scores=(10,))
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _finished(clinic, scores=(10, 20, 30, 40), earlier=timedelta(days=1))
    with CaptureQueriesContext(connection) as more:
        assert len(client.get(url).context["outcome"].sessions) == 5
    assert len(more) == len(few)


def test_an_empty_course_page_renders(client, dermatologist):
    course = TreatmentCourseFactory(approved=True)
    client.force_login(dermatologist.user)
    html = client.get(reverse("clinical:course", args=[course.pk])).content.decode()
    assert "No outcome scores recorded yet" in html and "No session booked or done yet" in html
    assert "Record the results review" not in html


def test_the_review_form_refuses_too_many_sessions_on_the_form_and_keeps_the_input(
    client, dermatologist, clinic, frozen
):
    course = _finished(clinic)  # 3 planned; tattoo removal allows 10
    client.force_login(dermatologist.user)
    page = client.get(reverse("clinical:course", args=[course.pk])).content.decode()
    assert "Record the results review" in page and "up to 7 more" in page
    url = reverse("clinical:course_decision", args=[course.pk])
    response = client.post(url, {"outcome_score": "50", "decision": "add_sessions", "added_sessions": "9"})
    assert response.status_code == 400
    assert "so it can add at most 7 more" in response.context["form"].errors["added_sessions"][0]
    assert 'value="9"' in response.content.decode()
    assert not CourseDecision.objects.exists()
    response = client.post(url, {"outcome_score": "50", "decision": "add_sessions", "added_sessions": "2"})
    assert response["Location"] == reverse("clinical:course", args=[course.pk])
    assert said(response) == ["Results reviewed: 2 sessions added. Reception can now book them."]
    course.refresh_from_db()
    assert (course.status, course.planned_sessions) == (TreatmentCourse.Status.ACTIVE, 5)
    html = client.get(reverse("clinical:course", args=[course.pk])).content.decode()
    assert "Add sessions</strong>: 2 more sessions" in html and "course outcome 50 %" in html
    assert "Record the results review" not in html


def test_an_empty_review_is_refused_field_by_field(client, dermatologist, clinic, frozen):
    course = _finished(clinic)
    client.force_login(dermatologist.user)
    response = client.post(reverse("clinical:course_decision", args=[course.pk]), {})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"outcome_score", "decision"}
    response = client.post(
        reverse("clinical:course_decision", args=[course.pk]), {"outcome_score": "5", "decision": "stop"}
    )
    assert response.context["form"].errors["reason"] == ["Say why the treatment stops."]


def test_a_review_of_a_course_still_running_is_refused_with_the_reason(client, dermatologist, clinic, frozen):
    client.force_login(dermatologist.user)
    response = client.post(
        reverse("clinical:course_decision", args=[clinic.course.pk]), {"outcome_score": "50", "decision": "complete"}
    )
    assert response["Location"] == reverse("clinical:course", args=[clinic.course.pk])
    assert "its results are reviewed once its planned sessions are done" in said(response)[0]


def test_the_results_queue_and_the_patient_page_link_the_course_page(client, dermatologist, manager, clinic, frozen):
    course = _finished(clinic)
    link = reverse("clinical:course", args=[course.pk])
    client.force_login(dermatologist.user)
    assert link in client.get(reverse("clinical:results")).content.decode()
    assert link in client.get(reverse("patients:detail", args=[clinic.patient.pk])).content.decode()
    client.force_login(manager)  # oversees the queue, but the course page is the clinical record
    assert link not in client.get(reverse("clinical:results")).content.decode()
    assert client.get(link).status_code == 403
    client.force_login(dermatologist.user)
    client.post(reverse("clinical:course_decision", args=[course.pk]), {"outcome_score": "90", "decision": "complete"})
    assert link not in client.get(reverse("clinical:results")).content.decode()


def test_a_manager_sets_a_conditions_scale_in_the_admin(client, manager):
    condition = Condition.objects.get(slug="pigmentation")
    client.force_login(manager)
    url = reverse("admin:catalogue_condition_change", args=[condition.pk])
    assert "Estimated clearance (0–100 %)" in client.get(url).content.decode()
    fields = ("name", "slug", "default_sessions", "min_sessions", "max_sessions", "min_interval_days")
    form = {field: getattr(condition, field) for field in fields + ("max_interval_days", "aftercare_text")}
    assert client.post(url, form | {"active": "on", "outcome_scale": "improvement"}).status_code == 302
    condition.refresh_from_db()
    assert condition.outcome_scale == Condition.OutcomeScale.IMPROVEMENT
