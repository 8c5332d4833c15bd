"""Seed the treatment areas with their size classes (small 30, medium 45, large 60 minutes)."""

from django.db import migrations

AREAS = [
    ("Full face", "large"),
    ("Cheeks", "medium"),
    ("Forehead", "small"),
    ("Around the eyes", "small"),
    ("Neck", "medium"),
    ("Décolletage", "medium"),
    ("Back of the hands", "small"),
    ("Back", "large"),
    ("Small tattoo (up to 5 × 5 cm)", "small"),
    ("Medium tattoo (up to 15 × 15 cm)", "medium"),
    ("Large tattoo (over 15 × 15 cm)", "large"),
]


def seed(apps, schema_editor):
    TreatmentArea = apps.get_model("scheduling", "TreatmentArea")
    for name, size in AREAS:
        TreatmentArea.objects.update_or_create(name=name, defaults={"size": size})


def unseed(apps, schema_editor):
    TreatmentArea = apps.get_model("scheduling", "TreatmentArea")
    TreatmentArea.objects.filter(name__in=[name for name, _ in AREAS], courses__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
