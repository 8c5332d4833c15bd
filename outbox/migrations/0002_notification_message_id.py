"""Each outbox row gets a stored, random Message-ID, in place of one built from its id and the host.

Added blank, filled one fresh value per existing row (a column default would give every row the
same one), then given its default for new rows.
"""

from django.db import migrations, models

import outbox.models


def fill(apps, schema_editor):
    Notification = apps.get_model("outbox", "Notification")
    rows = list(Notification.objects.filter(message_id="").only("pk"))
    for row in rows:
        row.message_id = outbox.models.new_message_id()
    Notification.objects.bulk_update(rows, ["message_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="message_id",
            field=models.CharField(default="", editable=False, max_length=255, verbose_name="Message-ID"),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="notification",
            name="message_id",
            field=models.CharField(
                default=outbox.models.new_message_id, editable=False, max_length=255, verbose_name="Message-ID"
            ),
        ),
    ]
