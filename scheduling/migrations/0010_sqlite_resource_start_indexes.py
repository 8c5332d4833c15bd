"""On SQLite only: an index by practitioner, room and laser with start, so the slot search of one
practitioner reads only its resources' rows of the window (`diary.Whose.sql_with_spans`).

PostgreSQL does not get them: its exclusion constraints' GiST indexes serve those columns, and a
booking there would pay for three more indexes on every write. They are outside the models' state
for that reason (a `Meta.indexes` entry is made on every database).
"""

from django.db import migrations

COLUMNS = ("practitioner_id", "room_id", "device_id")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS appointment_{column}_start ON scheduling_appointment ({column}, start)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS appointment_{column}_start")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0009_appointment_calendar_uid")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
