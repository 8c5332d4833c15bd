"""A condition's preparation advice in two parts: the two weeks before (the prep reminder) and the
day before (the day-before note). Existing text is split sentence by sentence: what speaks of the
day before, the day itself, shaving or make-up moves to the new field. The four seeded conditions,
if their text is still the seed's, get texts written for each part.
"""

import re

from django.db import migrations, models

SEEDED = {
    "acne-scars": {
        "was": "Stop retinoid creams on the area five days before, and tell us about any new spots or cold sores.",
        "prep_text": "Stop retinoid creams and exfoliating acids or scrubs on the area five days before your "
        "treatment, and tell us before then if you start any new acne medicine.",
        "day_before_text": "If a new spot or a cold sore has come up on the area, call us before you come: the "
        "session may need to wait until it has healed.",
    },
    "wrinkles-fine-lines": {
        "was": "Pause exfoliating products on the face for a few days before.",
        "prep_text": "Pause exfoliating products on the face (scrubs, acids and retinoid creams) for the five days "
        "before your treatment.",
        "day_before_text": "Take off all make-up the evening before, and come with a freshly cleansed face: no "
        "moisturiser, serum or foundation.",
    },
    "pigmentation": {
        "was": "A tan makes pigment harder to treat safely, so protect the area with SPF 30 or higher.",
        "prep_text": "A tan makes pigment harder to treat safely, so protect the area with SPF 30 or higher every "
        "day, and do not use self-tan or skin-lightening creams on it.",
        "day_before_text": "Come with no sunscreen or make-up on the area, and bring a hat or your sunscreen to "
        "protect it on the way home.",
    },
    "tattoo-removal": {
        "was": "Shave the area the day before if it has hair, and keep it free of lotions.",
        "prep_text": "Keep the tattoo covered or out of the sun, and do not use self-tan on it: tanned skin around "
        "the ink reacts more to the laser.",
        "day_before_text": "Shave the area the day before if it has hair, and keep it free of lotions.",
    },
}
DAY_BEFORE = re.compile(
    r"\b(the day before|the night before|the evening before|on the day|the morning of|shave|shaving|make-?up)\b",
    re.IGNORECASE,
)


def split_text(text: str) -> tuple[str, str]:
    """The sentences of `text` for the two weeks before, and those for the day before."""
    weeks, day_before = [], []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if sentence:
            (day_before if DAY_BEFORE.search(sentence) else weeks).append(sentence)
    return " ".join(weeks), " ".join(day_before)


def split(apps, schema_editor):
    Condition = apps.get_model("catalogue", "Condition")
    for condition in Condition.objects.all():
        seeded = SEEDED.get(condition.slug)
        if seeded and condition.prep_text.strip() == seeded["was"]:
            condition.prep_text, condition.day_before_text = seeded["prep_text"], seeded["day_before_text"]
        elif not condition.day_before_text:
            condition.prep_text, condition.day_before_text = split_text(condition.prep_text)
        else:
            continue
        condition.save(update_fields=["prep_text", "day_before_text"])


def join(apps, schema_editor):
    Condition = apps.get_model("catalogue", "Condition")
    for condition in Condition.objects.exclude(day_before_text=""):
        condition.prep_text = " ".join(part for part in (condition.prep_text, condition.day_before_text) if part)
        condition.save(update_fields=["prep_text"])


seed = split  # tests/conftest.py puts the catalogue back after a live-server test with the seeds


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="condition",
            name="day_before_text",
            field=models.TextField(
                blank=True,
                default="",
                help_text="What to do the day before and on the day (shave the area, no make-up). "
                "Shown in the day-before note.",
                verbose_name="the day before",
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="condition",
            name="prep_text",
            field=models.TextField(
                blank=True,
                help_text="What to stop or avoid in the two weeks of preparation (retinoid creams, exfoliants). "
                "Shown in the prep reminder, which comes before the two weeks begin.",
                verbose_name="two weeks before",
            ),
        ),
        migrations.RunPython(split, join),
    ]
