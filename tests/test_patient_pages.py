"""The staff patient pages: search, register, edit, and the patient page."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinical.models import TreatmentCourse
from outbox.models import Notification
from patients.models import Patient
from patients.services import patient_create, patient_update
from scheduling.models import Appointment
from tests.conftest import local
from tests.factories import (
    AppointmentFactory,
    AssessmentFactory,
    PatientFactory,
    SessionRecordFactory,
    TreatmentCourseFactory,
    UserFactory,
    condition,
)

VALID = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "date_of_birth": "1985-12-10",
    "email": "ada@example.com",
    "phone": "+44 7700 900123",
    "skin_type": "2",
    "email_consent": "on",
    "notes": "Prefers mornings",
}


@pytest.fixture
def patient(db):
    return PatientFactory(first_name="Grace", last_name="Hopper", email="grace@example.com", phone="+44 7700 900555")


@pytest.fixture
def personas(receptionist, dermatologist, manager):
    return {
        "receptionist": receptionist,
        "dermatologist": dermatologist.user,
        "manager": manager,
    }


def _urls(patient):
    return {
        "search": reverse("patients:search") + "?q=grace",
        "create": reverse("patients:create"),
        "detail": reverse("patients:detail", args=[patient.pk]),
        "edit": reverse("patients:edit", args=[patient.pk]),
    }


# Who may use which page


@pytest.mark.parametrize("page", ["search", "create", "detail", "edit"])
def test_anonymous_visitors_are_sent_to_log_in(client, patient, page):
    url = _urls(patient)[page]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(
    "persona, page, status",
    [
        ("receptionist", "search", 200),
        ("receptionist", "create", 200),
        ("receptionist", "detail", 200),
        ("receptionist", "edit", 200),
        ("dermatologist", "search", 200),
        ("dermatologist", "create", 200),
        ("dermatologist", "detail", 200),
        ("dermatologist", "edit", 200),
        ("manager", "search", 200),
        ("manager", "create", 403),
        ("manager", "detail", 200),
        ("manager", "edit", 403),
    ],
)
def test_each_role_reaches_only_its_pages(client, personas, patient, persona, page, status):
    client.force_login(personas[persona])
    assert client.get(_urls(patient)[page]).status_code == status


def test_a_user_without_a_role_is_refused(client, patient):
    client.force_login(UserFactory(username="nobody"))
    for url in _urls(patient).values():
        assert client.get(url).status_code == 403


def test_a_manager_cannot_post_changes(client, manager, patient):
    client.force_login(manager)
    assert client.post(reverse("patients:create"), VALID).status_code == 403
    assert client.post(reverse("patients:edit", args=[patient.pk]), VALID).status_code == 403
    assert not Patient.objects.filter(last_name="Lovelace").exists()


def test_an_unknown_patient_is_not_found(client, receptionist):
    client.force_login(receptionist)
    assert client.get(reverse("patients:detail", args=[999999])).status_code == 404
    assert client.get(reverse("patients:edit", args=[999999])).status_code == 404


# Registering and editing


def test_reception_registers_a_patient_and_lands_on_the_patient_page(client, receptionist):
    client.force_login(receptionist)
    response = client.post(reverse("patients:create"), VALID, follow=True)
    patient = Patient.objects.get(last_name="Lovelace")
    assert response.redirect_chain == [(reverse("patients:detail", args=[patient.pk]), 302)]
    assert "Ada Lovelace is registered." in response.content.decode()
    assert (patient.date_of_birth, patient.phone, patient.skin_type, patient.email_consent) == (
        date(1985, 12, 10),
        "+44 7700 900123",
        2,
        True,
    )


def test_a_birth_date_may_be_typed_day_first_and_the_optional_fields_left_empty(client, dermatologist):
    client.force_login(dermatologist.user)
    details = VALID | {"date_of_birth": "10/12/1985", "email": "", "phone": "", "skin_type": "", "notes": ""}
    del details["email_consent"]
    assert client.post(reverse("patients:create"), details).status_code == 302
    patient = Patient.objects.get(last_name="Lovelace")
    assert (patient.date_of_birth, patient.skin_type, patient.email_consent) == (date(1985, 12, 10), None, False)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"date_of_birth": "2027-03-02"}, "cannot be in the future"),
        ({"date_of_birth": "1907-02-28"}, "more than 120 years ago"),
        ({"email": "ada-at-example.com"}, "Enter a valid email address."),
        ({"phone": "call me maybe"}, "Use only digits, spaces, +, - and parentheses."),
        ({"phone": "+44 12 34"}, "7 to 20 digits"),
        ({"phone": "1" * 21}, "7 to 20 digits"),
        ({"skin_type": "7"}, "Select a valid choice."),
        ({"first_name": "  "}, "This field is required."),
    ],
)
def test_a_mistake_keeps_what_was_typed_and_saves_nothing(client, receptionist, frozen, change, message):
    client.force_login(receptionist)
    response = client.post(reverse("patients:create"), VALID | change)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert not Patient.objects.exists()
    for value in ("Lovelace", "ada", "Prefers mornings", *(v for v in change.values() if v.strip())):
        assert value in page


def test_a_refusal_from_the_service_shows_on_the_form(client, receptionist, monkeypatch):
    def refuse(**details):
        raise ValidationError({"phone": ["That number belongs to another patient."]})

    monkeypatch.setattr("patients.services.patient_create", refuse)
    client.force_login(receptionist)
    page = client.post(reverse("patients:create"), VALID).content.decode()
    assert "That number belongs to another patient." in page and 'value="+44 7700 900123"' in page


def test_the_oldest_accepted_birth_date_is_120_years_ago_today(client, receptionist, frozen):
    client.force_login(receptionist)
    assert client.post(reverse("patients:create"), VALID | {"date_of_birth": "1907-03-01"}).status_code == 302
    newborn = {"date_of_birth": "01/03/2027", "email": "newborn@example.com", "phone": ""}  # not a likely duplicate
    assert client.post(reverse("patients:create"), VALID | newborn).status_code == 302


def test_editing_shows_the_current_details_and_saves_changes(client, dermatologist, patient):
    client.force_login(dermatologist.user)
    url = reverse("patients:edit", args=[patient.pk])
    form = client.get(url).content.decode()
    assert 'value="grace@example.com"' in form and 'value="17/05/1990"' in form
    details = VALID | {"first_name": "Grace", "last_name": "Hopper", "phone": "(020) 7946-0000"}
    response = client.post(url, details, follow=True)
    assert response.redirect_chain == [(reverse("patients:detail", args=[patient.pk]), 302)]
    assert "Grace Hopper&#x27;s details are saved." in response.content.decode()
    patient.refresh_from_db()
    assert (patient.phone, patient.email, patient.skin_type) == ("(020) 7946-0000", "ada@example.com", 2)


def test_a_refused_edit_keeps_the_typed_values_and_changes_nothing(client, receptionist, patient):
    client.force_login(receptionist)
    url = reverse("patients:edit", args=[patient.pk])
    response = client.post(url, VALID | {"email": "not-an-email", "skin_type": "7"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Edit Grace Hopper" in page
    assert 'value="not-an-email"' in page and 'value="Lovelace"' in page
    patient.refresh_from_db()
    assert (patient.last_name, patient.email) == ("Hopper", "grace@example.com")


# The services behind the forms


def test_the_service_refuses_bad_details_by_field(db, frozen):
    with pytest.raises(ValidationError) as refused:
        patient_create(
            first_name="Ada", last_name="", date_of_birth=date(2027, 3, 2), phone="12", skin_type=7, email="x"
        )
    assert set(refused.value.message_dict) == {"last_name", "date_of_birth", "phone", "skin_type", "email"}
    assert not Patient.objects.exists()


def test_an_update_checks_only_what_it_changes(patient):
    Patient.objects.filter(pk=patient.pk).update(phone="ext. 12")  # an old record, from before the rules
    patient_update(patient=patient, email="  new@example.com ")
    patient.refresh_from_db()
    assert (patient.email, patient.phone) == ("new@example.com", "ext. 12")
    with pytest.raises(ValidationError):
        patient_update(patient=patient, phone="ext. 13")
    with pytest.raises(TypeError):
        patient_update(patient=patient, created_at=None)


# Search


@pytest.fixture
def three_patients(db):
    return {
        "ada": PatientFactory(
            first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+44 7700 900111",
            date_of_birth=date(1985, 12, 10),
        ),
        "byron": PatientFactory(first_name="Ada", last_name="Byron", email="byron@example.org", phone="020 7946 0222"),
        "grace": PatientFactory(
            first_name="Grace", last_name="Hopper", email="grace@example.com", phone="+44 7700 900555",
            date_of_birth=date(1906, 12, 9),
        ),
    }  # fmt: skip


def _found(client, query, **headers):
    response = client.get(reverse("patients:search"), {"q": query}, headers=headers)
    assert response.status_code == 200
    return {p.last_name for p in response.context["patients"]}


@pytest.mark.parametrize(
    "query, found",
    [
        ("ada", {"Lovelace", "Byron"}),
        ("ada love", {"Lovelace"}),
        ("LOVELACE ADA", {"Lovelace"}),
        ("ada hopper", set()),
        ("byron@example", {"Byron"}),
        ("example.com", {"Lovelace", "Hopper"}),
        ("7700900555", {"Hopper"}),
        ("+44 7700 900 555", {"Hopper"}),
        ("020-7946-0222", {"Byron"}),
        ("1985-12-10", {"Lovelace"}),
        ("09/12/1906", {"Hopper"}),
        ("31/02/1985", set()),
        ("", set()),
    ],
)
def test_search_finds_patients_by_name_email_phone_or_birth_date(client, receptionist, three_patients, query, found):
    client.force_login(receptionist)
    assert _found(client, query) == found


def test_search_lists_details_and_the_next_appointment_linking_to_the_patient(
    client, receptionist, three_patients, frozen
):
    ada = three_patients["ada"]
    AppointmentFactory(patient=ada, start=local(1, 7), status=Appointment.Status.COMPLETED)
    cancelled = AppointmentFactory(patient=ada, start=local(3, 10), status=Appointment.Status.CANCELLED)
    upcoming = AppointmentFactory(patient=ada, start=local(5, 11))
    AppointmentFactory(patient=ada, start=local(9, 11))
    client.force_login(receptionist)
    page = client.get(reverse("patients:search"), {"q": "lovelace"}).content.decode()
    assert f'href="{reverse("patients:detail", args=[ada.pk])}"' in page
    assert "10 Dec 1985" in page and "+44 7700 900111" in page and "ada@example.com" in page
    assert f'href="/appointments/{upcoming.pk}/">Fri 5 Mar 2027, 11:00' in page
    assert f"/appointments/{cancelled.pk}/" not in page


def test_an_htmx_search_returns_only_the_results(client, dermatologist, three_patients):
    client.force_login(dermatologist.user)
    response = client.get(reverse("patients:search"), {"q": "hopper"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and "Hopper" in page
    assert [t.name for t in response.templates] == ["patients/_search_results.html"]
    assert "HX-Request" in response["Vary"]
    full = client.get(reverse("patients:search"), {"q": "hopper"}).content.decode()
    assert "<html" in full and 'hx-get="/patients/search/"' in full


def test_htmx_restoring_history_gets_the_whole_page(client, receptionist, three_patients):
    client.force_login(receptionist)
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    response = client.get(reverse("patients:search"), {"q": "hopper"}, headers=headers)
    assert "<html" in response.content.decode()


@pytest.mark.parametrize("query", ["ada\x00", "x" * 500, "%", "_", "' OR 1=1 --", "1985-13-45", "+", "()"])
def test_odd_searches_answer_calmly(client, receptionist, three_patients, query):
    client.force_login(receptionist)
    response = client.get(reverse("patients:search"), {"q": query})
    assert response.status_code == 200
    assert len(response.context["patients"]) <= 2


def test_an_empty_search_explains_what_to_type(client, receptionist, three_patients):
    client.force_login(receptionist)
    response = client.get(reverse("patients:search"), {"q": "   "}, headers={"HX-Request": "true"})
    assert "Type part of a name" in response.content.decode()
    assert response.context["patients"] == []


def test_no_match_offers_to_add_a_patient_to_those_who_may(client, receptionist, manager, three_patients):
    client.force_login(receptionist)
    page = client.get(reverse("patients:search"), {"q": "Turing"}).content.decode()
    assert "No patient matches “Turing”" in page
    assert f'href="{reverse("patients:create")}">add a new patient' in page
    client.force_login(manager)
    page = client.get(reverse("patients:search"), {"q": "Turing"}).content.decode()
    assert "No patient matches “Turing”" in page and "add a new patient" not in page


# The patient page


@pytest.fixture
def history(clinic, frozen):
    """Ada Byron, two sessions into her tattoo-removal course: session 1 done on 1 February with a
    record and a clinical assessment, session 2 booked for 29 March, and the emails about them."""
    course = clinic.course
    TreatmentCourse.objects.filter(pk=course.pk).update(status=TreatmentCourse.Status.ACTIVE)
    course.refresh_from_db()
    patient = clinic.patient
    assessment = AssessmentFactory(
        patient=patient,
        dermatologist=clinic.practitioner,
        assessed_at=local(4, 10, month=1),
        skin_type=4,
        contraindications=["isotretinoin"],
        notes="Stopped isotretinoin in June; keloid on left shoulder",
    )
    assessment.conditions.set([condition("tattoo-removal")])
    session = dict(patient=patient, course=course, kind=Appointment.Kind.TREATMENT, device=clinic.device)
    first = AppointmentFactory(
        **session, start=local(1, 10, month=2), status=Appointment.Status.COMPLETED,
        practitioner=clinic.practitioner, room=clinic.room,
    )  # fmt: skip
    SessionRecordFactory(appointment=first, notes="Some frosting at the upper edge", recorded_by=clinic.practitioner)
    second = AppointmentFactory(**session, start=local(29, 10), practitioner=clinic.practitioner, room=clinic.room)
    Notification.objects.create(
        patient=patient, appointment=first, kind=Notification.Kind.AFTERCARE, key="a", due_at=local(1, 11, month=2),
        status=Notification.Status.SENT, sent_at=local(1, 11, 2, month=2),
    )  # fmt: skip
    Notification.objects.create(
        patient=patient, appointment=second, kind=Notification.Kind.CONFIRMATION, key="b", due_at=local(1, 7),
        status=Notification.Status.FAILED, last_error="SMTP 550 mailbox unavailable",
    )  # fmt: skip
    return {"patient": patient, "course": course, "first": first, "second": second}


def test_a_dermatologist_sees_the_clinical_details(client, dermatologist, history):
    client.force_login(dermatologist.user)
    page = client.get(reverse("patients:detail", args=[history["patient"].pk])).content.decode()
    assert "Stopped isotretinoin in June" in page
    assert "Isotretinoin in the last 6 months" in page
    assert "IV – burns minimally" in page
    assert "Some frosting at the upper edge" in page and "1064 nm" in page


def test_reception_sees_that_an_assessment_exists_but_no_clinical_notes(client, receptionist, history):
    client.force_login(receptionist)
    page = client.get(reverse("patients:detail", args=[history["patient"].pk])).content.decode()
    assert "4 Jan 2027" in page and "Candidate" in page
    assert "isotretinoin" not in page.lower()
    assert "IV – burns minimally" not in page
    assert "frosting" not in page.lower() and "1064 nm" not in page


def test_the_page_shows_course_progress_and_when_the_next_session_is_due(client, receptionist, history):
    client.force_login(receptionist)
    course, first, second = history["course"], history["first"], history["second"]
    page = client.get(reverse("patients:detail", args=[history["patient"].pk])).content.decode()
    assert "Tattoo removal" in page and "Small tattoo" in page
    assert "1 of 8 sessions done, 2 booked or done" in page
    assert f'href="/appointments/{first.pk}/">Mon 1 Feb 2027, 10:00' in page
    # 29 March is after the clocks go forward: the clinic's wall-clock time is shown, not UTC.
    assert f'href="/appointments/{second.pk}/">Mon 29 Mar 2027, 10:00' in page
    assert "1/8" in page and "2/8" in page
    # Session 3 may be 42 to 56 days after session 2.
    assert "3/8" in page and "due between 10 May 2027 and 24 May 2027" in page
    assert f'href="/courses/{course.pk}/book/"' in page


def test_the_first_session_of_an_approved_course_has_no_window_yet(client, receptionist, clinic, frozen):
    client.force_login(receptionist)
    page = client.get(reverse("patients:detail", args=[clinic.patient.pk])).content.decode()
    assert "0 of 8 sessions done" in page and "Not booked yet." in page
    assert f'href="/courses/{clinic.course.pk}/book/"' in page


def test_a_proposed_course_waits_for_approval(client, receptionist, frozen):
    course = TreatmentCourseFactory()
    client.force_login(receptionist)
    page = client.get(reverse("patients:detail", args=[course.patient.pk])).content.decode()
    assert "once a dermatologist approves this course" in page
    assert f"/courses/{course.pk}/book/" not in page


def test_the_page_lists_appointments_and_the_communication_log(client, manager, history):
    client.force_login(manager)
    response = client.get(reverse("patients:detail", args=[history["patient"].pk]))
    overview = response.context["overview"]
    assert [a.pk for a in overview.upcoming] == [history["second"].pk]
    assert [a.pk for a in overview.past] == [history["first"].pk]
    page = response.content.decode()
    assert "Booking confirmation" in page and "SMTP 550 mailbox unavailable" in page
    assert "Aftercare" in page and "1 Feb 2027, 11:02" in page
    assert "Edit details" not in page and "/book/" not in page


def test_an_empty_record_explains_what_comes_next(client, receptionist, patient):
    client.force_login(receptionist)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "No assessment yet" in page
    assert "No treatment course yet" in page
    assert "Nothing booked ahead." in page
    assert "No emails planned or sent yet." in page


def _more_history(clinic, patient, count):
    for n in range(count):
        course = TreatmentCourseFactory(patient=patient, approved=True, approved_by=clinic.practitioner)
        appointment = AppointmentFactory(
            patient=patient, course=course, kind=Appointment.Kind.TREATMENT, device=clinic.device,
            start=local(1, 9, month=1) + timedelta(days=n), status=Appointment.Status.COMPLETED,
        )  # fmt: skip
        SessionRecordFactory(appointment=appointment)
        AppointmentFactory(patient=patient, start=local(1, 9, month=4) + timedelta(days=n))
        AssessmentFactory(patient=patient).conditions.set([condition()])
        Notification.objects.create(
            patient=patient, appointment=appointment, kind="aftercare", key=f"more-{n}", due_at=appointment.start
        )


@pytest.mark.parametrize("persona", ["receptionist", "dermatologist"])
def test_the_patient_page_costs_the_same_queries_however_long_the_history(
    client, personas, history, clinic, persona, django_assert_max_num_queries
):
    client.force_login(personas[persona])
    url = reverse("patients:detail", args=[history["patient"].pk])
    with CaptureQueriesContext(connection) as short:
        assert client.get(url).status_code == 200
    assert len(short) <= 14  # session, user, two role checks, the nav's roles, patient, one or two per section
    _more_history(clinic, history["patient"], 6)
    with django_assert_max_num_queries(len(short)):
        page = client.get(url).content.decode()
    assert page.count("/appointments/") >= 14
