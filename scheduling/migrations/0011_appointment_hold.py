"""Held consultations (booked online, kept until the patient confirms their address): the status,
its expiry, and the exclusion constraints counting a held appointment as active, so the database
refuses an overlap with a hold as with any booking. An expired hold is released by the booking
that wants its time, inside that booking's transaction, before the insert (guard.py), so it never
blocks one. PostgreSQL only, as in 0003.
"""

from django.conf import settings
from django.db import migrations, models

WITHOUT_HELD = "status IN ('booked', 'confirmed', 'checked_in', 'completed')"
WITH_HELD = "status IN ('booked', 'confirmed', 'checked_in', 'completed', 'held')"
CONSTRAINTS = [
    ("appointment_no_overlap_practitioner", "practitioner_id", '"end"', ""),
    ("appointment_no_overlap_patient", "patient_id", '"end"', ""),
    ("appointment_no_overlap_room", "room_id", "blocked_until", ""),
    ("appointment_no_overlap_device", "device_id", "blocked_until", "device_id IS NOT NULL AND "),
]


def _replace_constraints(schema_editor, active):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column, until, also in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {name}")
        schema_editor.execute(
            f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({column} WITH =, tstzrange(start, {until}, '[)') WITH &&) WHERE ({also}{active})"
        )


def count_holds(apps, schema_editor):
    _replace_constraints(schema_editor, WITH_HELD)


def ignore_holds(apps, schema_editor):
    _replace_constraints(schema_editor, WITHOUT_HELD)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0003_practitioner_colour"),
        ("clinical", "0001_initial"),
        ("patients", "0006_move_out_condition_and_assessment"),
        ("scheduling", "0010_appointment_sun_exposure_acknowledged"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="hold_expires_at",
            field=models.DateTimeField(
                blank=True, help_text="Until when a held consultation keeps its time unconfirmed.", null=True
            ),
        ),
        migrations.AlterField(
            model_name="appointment",
            name="status",
            field=models.CharField(
                choices=[
                    ("booked", "Booked"),
                    ("confirmed", "Confirmed"),
                    ("checked_in", "Checked in"),
                    ("completed", "Completed"),
                    ("cancelled", "Cancelled"),
                    ("no_show", "No-show"),
                    ("held", "Held"),
                    ("released", "Hold expired"),
                ],
                default="booked",
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "held"), _negated=True),
                    models.Q(("hold_expires_at__isnull", False), ("kind", "consultation")),
                    _connector="OR",
                ),
                name="held_is_a_consultation_with_an_expiry",
            ),
        ),
        migrations.RunPython(count_holds, ignore_holds),
        # The slot search reads whether a hold has expired: the covering index carries it too.
        migrations.RemoveIndex(
            model_name="appointment",
            name="appointment_start_covering",
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                fields=["start"],
                include=(
                    "end",
                    "blocked_until",
                    "status",
                    "practitioner",
                    "room",
                    "device",
                    "patient",
                    "hold_expires_at",
                ),
                name="appointment_start_covering",
            ),
        ),
    ]
