"""The matrix keeps clinical text to `view_clinical` (dermatologists): a manager reads courses and
the audit log in the admin, but not the course notes, assessments or session records in them."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from clinical.models import Assessment, TreatmentCourse
from scheduling.models import SessionRecord
from tests.factories import AssessmentFactory, SessionRecordFactory, TreatmentCourseFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRETS = ("OLD-COURSE-NOTE", "NEW-COURSE-NOTE", "ASSESSMENT-NOTE", "SESSION-NOTE")


@pytest.fixture
def clinical_history():
    """A course whose notes changed, an assessment and a session record with notes: each audited."""
    course = TreatmentCourseFactory(notes="OLD-COURSE-NOTE")
    course.notes = "NEW-COURSE-NOTE"
    course.save()
    assessment = AssessmentFactory(patient=course.patient, notes="ASSESSMENT-NOTE", candidate=False)
    record = SessionRecordFactory(notes="SESSION-NOTE")
    return course, assessment, record


def _entries(model, pk):
    return LogEntry.objects.get_for_object(model.objects.get(pk=pk))


def _pages(course, assessment, record):
    """Every admin page of the log and the course that could show a clinical value."""
    pages = [
        reverse("admin:clinical_treatmentcourse_change", args=[course.pk]),
        reverse("admin:clinical_treatmentcourse_history", args=[course.pk]),
        reverse("admin:clinical_treatmentcourse_changelist"),
        reverse("admin:auditlog_logentry_changelist"),
        reverse("admin:auditlog_logentry_changelist") + "?q=NOTE",
        reverse("admin:patients_patient_change", args=[course.patient.pk]),
        reverse("patients:detail", args=[course.patient.pk]),
    ]
    for model, pk in ((TreatmentCourse, course.pk), (Assessment, assessment.pk), (SessionRecord, record.pk)):
        pages += [reverse("admin:auditlog_logentry_change", args=[entry.pk]) for entry in _entries(model, pk)]
    return pages


def test_a_manager_reads_courses_and_the_log_without_their_clinical_text(client, manager, clinical_history):
    client.force_login(manager)
    for url in _pages(*clinical_history):
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        for secret in SECRETS:
            assert secret not in content, (url, secret)
        assert "not a candidate" not in content, url  # the assessment's verdict, in its description


def test_a_managers_search_of_the_log_cannot_find_entries_by_their_clinical_text(client, manager, clinical_history):
    client.force_login(manager)
    response = client.get(reverse("admin:auditlog_logentry_changelist"), {"q": "SESSION-NOTE"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_a_manager_still_sees_that_the_notes_changed_and_the_other_values(client, manager, clinical_history):
    course, _, _ = clinical_history
    client.force_login(manager)
    updates = _entries(TreatmentCourse, course.pk).filter(action=LogEntry.Action.UPDATE)
    [entry] = [entry for entry in updates if "notes" in entry.changes_dict]
    content = client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk])).content.decode()
    assert "Notes" in content and "hidden" in content
    created = _entries(TreatmentCourse, course.pk).filter(action=LogEntry.Action.CREATE).get()
    content = client.get(reverse("admin:auditlog_logentry_change", args=[created.pk])).content.decode()
    assert str(course.planned_sessions) in content  # the plan is not clinical text


def test_a_clinician_with_the_admin_sees_the_values(client, clinical_history):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    course, assessment, record = clinical_history
    seen = "".join(client.get(url).content.decode() for url in _pages(course, assessment, record))
    for secret in SECRETS:
        assert secret in seen, secret
