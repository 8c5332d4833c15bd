"""Each appointment gets a random calendar UID, in place of one built from its id and the host.

Added nullable, filled one random value per existing row (a column default would give every row
the same one), then made required.
"""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Appointment = apps.get_model("scheduling", "Appointment")
    rows = list(Appointment.objects.filter(calendar_uid__isnull=True).only("pk"))
    for row in rows:
        row.calendar_uid = uuid.uuid4()
    Appointment.objects.bulk_update(rows, ["calendar_uid"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0008_appointment_session_number_derived")]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="calendar_uid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="appointment",
            name="calendar_uid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, help_text="The UID of its event in the patient's calendar."
            ),
        ),
    ]
