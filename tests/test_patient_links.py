"""Patient links: signed, expiring, single-purpose; opening one changes nothing, its button acts."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from outbox.links import LinkError, link_url, make_token, read_link
from outbox.services import patient_unsubscribe
from scheduling.models import Appointment
from scheduling.services import IllegalTransition, appointment_book, appointment_cancel, appointment_reschedule
from scheduling.services.patient_requests import appointment_request_cancellation
from tests.conftest import MONDAY_MORNING, book_treatment, local

pytestmark = pytest.mark.django_db
ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def treatment(clinic, frozen):
    return appointment_book(
        patient=clinic.patient,
        kind="treatment",
        course=clinic.course,
        start=local(22, 10),
        practitioner=clinic.practitioner,
        room=clinic.room,
        device=clinic.device,
    )


@pytest.fixture
def browser():
    """A patient's browser: CSRF is checked, as in production."""
    return Client(enforce_csrf_checks=True)


def path(purpose, **subject):
    return urlsplit(link_url(purpose, **subject)).path


def press_button(browser, url):
    """Open the page, then submit its form with the CSRF token it handed out."""
    page = browser.get(url)
    assert page.status_code == 200
    return browser.post(url, {"csrfmiddlewaretoken": page.context["csrf_token"]})


def fresh(appointment):
    return Appointment.objects.get(pk=appointment.pk)


# --- Tokens ---------------------------------------------------------------------------------------


def test_a_link_is_absolute_and_carries_only_ids_and_the_version(treatment, settings):
    settings.CLINIC_BASE_URL = "https://clinic.example"
    url = link_url("confirm", appointment=treatment)
    assert url.startswith("https://clinic.example/p/confirm/") and url.endswith("/")
    token = urlsplit(url).path.split("/")[3]
    assert signing.loads(token, salt="patient-link:confirm") == {"a": treatment.pk, "v": 1}
    assert signing.loads(make_token("unsubscribe", patient=treatment.patient), salt="patient-link:unsubscribe") == {
        "p": treatment.patient.pk
    }
    assert read_link("confirm", token) == treatment


def test_a_link_for_one_purpose_does_not_work_for_another(treatment, client):
    token = make_token("confirm", appointment=treatment)
    with pytest.raises(LinkError) as caught:
        read_link("cancel", token)
    assert caught.value.status == 400
    for purpose in ("cancel", "prep"):
        response = client.get(f"/p/{purpose}/{token}/")
        assert response.status_code == 400
        assert b"This link is not valid" in response.content
    response = client.post(f"/p/unsubscribe/{token}/", ONE_CLICK, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    treatment.patient.refresh_from_db()
    assert treatment.patient.email_consent is True


@pytest.mark.parametrize(
    "token",
    ["x", "a:b:c", "eyJhIjoxLCJ2IjoxfQ:1y4vfk:forged", "." * 300, "%00", "eyJ"],
)
@pytest.mark.parametrize("purpose", ["confirm", "cancel", "prep", "unsubscribe"])
def test_a_tampered_link_gets_a_clear_400_page_never_an_error(treatment, client, purpose, token):
    responses = [client.get(f"/p/{purpose}/{token}/")]
    if purpose != "prep":  # the prep page is read-only: a POST there is 405 whatever the token
        responses.append(client.post(f"/p/{purpose}/{token}/"))
    for response in responses:
        assert response.status_code == 400
        assert b"This link is not valid" in response.content
        assert b"020 7946 0000" in response.content
    assert fresh(treatment).status == "booked" and fresh(treatment).cancel_requested_at is None


def test_a_link_signed_with_our_key_but_not_our_shape_is_refused(treatment, client):
    odd = signing.dumps({"a": "one"}, salt="patient-link:confirm")
    assert client.get(f"/p/confirm/{odd}/").status_code == 400
    odd = signing.dumps([1, 2], salt="patient-link:unsubscribe")
    assert client.get(f"/p/unsubscribe/{odd}/").status_code == 400


def test_a_link_works_until_its_appointment_has_passed_however_far_ahead_it_was_booked(clinic, client, time_machine):
    time_machine.move_to(MONDAY_MORNING, tick=False)
    far = book_treatment(clinic, local(3, 10, month=1, year=2028))  # ten months ahead, as whole courses are
    urls = [path(purpose, appointment=far) for purpose in ("confirm", "cancel", "prep")]
    time_machine.move_to(far.start - timedelta(minutes=1), tick=False)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]
    time_machine.move_to(far.end, tick=False)
    for url in urls:
        for response in (client.get(url), client.post(url)):
            assert response.status_code in (410, 405)
            if response.status_code == 410:
                assert b"This appointment has passed, so this link no longer works" in response.content
    assert fresh(far).status == "booked" and fresh(far).cancel_requested_at is None


