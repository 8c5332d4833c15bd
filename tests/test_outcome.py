"""Outcome scores: the condition's scale and its one rule, the session record's score through the
service and the API, the results review's decision (complete, add sessions, stop), and the chart."""

import json
import xml.etree.ElementTree as ET  # nosec B405 # parses the chart this project drew, not outside input
from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.test import APIClient

from catalogue.models import Condition
from catalogue.outcome import score_error, score_words
from clinic.errors import IllegalTransition, SchedulingError
from clinical.models import CourseDecision, TreatmentCourse
from clinical.services.outcome import course_decide, undecided
from records.outcome_chart import ChartPoint, outcome_chart
from records.privacy import patient_erase, patient_export
from scheduling.models import Appointment, SessionRecord
from scheduling.services import appointment_check_in, appointment_complete
from scheduling.services.course_rules import check_course_bookable, takes_another_session
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, LaserDeviceFactory, PractitionerFactory, TreatmentCourseFactory

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
RECORD = dict(wavelength_nm=1064, fluence_j_cm2="2.50", spot_size_mm="4.0", pulses=900, skin_reaction="none")


def test_the_seeded_conditions_have_their_scale():
    scales = dict(Condition.objects.values_list("slug", "outcome_scale"))
    assert scales == {
        "tattoo-removal": "clearance",
        "pigmentation": "clearance",
        "acne-scars": "improvement",
        "wrinkles-fine-lines": "improvement",
    }


@pytest.mark.parametrize("score", [None, 0, 1, 55, 100])
def test_clearance_takes_a_percentage(score):
    assert score_error(Condition.OutcomeScale.CLEARANCE, score) is None


@pytest.mark.parametrize("score", [-1, 101, 1000, True, 2.5, "40"])
def test_clearance_refuses_what_is_not_a_percentage(score):
    assert score_error(Condition.OutcomeScale.CLEARANCE, score)


@pytest.mark.parametrize("score", [None, 0, 2, 4])
def test_improvement_takes_0_to_4(score):
    assert score_error(Condition.OutcomeScale.IMPROVEMENT, score) is None


@pytest.mark.parametrize("score", [-1, 5, 40, False])
def test_improvement_refuses_what_is_off_its_scale(score):
    error = score_error(Condition.OutcomeScale.IMPROVEMENT, score)
    assert error and ("0 (none) to 4" in error or "whole number" in error)


def test_each_point_of_the_improvement_scale_has_its_words():
    words = [score_words(Condition.OutcomeScale.IMPROVEMENT, point) for point in range(5)]
    assert words == ["0 · None", "1 · Slight", "2 · Moderate", "3 · Marked", "4 · Complete or near complete"]
    assert score_words(Condition.OutcomeScale.CLEARANCE, 40) == "40 %"


# --- The session record's score ----------------------------------------------------------------


@pytest.fixture
def checked_in(clinic, frozen, time_machine):
    session = book_treatment(clinic, local(1, 10))
    time_machine.move_to(local(1, 9, 55), tick=False)
    return appointment_check_in(appointment=session)


def test_a_session_record_keeps_a_score_that_fits_the_scale(checked_in):
    appointment_complete(appointment=checked_in, record=RECORD | {"outcome_score": 35})
    assert SessionRecord.objects.get(appointment=checked_in).outcome_score == 35


def test_a_session_record_refuses_a_score_off_the_scale_and_saves_nothing(checked_in):
    with pytest.raises(SchedulingError) as refused:
        appointment_complete(appointment=checked_in, record=RECORD | {"outcome_score": 140})
    assert refused.value.field == "outcome_score"
    assert "percentage from 0 to 100" in refused.value.message
    checked_in.refresh_from_db()
    assert checked_in.status == Appointment.Status.CHECKED_IN
    assert not SessionRecord.objects.exists()


def test_an_improvement_course_refuses_a_percentage(checked_in, clinic):
    clinic.course.condition = Condition.objects.get(slug="acne-scars")
    clinic.course.save()
    with pytest.raises(SchedulingError, match="improvement scale runs from 0"):
        appointment_complete(appointment=checked_in, record=RECORD | {"outcome_score": 35})
    appointment_complete(appointment=checked_in, record=RECORD | {"outcome_score": 3})
    assert checked_in.session_record.outcome_score == 3


