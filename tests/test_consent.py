"""Consent at the clinic: the check-in gate, signing online and on the tablet, withdrawing photo
consent, the admin's versions, the printable record, export and erasure."""

import json
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalogue.models import Condition
from clinic.errors import SchedulingError
from clinical.models import ConsentSignature, ConsentText
from clinical.services.consent import consent_sign, photo_scopes, unsigned_texts
from records.privacy import patient_erase, patient_export
from scheduling.models import Appointment
from scheduling.services import appointment_check_in, appointment_complete
from tests.conftest import book_treatment, local
from tests.portal import sign_in

pytestmark = pytest.mark.django_db
ONLINE, TABLET = ConsentSignature.Channel.ONLINE, ConsentSignature.Channel.TABLET


def text(condition=None, version=1, *, kind="treatment", days_ago=30):
    return ConsentText.objects.create(
        kind=kind, condition=condition if kind == "treatment" else None, version=version,
        title=f"{'Photo' if kind == 'photo' else condition.name} consent v{version}",
        body=f"Redness, swelling and discomfort for a few hours (version {version}).\n\nSPF 30 afterwards.",
        published_at=timezone.now() - timedelta(days=days_ago),
    )  # fmt: skip


@pytest.fixture
def today(clinic, frozen):
    """Ada's first session of her tattoo-removal course at 10:00 today, and the course's consent."""
    cache.clear()
    return book_treatment(clinic, local(1, 10)), text(clinic.course.condition)


def sign(patient, consent, channel=TABLET, **scopes):
    return consent_sign(patient=patient, text=consent, typed_name=patient.full_name, channel=channel,
                        client_address="10.0.0.5", **scopes)  # fmt: skip


# The gate at check-in


def test_checking_in_a_first_treatment_without_the_signed_consent_is_refused_saying_what_to_do(clinic, today):
    appointment, consent = today
    with pytest.raises(SchedulingError) as refused:
        appointment_check_in(appointment=appointment)
    assert refused.value.field == "consent"
    assert f"“{consent.title}” (version 1)" in refused.value.message
    assert "sign the consent on the tablet" in refused.value.message
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED

    sign(clinic.patient, consent)
    assert appointment_check_in(appointment=appointment).status == Appointment.Status.CHECKED_IN


def test_a_new_version_asks_again_at_the_next_visit(clinic, today, time_machine):
    appointment, consent = today
    sign(clinic.patient, consent)
    appointment_check_in(appointment=appointment)
    appointment_complete(appointment=appointment, record={"wavelength_nm": 1064, "fluence_j_cm2": 2, "spot_size_mm": 4,
                                                          "pulses": 500, "skin_reaction": "none"})  # fmt: skip
    second = book_treatment(clinic, local(19, 10, month=4))
    newer = text(clinic.course.condition, version=2, days_ago=1)
    time_machine.move_to(local(19, 9, month=4), tick=False)
    with pytest.raises(SchedulingError, match="version 2"):
        appointment_check_in(appointment=second)
    sign(clinic.patient, newer)
    assert appointment_check_in(appointment=second).status == Appointment.Status.CHECKED_IN


def test_a_consultation_and_a_condition_without_a_text_need_no_consent(clinic, frozen):
    consultation = Appointment.objects.create(
        kind=Appointment.Kind.CONSULTATION, patient=clinic.patient, practitioner=clinic.practitioner,
        room=clinic.room, start=local(1, 11), end=local(1, 11, 30), blocked_until=local(1, 11, 30),
    )  # fmt: skip
    text(Condition.objects.get(slug="acne-scars"))  # another condition's text asks nothing here
    assert appointment_check_in(appointment=consultation).status == Appointment.Status.CHECKED_IN
    treatment = book_treatment(clinic, local(1, 13))
    assert appointment_check_in(appointment=treatment).status == Appointment.Status.CHECKED_IN


def test_the_check_in_page_refuses_with_a_link_to_the_tablet_and_the_api_says_the_same(
    client, receptionist, clinic, today
):
    appointment, _ = today
    client.force_login(receptionist)
    page = client.get(reverse("scheduling:appointment", args=[appointment.pk])).content.decode()
    tablet = reverse("scheduling:consent_tablet", args=[appointment.pk])
    assert f'href="{tablet}"' in page and "Sign on the tablet" in page
    response = client.post(reverse("scheduling:appointment_check_in", args=[appointment.pk]), {"no_sun": "on"})
    text_ = response.content.decode()
    assert "sign the consent on the tablet" in text_ and f'href="{tablet}"' in text_
    api = APIClient()
    api.force_authenticate(receptionist)
    answer = api.post(reverse("api:appointment-check-in", args=[appointment.pk]), {"answers": {}}, format="json")
    assert answer.status_code == 400 and "sign the consent on the tablet" in json.dumps(answer.json())
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


# Signing online, on the patient's pages