def test_a_retired_or_cancelled_link_still_says_why_after_the_appointment_has_passed(treatment, client, time_machine):
    old = path("confirm", appointment=treatment)
    moved = appointment_reschedule(appointment=treatment, start=local(23, 14))
    time_machine.move_to(local(1, 9, month=6), tick=False)
    assert b"Your appointment has changed since this email was sent" in client.get(old).content
    time_machine.move_to(MONDAY_MORNING, tick=False)
    latest = path("cancel", appointment=moved)
    appointment_cancel(appointment=moved)
    time_machine.move_to(local(1, 9, month=6), tick=False)
    assert b"has been cancelled" in client.get(latest).content


def test_a_reschedule_retires_the_links_sent_before_it(treatment, client):
    old = {purpose: path(purpose, appointment=treatment) for purpose in ("confirm", "cancel", "prep")}
    moved = appointment_reschedule(appointment=treatment, start=local(23, 14))
    for url in old.values():
        response = client.get(url)
        assert response.status_code == 410
        assert b"Your appointment has changed since this email was sent" in response.content
    assert client.post(old["confirm"]).status_code == 410
    assert fresh(moved).status == "booked"
    assert client.get(path("confirm", appointment=moved)).status_code == 200


def test_a_cancellation_retires_the_links(treatment, client):
    url = path("prep", appointment=treatment)
    appointment_cancel(appointment=treatment)
    response = client.get(url)
    assert response.status_code == 410
    assert b"has been cancelled" in response.content


def test_a_link_to_a_deleted_patient_no_longer_works(clinic, client):
    from tests.factories import PatientFactory

    patient = PatientFactory()
    url = path("unsubscribe", patient=patient)
    patient.delete()
    assert client.get(url).status_code == 410


# --- Confirm --------------------------------------------------------------------------------------


def test_opening_the_confirm_link_shows_the_appointment_and_changes_nothing(treatment, browser):
    url = path("confirm", appointment=treatment)
    response = browser.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hello Ada" in page
    assert "Monday 22 March 2027, 10:00–10:30" in page
    assert str(treatment.practitioner) in page and "Pico Laser Clinic" in page
    assert '<form method="post">' in page
    assert browser.head(url).status_code == 200
    assert fresh(treatment).status == "booked"
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_confirm_button_confirms_and_pressing_it_again_is_friendly(treatment, browser):
    url = path("confirm", appointment=treatment)
    response = press_button(browser, url)
    assert response.status_code == 200
    assert b"Your appointment is confirmed" in response.content
    assert fresh(treatment).status == "confirmed"
    again = press_button(browser, url)
    assert again.status_code == 200 and b"Your appointment is confirmed" in again.content


def test_the_link_pages_act_on_their_token_alone_with_no_cookie_and_an_origin_of_null(treatment, browser):
    """What a browser sends under `Referrer-Policy: no-referrer`, with cookies blocked: no CSRF cookie
    or token, `Origin: null`. The signed token in the address is the credential."""
    for purpose in ("confirm", "cancel"):
        response = browser.post(path(purpose, appointment=treatment), HTTP_ORIGIN="null")
        assert response.status_code == 200
        assert not response.cookies
    assert fresh(treatment).status == "confirmed" and fresh(treatment).cancel_requested_at is not None
    page = browser.get(path("confirm", appointment=treatment))
    assert not page.cookies and "csrfmiddlewaretoken" not in page.content.decode()


def test_a_method_a_link_page_does_not_take_gets_the_clinics_page(treatment, client):
    response = client.post(path("prep", appointment=treatment))
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert b"This page cannot do that" in response.content and b"020 7946 0000" in response.content
    response = client.put(path("confirm", appointment=treatment))
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD, POST"
    assert fresh(treatment).status == "booked"


def test_a_form_refused_by_the_csrf_check_gets_the_clinics_page(receptionist, browser):
    response = browser.post("/accounts/login/", {"username": "reception", "password": "correct-horse-battery"})
    assert response.status_code == 403
    assert [template.name for template in response.templates][:2] == ["403_csrf.html", "base.html"]
    page = response.content.decode()
    assert "This form could not be sent" in page and "Nothing was changed" in page
    assert "CSRF verification failed" not in page


