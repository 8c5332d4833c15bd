# A session's number in its course is counted when it is read (see scheduling.models), not stored:
# the column goes, with the constraints that kept the stored numbers whole. The uniqueness of an
# active session's number is replaced by the capacity check under the course's row lock.

from django.db import migrations, models


def write_numbers(apps, schema_editor):
    """Going back: give every active treatment session its stored number again, 1, 2, 3 … per
    course in time order (ties by id), before the old constraints return."""
    Appointment = apps.get_model("scheduling", "Appointment")
    sessions = Appointment.objects.filter(
        kind="treatment", course__isnull=False, status__in=["booked", "confirmed", "checked_in", "completed"]
    ).order_by("course_id", "start", "pk")
    numbered, course, number = [], None, 0
    for session in sessions.only("pk", "course_id", "start"):
        number = number + 1 if session.course_id == course else 1
        course = session.course_id
        session.sequence = number
        numbered.append(session)
    Appointment.objects.bulk_update(numbered, ["sequence"], batch_size=1000)
    # A treatment that gave its place up kept a number too, which the old check wanted.
    Appointment.objects.filter(kind="treatment", sequence__isnull=True).update(sequence=1)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0007_move_out_catalogue_courses_notifications"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="appointment",
            name="treatment_has_course_device_sequence",
        ),
        migrations.RemoveConstraint(
            model_name="appointment",
            name="sequence_only_with_course",
        ),
        migrations.RemoveConstraint(
            model_name="appointment",
            name="sequence_starts_at_one",
        ),
        migrations.RemoveConstraint(
            model_name="appointment",
            name="one_active_appointment_per_course_sequence",
        ),
        migrations.RunPython(migrations.RunPython.noop, write_numbers, elidable=True),
        migrations.RemoveField(
            model_name="appointment",
            name="sequence",
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "treatment"), _negated=True),
                    models.Q(("course__isnull", False), ("device__isnull", False)),
                    _connector="OR",
                ),
                name="treatment_has_course_and_device",
            ),
        ),
    ]
