"""The outbox's system check (clinic/checks.py lists them all): the send task must give up well
before its row is claimed again. It lives beside the task whose limit it reads."""

from django.conf import settings
from django.core.checks import Error, register

from outbox import tasks

CLINIC_CHECKS = "clinic"  # `manage.py check --tag clinic` runs every clinic check


@register(CLINIC_CHECKS)
def check_send_time_limit(app_configs=None, **kwargs):
    limit = tasks.SEND_TIME_LIMIT
    requeue = getattr(settings, "NOTIFICATIONS", {}).get("REQUEUE_AFTER_SECONDS")
    if isinstance(requeue, int | float) and not isinstance(requeue, bool) and limit <= requeue / 2:
        return []
    return [
        Error(
            f"The send task's time limit ({limit} s) is not well under NOTIFICATIONS['REQUEUE_AFTER_SECONDS'] "
            f"({requeue!r}): it must be at most half of it.",
            hint="A row is claimed again after REQUEUE_AFTER_SECONDS; a worker still sending it then would "
            "send the email twice. Raise REQUEUE_AFTER_SECONDS or lower SEND_TIME_LIMIT in the tasks module.",
            id="clinic.E003",
        )
    ]
