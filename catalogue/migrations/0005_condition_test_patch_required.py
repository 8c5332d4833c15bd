from django.db import migrations, models

# The seeded condition whose protocol asks for a test patch whatever the skin type: pigment
# lesions, where a pico laser's effect on melanin (post-inflammatory darkening or lightening) is the
# least predictable. The others stay off and their patients' skin types decide (TEST_PATCH_SKIN_TYPES);
# a clinic that patches every tattoo switches tattoo removal on in the admin.
PATCH_FIRST = ("pigmentation",)


def seed(apps, schema_editor):
    Condition = apps.get_model("catalogue", "Condition")
    Condition.objects.filter(slug__in=PATCH_FIRST).update(test_patch_required=True)


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0004_condition_outcome_scale")]

    operations = [
        migrations.AddField(
            model_name="condition",
            name="test_patch_required",
            field=models.BooleanField(
                default=False,
                help_text="A course for this condition has a test patch at least TEST_PATCH_WAIT_DAYS before its "
                "first session, whatever the patient's skin type (the skin types in TEST_PATCH_SKIN_TYPES always "
                "have one).",
                verbose_name="test patch first",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