def test_the_api_checks_the_score_against_the_condition(checked_in, dermatologist):
    api = APIClient()
    api.force_authenticate(dermatologist.user)
    url = f"/api/v1/appointments/{checked_in.pk}/complete/"
    refused = api.post(url, RECORD | {"outcome_score": 101}, format="json")
    assert refused.status_code == 400
    assert "percentage from 0 to 100" in refused.json()["outcome_score"][0]
    assert api.post(url, RECORD | {"outcome_score": 60}, format="json").status_code == 200
    assert SessionRecord.objects.get().outcome_score == 60


# --- The results review ---------------------------------------------------------------------------


def completed(planned=8, slug="tattoo-removal", **overrides):
    course = TreatmentCourseFactory(
        approved=True,
        condition=Condition.objects.get(slug=slug),
        status=TreatmentCourse.Status.COMPLETED,
        planned_sessions=planned,
        **overrides,
    )
    AppointmentFactory(
        kind="treatment", patient=course.patient, course=course, device=LaserDeviceFactory(),
        start=timezone.now() - timedelta(days=30), status=Appointment.Status.COMPLETED,
    )  # fmt: skip
    return course


def test_complete_records_the_score_and_leaves_the_course_done(dermatologist, frozen):
    course = completed()
    review = course_decide(course=course, by=dermatologist, outcome_score=90, decision="complete")
    course.refresh_from_db()
    assert (course.status, course.planned_sessions) == (TreatmentCourse.Status.COMPLETED, 8)
    assert (review.sessions, review.outcome_score, review.decided_by, review.decided_at) == (
        8,
        90,
        dermatologist,
        frozen,
    )
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(CourseDecision), object_id=review.pk)
    assert entry.action == LogEntry.Action.CREATE


def test_adding_sessions_within_the_protocol_makes_the_course_bookable_again(dermatologist, frozen):
    course = completed(planned=8)  # tattoo removal allows 10
    course_decide(course=course, by=dermatologist, outcome_score=60, decision="add_sessions", added_sessions=2)
    course.refresh_from_db()
    assert (course.status, course.planned_sessions) == (TreatmentCourse.Status.ACTIVE, 10)
    check_course_bookable(course)
    assert takes_another_session(course, held=1)
    changes = [entry.changes_dict for entry in LogEntry.objects.get_for_object(course)]
    assert {"planned_sessions": ["8", "10"], "status": ["completed", "active"]} in changes


def test_a_course_given_more_sessions_takes_a_booking(clinic, dermatologist, frozen):
    clinic.course.status = TreatmentCourse.Status.COMPLETED
    clinic.course.planned_sessions = 1
    clinic.course.save()
    AppointmentFactory(
        kind="treatment", patient=clinic.patient, course=clinic.course, device=clinic.device,
        start=timezone.now() - timedelta(days=50), status=Appointment.Status.COMPLETED,
    )  # fmt: skip
    with pytest.raises(SchedulingError, match="completed"):
        book_treatment(clinic, local(2, 10))
    course_decide(course=clinic.course, by=dermatologist, outcome_score=50, decision="add_sessions", added_sessions=1)
    session = book_treatment(clinic, local(2, 10))
    assert session.session_number == 2


@pytest.mark.parametrize(
    "planned, added, words",
    [
        (8, 3, "allows up to 10 sessions and this course has 8, so it can add at most 2 more"),
        (10, 1, "so it can add none: complete or stop the course instead"),
        (8, 0, "at least one"),
        (8, None, "at least one"),
    ],
)
def test_adding_sessions_beyond_the_protocol_is_refused_clearly(dermatologist, frozen, planned, added, words):
    course = completed(planned=planned)
    with pytest.raises(SchedulingError) as refused:
        course_decide(course=course, by=dermatologist, outcome_score=60, decision="add_sessions", added_sessions=added)
    assert refused.value.field == "added_sessions"
    assert words in refused.value.message
    course.refresh_from_db()
    assert (course.status, course.planned_sessions) == (TreatmentCourse.Status.COMPLETED, planned)
    assert not CourseDecision.objects.exists()