def test_the_patient_signs_online_a_wrong_name_is_refused_and_nothing_typed_is_lost(client, clinic, today):
    _, consent = today
    photo = text(kind="photo")
    ada = clinic.patient
    sign_in(client, ada)
    page = client.get(reverse("portal:consent")).content.decode()
    assert consent.title in page and photo.title in page and "Redness, swelling and discomfort" in page
    assert "Please read and sign 2 forms" in client.get(reverse("portal:home")).content.decode()

    prefix = f"consent-{photo.pk}"
    posted = {f"{prefix}-signing": photo.pk, f"{prefix}-typed_name": "Ada Lovelace",
              f"{prefix}-photo_clinical": "yes", f"{prefix}-photo_marketing": "no"}  # fmt: skip
    refused = client.post(reverse("portal:consent"), posted)
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "Type your full name as the clinic has it" in body
    assert 'value="Ada Lovelace"' in body  # kept on the form
    form = next(form for form in refused.context["forms"] if form.text == photo)
    assert (form["photo_clinical"].value(), form["photo_marketing"].value()) == ("yes", "no")
    assert not ConsentSignature.objects.exists()

    signed = client.post(reverse("portal:consent"), posted | {f"{prefix}-typed_name": " ada  byron "})
    assert signed.status_code == 302
    signature = ConsentSignature.objects.get()
    assert (signature.channel, signature.client_address, signature.witnessed_by) == (ONLINE, "127.0.0.1", None)
    assert (signature.photo_clinical, signature.photo_marketing) == (True, False)
    assert LogEntry.objects.get_for_object(signature).get().actor == ada.user  # the patient, as on every page
    assert unsigned_texts(patient=ada) == [consent]


def test_a_text_no_longer_to_sign_is_refused_on_the_patient_page(client, clinic, today):
    _, consent = today
    sign(clinic.patient, consent)
    sign_in(client, clinic.patient)
    prefix = f"consent-{consent.pk}"
    response = client.post(reverse("portal:consent"), {f"{prefix}-signing": consent.pk, f"{prefix}-typed_name": "x"})
    assert response.status_code == 400 and "signed already" in response.content.decode()
    assert ConsentSignature.objects.count() == 1


def test_the_patient_withdraws_photo_consent_on_their_page_at_once(client, clinic, frozen):
    photo = text(kind="photo")
    sign(clinic.patient, photo, photo_clinical=True, photo_marketing=True)
    sign_in(client, clinic.patient)
    assert "Withdraw my photo consent" in client.get(reverse("portal:consent")).content.decode()
    assert client.post(reverse("portal:photo_consent_withdraw")).status_code == 302
    assert photo_scopes(patient=clinic.patient) == frozenset()
    assert ConsentSignature.objects.get().withdrawn_at == timezone.now()
    assert "You have not allowed any photos" in client.get(reverse("portal:consent")).content.decode()


# The clinic's tablet at check-in


def test_the_patient_signs_on_the_tablet_witnessed_by_reception_then_is_checked_in(client, receptionist, clinic, today):
    appointment, consent = today
    client.force_login(receptionist)
    url = reverse("scheduling:consent_tablet", args=[appointment.pk])
    page = client.get(url).content.decode()
    assert consent.body.split("\n")[0] in page and 'id="main-menu"' not in page  # no staff menu on the tablet
    prefix = f"consent-{consent.pk}"
    wrong = client.post(url, {f"{prefix}-signing": consent.pk, f"{prefix}-typed_name": "Ada"})
    assert wrong.status_code == 400 and 'value="Ada"' in wrong.content.decode()
    assert client.post(url, {f"{prefix}-signing": consent.pk, f"{prefix}-typed_name": "Ada Byron"}).status_code == 302
    signature = ConsentSignature.objects.get()
    assert (signature.channel, signature.witnessed_by, signature.text) == (TABLET, receptionist, consent)
    assert "Everything is signed" in client.get(url).content.decode()
    checked_in = client.post(reverse("scheduling:appointment_check_in", args=[appointment.pk]), {"no_sun": "on"})
    assert checked_in.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN


# The printable record, the patient page, export and erasure


def test_the_printable_record_shows_the_signature_in_full_in_clinic_time(client, receptionist, clinic, today):
    _, consent = today
    signature = consent_sign(patient=clinic.patient, text=consent, typed_name="Ada Byron", channel=TABLET,
                             client_address="10.0.0.5", witnessed_by=receptionist)  # fmt: skip
    client.force_login(receptionist)
    listed = client.get(reverse("patients:detail", args=[clinic.patient.pk])).content.decode()
    url = reverse("patients:consent_record", args=[clinic.patient.pk, signature.pk])
    assert f'href="{url}"' in listed
    page = client.get(url).content.decode()
    for shown in ("Ada Byron", consent.title, "version 1", "Monday 1 March 2027, 08:00 GMT", "10.0.0.5",
                  "On the clinic&#x27;s tablet", receptionist.get_full_name(), "SPF 30 afterwards",
                  "print.css"):  # fmt: skip
        assert shown in page, shown
    other = ConsentSignature.objects.create(patient=today[0].patient, text=consent, typed_name="x", channel=ONLINE)
    assert client.get(reverse("patients:consent_record", args=[clinic.patient.pk + 1000, other.pk])).status_code == 404


