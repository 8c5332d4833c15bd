"""PostgreSQL's last guard against double-booking: exclusion constraints over time ranges.

Practitioner and patient are exclusive over [start, end); room and device over
[start, blocked_until), which includes the turnover buffer. Only active appointments count.
These are PostgreSQL-only SQL, so the step does nothing on SQLite, where IMMEDIATE transactions
serialise writers and the booking service's own overlap check is the guard.
"""

from django.db import migrations

ACTIVE = "status IN ('booked', 'confirmed', 'checked_in', 'completed')"
CONSTRAINTS = [
    ("appointment_no_overlap_practitioner", "practitioner_id", '"end"', ACTIVE),
    ("appointment_no_overlap_patient", "patient_id", '"end"', ACTIVE),
    ("appointment_no_overlap_room", "room_id", "blocked_until", ACTIVE),
    ("appointment_no_overlap_device", "device_id", "blocked_until", f"device_id IS NOT NULL AND {ACTIVE}"),
]


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, column, until, where in CONSTRAINTS:
        schema_editor.execute(
            f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({column} WITH =, tstzrange(start, {until}, '[)') WITH &&) WHERE ({where})"
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, *_ in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_seed_treatment_areas")]

    operations = [migrations.RunPython(add_constraints, drop_constraints)]