def test_stopping_needs_a_reason(dermatologist, frozen):
    course = completed(slug="acne-scars", planned=4)
    with pytest.raises(SchedulingError, match="Say why") as refused:
        course_decide(course=course, by=dermatologist, outcome_score=1, decision="stop", reason="  ")
    assert refused.value.field == "reason"
    review = course_decide(course=course, by=dermatologist, outcome_score=1, decision="stop", reason="No response.")
    assert (review.decision, review.reason, review.added_sessions) == ("stop", "No response.", None)
    course.refresh_from_db()
    assert course.status == TreatmentCourse.Status.COMPLETED


@pytest.mark.parametrize("slug, score", [("acne-scars", 5), ("tattoo-removal", 101), ("tattoo-removal", None)])
def test_the_course_score_fits_the_condition_scale(dermatologist, frozen, slug, score):
    course = completed(slug=slug, planned=4 if slug == "acne-scars" else 8)
    with pytest.raises(SchedulingError) as refused:
        course_decide(course=course, by=dermatologist, outcome_score=score, decision="complete")
    assert refused.value.field == "outcome_score"


def test_only_a_dermatologist_decides(frozen):
    course = completed()
    nurse = PractitionerFactory(role="laser_nurse")
    for who in (None, nurse, PractitionerFactory(active=False)):
        with pytest.raises(SchedulingError, match="Only a dermatologist"):
            course_decide(course=course, by=who, outcome_score=50, decision="complete")
    assert not CourseDecision.objects.exists()


def test_an_active_course_or_one_reviewed_already_is_refused(clinic, dermatologist, frozen):
    with pytest.raises(IllegalTransition, match="approved: its results are reviewed once"):
        course_decide(course=clinic.course, by=dermatologist, outcome_score=50, decision="complete")
    course = completed()
    course_decide(course=course, by=dermatologist, outcome_score=50, decision="complete")
    with pytest.raises(IllegalTransition, match="reviewed already"):
        course_decide(course=course, by=dermatologist, outcome_score=70, decision="complete")


def test_the_queue_loses_a_decided_course_and_regains_it_when_its_added_sessions_are_done(dermatologist, frozen):
    kept, decided, extended = completed(), completed(), completed()
    course_decide(course=decided, by=dermatologist, outcome_score=95, decision="complete")
    course_decide(course=extended, by=dermatologist, outcome_score=60, decision="add_sessions", added_sessions=1)
    done = undecided(TreatmentCourse.objects.filter(status=TreatmentCourse.Status.COMPLETED))
    assert list(done) == [kept]
    extended.status = TreatmentCourse.Status.COMPLETED  # as course_rules.refresh_course sets it after session 9
    extended.save()
    assert set(undecided(TreatmentCourse.objects.filter(status=TreatmentCourse.Status.COMPLETED))) == {kept, extended}
    course_decide(course=extended, by=dermatologist, outcome_score=85, decision="complete")
    assert [r.sessions for r in extended.decisions.all()] == [8, 9]


# --- The chart ----------------------------------------------------------------------------------


def _parse(markup):
    root = ET.fromstring(str(markup))  # noqa: S314  # nosec B314 # our own chart, not untrusted input
    assert root.tag == f"{SVG}svg"
    assert not [e for e in root.iter() if "style" in e.attrib or e.tag in (f"{SVG}script", f"{SVG}style")]
    return root


def _points(root):
    [line] = root.iter(f"{SVG}polyline")
    return [tuple(map(float, pair.split(","))) for pair in line.get("points").split()]


