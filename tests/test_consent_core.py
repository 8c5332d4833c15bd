"""The consent service: which version is current, signing it, the photo consent's scopes."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from clinic.errors import SchedulingError
from clinical.models import ConsentSignature, ConsentText
from clinical.services.consent import (
    CLINICAL,
    MARKETING,
    consent_sign,
    current_text,
    photo_consent_withdraw,
    photo_scopes,
    unsigned_photo_text,
    unsigned_treatment_text,
)
from tests.factories import PatientFactory, condition

pytestmark = pytest.mark.django_db

TABLET = ConsentSignature.Channel.TABLET


def treatment_text(cond, version, published_at=None):
    return ConsentText.objects.create(
        kind=ConsentText.Kind.TREATMENT,
        condition=cond,
        version=version,
        title=f"{cond.name} consent",
        body="Redness, swelling and discomfort are expected for a few hours.",
        published_at=published_at or timezone.now() - timedelta(days=1),
    )


def photo_text(version=1):
    return ConsentText.objects.create(
        kind=ConsentText.Kind.PHOTO,
        version=version,
        title="Photo consent",
        body="Photos of the treated area.",
        published_at=timezone.now() - timedelta(days=1),
    )


def test_the_highest_published_version_is_current_and_a_new_one_asks_again():
    tattoo = condition("tattoo-removal")
    patient = PatientFactory(first_name="Ada", last_name="Lovelace")
    first = treatment_text(tattoo, 1)
    treatment_text(tattoo, 3, published_at=timezone.now() + timedelta(days=5))  # not yet published
    assert current_text(kind="treatment", condition=tattoo) == first
    assert unsigned_treatment_text(patient=patient, condition=tattoo) == first

    consent_sign(patient=patient, text=first, typed_name="  ada   LOVELACE ", channel=TABLET, client_address="10.0.0.5")
    assert unsigned_treatment_text(patient=patient, condition=tattoo) is None

    second = treatment_text(tattoo, 2)
    assert unsigned_treatment_text(patient=patient, condition=tattoo) == second
    signature = ConsentSignature.objects.get(text=first)
    assert (signature.typed_name, signature.client_address) == ("ada LOVELACE", "10.0.0.5")


def test_no_text_for_the_condition_means_nothing_to_sign():
    assert unsigned_treatment_text(patient=PatientFactory(), condition=condition("acne-scars")) is None


def test_a_wrong_name_an_old_version_or_missing_scopes_are_refused():
    tattoo = condition("tattoo-removal")
    patient = PatientFactory(first_name="Ada", last_name="Lovelace")
    old = treatment_text(tattoo, 1)
    with pytest.raises(SchedulingError, match="full name") as caught:
        consent_sign(patient=patient, text=old, typed_name="A. Lovelace", channel=TABLET, client_address=None)
    assert caught.value.field == "typed_name"
    treatment_text(tattoo, 2)
    with pytest.raises(SchedulingError, match="newer version"):
        consent_sign(patient=patient, text=old, typed_name="Ada Lovelace", channel=TABLET, client_address=None)
    with pytest.raises(SchedulingError, match="yes or no"):
        consent_sign(
            patient=patient, text=photo_text(), typed_name="Ada Lovelace", channel=TABLET, client_address=None,
            photo_clinical=True,
        )  # fmt: skip
    assert not ConsentSignature.objects.exists()


def test_photo_scopes_follow_the_latest_answer_and_a_withdrawal_at_once():
    patient = PatientFactory(first_name="Ada", last_name="Lovelace")
    text = photo_text()
    assert photo_scopes(patient=patient) == frozenset()
    assert unsigned_photo_text(patient=patient) == text

    def sign(clinical, marketing):
        consent_sign(
            patient=patient, text=text, typed_name="Ada Lovelace", channel=TABLET, client_address=None,
            photo_clinical=clinical, photo_marketing=marketing,
        )  # fmt: skip

    sign(True, True)
    assert photo_scopes(patient=patient) == {CLINICAL, MARKETING}
    assert unsigned_photo_text(patient=patient) is None
    sign(True, False)
    assert photo_scopes(patient=patient) == {CLINICAL}
    assert ConsentSignature.objects.filter(withdrawn_at=None).count() == 1

    assert photo_consent_withdraw(patient=patient) == 1
    assert photo_scopes(patient=patient) == frozenset()
    assert unsigned_photo_text(patient=patient) == text
    withdrawn = LogEntry.objects.get_for_model(ConsentSignature).filter(action=LogEntry.Action.UPDATE)
    assert withdrawn.count() == 2  # the replaced answer and the withdrawal, each in the trail
