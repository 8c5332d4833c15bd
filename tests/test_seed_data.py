"""The catalogue a fresh database starts with."""

import importlib

import pytest
from django.apps import apps as django_apps

from catalogue.models import Condition, TreatmentArea

pytestmark = pytest.mark.django_db

PROTOCOLS = {
    # slug: (default, min, max sessions, min, max interval days)
    "acne-scars": (4, 3, 6, 28, 42),
    "wrinkles-fine-lines": (3, 3, 5, 28, 42),
    "pigmentation": (3, 2, 4, 21, 35),
    "tattoo-removal": (8, 6, 10, 42, 56),
}


def test_the_four_conditions_are_seeded_with_their_protocols():
    seeded = {
        c.slug: (c.default_sessions, c.min_sessions, c.max_sessions, c.min_interval_days, c.max_interval_days)
        for c in Condition.objects.all()
    }
    assert seeded == PROTOCOLS


def test_every_condition_has_patient_facing_prep_and_aftercare_text():
    for condition in Condition.objects.all():
        assert len(condition.prep_text) > 40  # what the condition adds to the general preparation
        assert len(condition.day_before_text) > 40
        assert "SPF 30" in condition.aftercare_text


def test_each_conditions_advice_is_split_by_when_it_is_due():
    """The two weeks before go with the prep reminder, the day before with the day-before note."""
    acne, tattoo = Condition.objects.get(slug="acne-scars"), Condition.objects.get(slug="tattoo-removal")
    assert "retinoid" in acne.prep_text and "retinoid" not in acne.day_before_text
    assert "Shave the area the day before" in tattoo.day_before_text
    assert "shave" not in tattoo.prep_text.lower()
    for condition in Condition.objects.all():
        assert "day before" not in condition.prep_text and "make-up" not in condition.prep_text, condition.slug


def test_the_split_moves_the_day_before_sentences_of_a_clinics_own_text():
    migration = importlib.import_module("catalogue.migrations.0002_condition_day_before_text")
    Condition.objects.filter(slug="acne-scars").update(
        prep_text="Stop retinoid creams a week before. Shave the area the night before. No make-up on the day.",
        day_before_text="",
    )
    Condition.objects.filter(slug="tattoo-removal").update(
        prep_text=migration.SEEDED["tattoo-removal"]["was"], day_before_text=""
    )
    migration.split(django_apps, None)
    acne, tattoo = Condition.objects.get(slug="acne-scars"), Condition.objects.get(slug="tattoo-removal")
    assert acne.prep_text == "Stop retinoid creams a week before."
    assert acne.day_before_text == "Shave the area the night before. No make-up on the day."
    assert tattoo.prep_text == migration.SEEDED["tattoo-removal"]["prep_text"]  # the seed's own, rewritten
    migration.join(django_apps, None)  # and back: nothing is lost
    acne.refresh_from_db()
    assert acne.prep_text == (
        "Stop retinoid creams a week before. Shave the area the night before. No make-up on the day."
    )


def test_treatment_areas_come_in_all_three_sizes():
    sizes = {area.size for area in TreatmentArea.objects.all()}
    assert sizes == {"small", "medium", "large"}
    assert TreatmentArea.objects.filter(name__icontains="tattoo").count() == 3
