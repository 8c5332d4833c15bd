"""The dermatologists' skin-check queue: answers other than "settled", the worst first, then the
sessions whose patient has not answered SKIN_CHECK_NO_ANSWER_DAYS after the email went out."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When

from aftercare.models import SkinCheck
from outbox.models import Notification

Answer = SkinCheck.Answer
QUEUE_LENGTH = 100
# Worst first: blistering or pain, then still red or swollen, then something else.
SEVERITY = (Answer.BLISTERING, Answer.RED, Answer.OTHER)


def _first(queryset) -> dict:
    rows = list(queryset[: QUEUE_LENGTH + 1])
    return {"rows": rows[:QUEUE_LENGTH], "more": len(rows) > QUEUE_LENGTH}


def answers_to_see():
    """Answers not yet marked seen, other than "settled": by severity, oldest answer first within."""
    severity = Case(*(When(answer=a, then=Value(n)) for n, a in enumerate(SEVERITY)), output_field=IntegerField())
    return (
        SkinCheck.objects.filter(answer__in=SEVERITY, handled_at__isnull=True, appointment__patient__erased_at=None)
        .select_related("appointment__patient", "appointment__practitioner__user")
        .annotate(severity=severity)
        .order_by("severity", "answered_at", "pk")
    )


def unanswered(*, now: datetime):
    """The skin-check emails sent at least SKIN_CHECK_NO_ANSWER_DAYS ago whose session has no answer
    and was not marked seen (no SkinCheck row at all): oldest email first."""
    cutoff = now - timedelta(days=settings.SKIN_CHECK_NO_ANSWER_DAYS)
    return (
        Notification.objects.filter(
            kind=Notification.Kind.SKIN_CHECK, status=Notification.Status.SENT, sent_at__lte=cutoff
        )
        .exclude(Exists(SkinCheck.objects.filter(appointment=OuterRef("appointment"))))
        .filter(patient__erased_at=None)
        .select_related("appointment__patient", "appointment__practitioner__user")
        .order_by("sent_at", "pk")
    )


def skin_queue(*, now: datetime) -> dict:
    return {"answers": _first(answers_to_see()), "unanswered": _first(unanswered(now=now))}
