"""Seed the four conditions the clinic treats with their protocol defaults.

These are the clinic's starting configuration, editable in the admin, not medical advice. The prep
text is what a condition adds to the general preparation every email and page already gives (no
sun or tanning beds for two weeks, no peels or waxing, clean skin on the day).
"""

from django.db import migrations

CONDITIONS = [
    {
        "slug": "acne-scars",
        "name": "Acne scars",
        "default_sessions": 4,
        "min_sessions": 3,
        "max_sessions": 6,
        "min_interval_days": 28,
        "max_interval_days": 42,
        "prep_text": "Stop retinoid creams on the area five days before, and tell us about any new spots or "
        "cold sores.",
        "aftercare_text": "The treated skin may feel rough for a few days as it renews. Keep it "
        "moisturised, do not pick at it, and use SPF 30 or higher every day.",
    },
    {
        "slug": "wrinkles-fine-lines",
        "name": "Wrinkles and fine lines",
        "default_sessions": 3,
        "min_sessions": 3,
        "max_sessions": 5,
        "min_interval_days": 28,
        "max_interval_days": 42,
        "prep_text": "Pause exfoliating products on the face for a few days before.",
        "aftercare_text": "Collagen keeps building for weeks after each session, so the skin goes on "
        "improving. Use a gentle cleanser and SPF 30 or higher every day.",
    },
    {
        "slug": "pigmentation",
        "name": "Age spots and hyperpigmentation",
        "default_sessions": 3,
        "min_sessions": 2,
        "max_sessions": 4,
        "min_interval_days": 21,
        "max_interval_days": 35,
        "prep_text": "A tan makes pigment harder to treat safely, so protect the area with SPF 30 or higher.",
        "aftercare_text": "Treated spots may darken and then flake off over one to two weeks; let "
        "them fall away on their own. Avoid the sun, which can bring pigment back, and use SPF 30 or higher every day.",
    },
    {
        "slug": "tattoo-removal",
        "name": "Tattoo removal",
        "default_sessions": 8,
        "min_sessions": 6,
        "max_sessions": 10,
        "min_interval_days": 42,
        "max_interval_days": 56,
        "prep_text": "Shave the area the day before if it has hair, and keep it free of lotions.",
        "aftercare_text": "The ink fades over the weeks after each session as your body clears it. "
        "Keep the area clean and dry for a day, do not pick at any crusting, and cover it with SPF "
        "30 or higher.",
    },
]


def seed(apps, schema_editor):
    Condition = apps.get_model("patients", "Condition")
    for data in CONDITIONS:
        Condition.objects.update_or_create(slug=data["slug"], defaults=data)


def unseed(apps, schema_editor):
    Condition = apps.get_model("patients", "Condition")
    Condition.objects.filter(slug__in=[c["slug"] for c in CONDITIONS], courses__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_initial")]

    operations = [migrations.RunPython(seed, unseed)]