def test_confirming_an_appointment_past_confirming_shows_a_friendly_page(treatment, browser):
    url = path("confirm", appointment=treatment)
    page = browser.get(url)  # opened while it could still be confirmed, submitted later
    Appointment.objects.filter(pk=treatment.pk).update(status=Appointment.Status.CHECKED_IN)
    assert b"no longer needs confirming" in browser.get(url).content
    response = browser.post(url, {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert response.status_code == 200
    assert b"no longer needs confirming" in response.content
    assert fresh(treatment).status == "checked_in"


# --- Ask to cancel ----------------------------------------------------------------------------------


def test_the_cancel_link_records_a_request_and_leaves_the_booking_to_reception(treatment, browser):
    url = path("cancel", appointment=treatment)
    assert fresh(treatment).cancel_requested_at is None
    page = browser.get(url)
    assert b"Ask to cancel this appointment" in page.content
    assert fresh(treatment).cancel_requested_at is None
    response = press_button(browser, url)
    assert response.status_code == 200
    assert b"We have your request to cancel" in response.content
    after = fresh(treatment)
    assert after.status == "booked"
    assert after.cancel_requested_at == MONDAY_MORNING
    assert after.version == 1


def test_asking_to_cancel_twice_keeps_the_first_request(treatment, time_machine):
    appointment_request_cancellation(appointment=treatment)
    time_machine.move_to(MONDAY_MORNING + timedelta(hours=3), tick=False)
    appointment_request_cancellation(appointment=treatment)
    assert fresh(treatment).cancel_requested_at == MONDAY_MORNING


def test_a_cancel_request_is_refused_once_the_appointment_has_moved_on(treatment, browser):
    url = path("cancel", appointment=treatment)
    page = browser.get(url)  # opened while it could still be cancelled, submitted later
    Appointment.objects.filter(pk=treatment.pk).update(status=Appointment.Status.COMPLETED)
    with pytest.raises(IllegalTransition):
        appointment_request_cancellation(appointment=fresh(treatment))
    assert b"can no longer be cancelled online" in browser.get(url).content
    response = browser.post(url, {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert response.status_code == 200
    assert b"cannot be cancelled" in response.content
    assert fresh(treatment).cancel_requested_at is None


def test_a_cancel_request_for_an_older_version_is_refused(treatment):
    stale = fresh(treatment)
    appointment_reschedule(appointment=treatment, start=local(23, 14))
    with pytest.raises(IllegalTransition):
        appointment_request_cancellation(appointment=stale)
    assert fresh(treatment).cancel_requested_at is None


# --- Prep ---------------------------------------------------------------------------------------------


def test_the_prep_page_gives_the_general_rules_and_the_conditions_text(treatment, client):
    url = path("prep", appointment=treatment)
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    for phrase in ("out of the sun", "tanning beds", "chemical peels, waxing", "clean skin", "no make-up, creams"):
        assert phrase in page
    condition = treatment.course.condition  # tattoo removal's own texts, for both times
    assert condition.prep_text in page and condition.day_before_text in page
    assert "Shave the area the day before" in page
    assert "For two weeks before your appointment (from Monday 8 March)" in page
    assert client.post(url).status_code == 405


def test_the_prep_page_says_from_now_on_inside_the_two_weeks(treatment, client, time_machine):
    time_machine.move_to(MONDAY_MORNING + timedelta(days=10), tick=False)
    assert b"From now until your appointment" in client.get(path("prep", appointment=treatment)).content


# --- Unsubscribe ----------------------------------------------------------------------------------


def test_opening_the_unsubscribe_link_changes_nothing_and_its_button_unsubscribes(clinic, browser):
    url = path("unsubscribe", patient=clinic.patient)
    page = browser.get(url)
    assert b"Stop email reminders?" in page.content
    clinic.patient.refresh_from_db()
    assert clinic.patient.email_consent is True
    response = press_button(browser, url)
    assert response.status_code == 200 and b"You are unsubscribed" in response.content
    clinic.patient.refresh_from_db()
    assert clinic.patient.email_consent is False


def test_one_click_unsubscribe_works_without_csrf_and_is_idempotent(clinic, browser):
    url = path("unsubscribe", patient=clinic.patient)
    for _ in range(2):
        response = browser.post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200
        clinic.patient.refresh_from_db()
        assert clinic.patient.email_consent is False
    assert patient_unsubscribe(patient=clinic.patient) is False


def test_unsubscribing_reports_whether_anything_changed(clinic):
    assert patient_unsubscribe(patient=clinic.patient) is True
    assert patient_unsubscribe(patient=clinic.patient) is False


# --- What the pages show ---------------------------------------------------------------------------


def test_link_pages_show_the_first_name_and_time_but_no_other_patient_data(treatment, client):
    patient = treatment.patient
    patient.notes = "Allergic to plasters"
    patient.save()
    pages = [client.get(path(p, appointment=treatment)).content.decode() for p in ("confirm", "cancel", "prep")]
    pages.append(client.get(path("unsubscribe", patient=patient)).content.decode())
    for page in pages:
        assert "Ada" in page
        for secret in (patient.last_name, patient.email, patient.phone, "Allergic", "1990", "skin type"):
            assert secret.lower() not in page.lower()


def test_unknown_purposes_are_not_found(treatment, client):
    token = make_token("confirm", appointment=treatment)
    for address in (f"/p/delete/{token}/", "/p/confirm/", f"/p/confirm/{token}/extra/"):
        response = client.get(address)
        assert response.status_code == 404
        assert b"This link is not valid" in response.content and b"020 7946 0000" in response.content
    assert client.get(f"/p/confirm/{token}").url == f"/p/confirm/{token}/"  # a link that lost its last slash
    with pytest.raises(ValueError):
        make_token("delete", appointment=treatment)
