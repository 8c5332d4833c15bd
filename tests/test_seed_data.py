"""The catalogue a fresh database starts with."""

import pytest

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
        assert "SPF 30" in condition.aftercare_text


def test_treatment_areas_come_in_all_three_sizes():
    sizes = {area.size for area in TreatmentArea.objects.all()}
    assert sizes == {"small", "medium", "large"}
    assert TreatmentArea.objects.filter(name__icontains="tattoo").count() == 3
