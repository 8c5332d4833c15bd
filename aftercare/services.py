"""The skin check's rules: the patient's answer (a second answer replaces the first) and a
dermatologist marking a queue entry seen. django-auditlog records each change of a row."""

from datetime import datetime

from django.db import transaction

from aftercare.models import SkinCheck
from catalogue.permissions import acting_dermatologist
from clinic.errors import SchedulingError
from scheduling.models import Appointment

Answer = SkinCheck.Answer
TEXT_LENGTH = SkinCheck._meta.get_field("text").max_length


def skin_check_answer(*, appointment: Appointment, answer: str, text: str = "", now: datetime) -> SkinCheck:
    """Record the patient's answer about the skin after `appointment` (a completed treatment). A
    second answer replaces the first, and an answer other than "settled" comes back into the
    dermatologists' queue even if an earlier one was marked seen. "Something else" needs a few words."""
    text = " ".join(text.split())
    if answer not in Answer.values:
        raise SchedulingError("Please choose one of the answers.", field="answer")
    if answer == Answer.OTHER and not text:
        raise SchedulingError("Please tell us in a few words what you notice.", field="text")
    if len(text) > TEXT_LENGTH:
        raise SchedulingError(f"Please keep it to {TEXT_LENGTH} characters, or call the clinic.", field="text")
    if appointment.status != Appointment.Status.COMPLETED or appointment.kind != Appointment.Kind.TREATMENT:
        raise SchedulingError("This treatment was not completed, so there is nothing to answer.")
    values = {"answer": answer, "text": text if answer == Answer.OTHER else "", "answered_at": now}
    with transaction.atomic():
        check, created = SkinCheck.objects.select_for_update().get_or_create(
            appointment=appointment, defaults=values | {"answers": 1}
        )
        if not created:  # one audit entry per answer: the row is written once each time
            for name, value in values.items():
                setattr(check, name, value)
            check.answers += 1
            check.handled_at = check.handled_by = None
            check.save()
    return check


def skin_check_handle(*, appointment: Appointment, by, now: datetime) -> SkinCheck:
    """A dermatologist has seen the answer (or that there is none) and dealt with it: the entry
    leaves the queue until the patient answers again."""
    if acting_dermatologist(by) is None:
        raise SchedulingError("Only a dermatologist can mark a skin check as seen.")
    if appointment.status != Appointment.Status.COMPLETED or appointment.kind != Appointment.Kind.TREATMENT:
        raise SchedulingError("This visit is not a completed treatment, so it has no skin check.")
    with transaction.atomic():
        check, created = SkinCheck.objects.select_for_update().get_or_create(
            appointment=appointment, defaults={"handled_at": now, "handled_by": by}
        )
        if not created and check.handled_at is None:
            check.handled_at, check.handled_by = now, by
            check.save()
    return check