def test_the_chart_follows_the_scores_session_by_session():
    days = [date(2027, 1, 4) + timedelta(weeks=6 * i) for i in range(4)]
    points = [
        ChartPoint(i + 1, day, score) for i, (day, score) in enumerate(zip(days, [None, 20, 45, 80], strict=True))
    ]
    root = _parse(outcome_chart(points, scale="clearance", title="Tattoo removal <left arm>"))
    drawn = _points(root)
    assert len(drawn) == 3  # the unscored first session has no point
    xs, ys = [x for x, _ in drawn], [y for _, y in drawn]
    assert xs == sorted(xs) and len(set(xs)) == 3
    assert ys[0] > ys[1] > ys[2]  # a higher score is drawn higher up
    # Equal steps in score are equal steps on the page: 20 -> 45 -> 80 %.
    assert (ys[0] - ys[1]) / 25 == pytest.approx((ys[1] - ys[2]) / 35, rel=0.02)
    circles = list(root.iter(f"{SVG}circle"))
    assert [c.find(f"{SVG}title").text for c in circles][2] == "Session 4, 10 May: 80 %"
    assert root.find(f"{SVG}title").text == "Tattoo removal <left arm>"
    assert "session 2 (15 Feb): 20 %" in root.find(f"{SVG}desc").text
    assert root.get("aria-labelledby") == "outcome-chart-title outcome-chart-desc"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"0 %", "100 %", "Estimated clearance (%)", "Session", "1", "4"} <= set(texts)


def test_the_improvement_chart_labels_its_points_in_words():
    points = [ChartPoint(1, date(2027, 1, 4), 0), ChartPoint(2, date(2027, 2, 4), 4)]
    root = _parse(outcome_chart(points, scale="improvement", title="Acne scars"))
    (x1, bottom), (x2, top) = _points(root)
    assert bottom > top
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"0 None", "2 Moderate", "4 Complete"} <= texts


@pytest.mark.parametrize("points", [[], [ChartPoint(1, date(2027, 1, 4), None)]])
def test_an_empty_course_renders_a_chart_that_says_so(points):
    root = _parse(outcome_chart(points, scale="clearance", title="Pigmentation"))
    assert list(root.iter(f"{SVG}polyline")) == []
    assert "No outcome scores recorded yet" in {t.text for t in root.iter(f"{SVG}text")}
    assert "No outcome score has been recorded" in root.find(f"{SVG}desc").text


def test_a_review_is_exported_and_its_reason_erased_with_the_patient(dermatologist, manager, frozen):
    course = completed(slug="acne-scars", planned=4)
    course_decide(course=course, by=dermatologist, outcome_score=1, decision="stop", reason="Mrs Byron moved away.")
    [exported] = json.loads(patient_export(patient=course.patient, by=manager))["courses"]
    assert [(r["decision"], r["outcome_score"], r["reason"]) for r in exported["results_reviews"]] == [
        ("stop", 1, "Mrs Byron moved away.")
    ]
    patient_erase(patient=course.patient, by=manager, reason="Written request")
    review = CourseDecision.objects.get()
    assert (review.reason, review.outcome_score) == ("", 1)
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(CourseDecision))
    assert "Mrs Byron" not in json.dumps(entry.changes_dict)


def test_a_dermatologist_reviews_a_course_over_the_api_and_reception_may_not(dermatologist, receptionist, frozen):
    course = completed(planned=8)
    url = f"/api/v1/courses/{course.pk}/review/"
    desk = APIClient()
    desk.force_authenticate(receptionist)
    assert desk.post(url, {"outcome_score": 60, "decision": "complete"}, format="json").status_code == 403
    api = APIClient()
    api.force_authenticate(dermatologist.user)
    off_scale = api.post(url, {"outcome_score": 140, "decision": "complete"}, format="json")
    assert off_scale.status_code == 400 and "percentage from 0 to 100" in str(off_scale.json())
    no_reason = api.post(url, {"outcome_score": 20, "decision": "stop", "reason": " "}, format="json")
    assert no_reason.status_code == 400 and no_reason.json() == {"reason": ["Say why the treatment stops."]}
    answer = api.post(url, {"outcome_score": 60, "decision": "add_sessions", "added_sessions": 2}, format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["review"]["sessions"], body["review"]["decision"], body["review"]["added_sessions"]) == (
        8, "add_sessions", 2,
    )  # fmt: skip
    assert (body["course"]["planned_sessions"], body["course"]["status"]) == (10, "active")
    again = api.post(url, {"outcome_score": 60, "decision": "complete"}, format="json")
    assert again.status_code == 409 and "active" in again.json()["detail"]
    assert CourseDecision.objects.filter(course=course).count() == 1