def test_export_holds_the_signatures_and_erasure_keeps_them_without_name_or_address(clinic, manager, today):
    appointment, consent = today
    appointment.delete()  # no visit still to come
    photo = text(kind="photo")
    sign(clinic.patient, consent)
    sign(clinic.patient, photo, photo_clinical=True, photo_marketing=True)
    exported = json.loads(patient_export(patient=clinic.patient, by=manager))["consent_signatures"]
    assert {row["text_version"] for row in exported} == {1}
    assert {row["typed_name"] for row in exported} == {"Ada Byron"}
    assert any("Redness, swelling" in row["text_as_signed"] for row in exported)

    patient_erase(patient=clinic.patient, by=manager, reason="Asked by email on 1 March")
    kept = ConsentSignature.objects.filter(patient=clinic.patient)
    assert kept.count() == 2
    assert {(s.typed_name, s.client_address) for s in kept} == {("", None)}
    assert photo_scopes(patient=clinic.patient) == frozenset()  # no photo consent stands for an erased patient
    trail = LogEntry.objects.get_for_model(ConsentSignature)
    assert trail.exists() and not any("Byron" in json.dumps(entry.changes) for entry in trail)
    assert not any("10.0.0.5" in json.dumps(entry.changes) for entry in trail)


# The admin: versions


@pytest.fixture
def admin_manager(client, manager):
    """The manager in the admin (after `today`, whose cache.clear() would end the session)."""
    client.force_login(manager)
    return client


def _change(client, consent, **posted):
    data = {"title": consent.title, "body": consent.body,
            "published_at_0": timezone.localtime(consent.published_at).strftime("%Y-%m-%d"),
            "published_at_1": timezone.localtime(consent.published_at).strftime("%H:%M:%S")} | posted  # fmt: skip
    return client.post(reverse("admin:clinical_consenttext_change", args=[consent.pk]), data)


def test_in_the_admin_a_signed_version_is_read_only_and_saved_as_a_new_version(clinic, today, admin_manager):
    _, consent = today
    unsigned_edit = _change(admin_manager, consent, body="Redness for a few hours.")
    assert unsigned_edit.status_code == 302  # nobody signed it yet: it may still be corrected
    consent.refresh_from_db()
    sign(clinic.patient, consent)

    page = admin_manager.get(reverse("admin:clinical_consenttext_change", args=[consent.pk])).content.decode()
    assert "add a new version" in page and "Save as new version" in page and 'name="_save"' not in page
    refused = _change(admin_manager, consent, body="Different words.")
    assert refused.status_code == 200 and "cannot change" in refused.content.decode()
    consent.refresh_from_db()
    assert consent.body == "Redness for a few hours."

    saved = _change(admin_manager, consent, body="Redness, swelling; blistering is rare.", _newversion="1")
    newer = ConsentText.objects.get(condition=consent.condition, version=2)
    assert saved.status_code == 302 and saved["Location"].endswith(f"/{newer.pk}/change/")
    assert newer.body == "Redness, swelling; blistering is rare." and newer.published_at <= timezone.now()
    consent.refresh_from_db()
    assert consent.body == "Redness for a few hours."  # the signed version as it was signed
    assert unsigned_texts(patient=clinic.patient) == [newer]  # asks again

    fresh = admin_manager.get(reverse("admin:clinical_consenttext_add") + f"?from={newer.pk}").content.decode()
    assert "blistering is rare" in fresh
    assert admin_manager.post(reverse("admin:clinical_consenttext_delete", args=[consent.pk])).status_code == 403


def test_signatures_are_read_only_in_the_admin(clinic, today, admin_manager):
    signature = sign(clinic.patient, today[1])
    url = reverse("admin:clinical_consentsignature_change", args=[signature.pk])
    page = admin_manager.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_manager.post(url, {"typed_name": "Someone else"}).status_code == 403
    assert admin_manager.get(reverse("admin:clinical_consentsignature_add")).status_code == 403


# The seeded first versions


@pytest.mark.seeded_consent
def test_the_first_versions_name_the_protocols_risks_and_duties_and_the_photo_scopes():
    for condition in Condition.objects.all():
        seeded = ConsentText.objects.get(kind="treatment", condition=condition)
        assert seeded.version == 1
        for words in ("red", "swollen", "rubber band", "no sun or tanning beds", "peels or waxing", "two weeks",
                      "SPF 30", "fades within hours"):  # fmt: skip
            assert words in seeded.body, (condition.slug, words)
    for slug in ("tattoo-removal", "pigmentation"):
        body = ConsentText.objects.get(condition__slug=slug).body
        assert "blisters" in body and "temporarily lighter or darker" in body
    photo = ConsentText.objects.get(kind="photo")
    assert "For your clinical record" in photo.body and "For teaching or marketing" in photo.body
