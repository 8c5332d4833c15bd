"""Planned sun exposure, the engine's side: a treatment is not given during a patient's planned sun
exposure or in the prep window after it (the same 14 days, `prep.PREP_WINDOW`), counted in days
on the clinic's calendar, so a DST change inside it shifts nothing.

Slot search and the planner leave those days out (`kept_off_days`, on the rows the calendar's
round trip read); a booking or move onto one is refused with `refusal` unless staff acknowledge
it (`booking._place`); sessions already booked in them are listed for reception
(`sessions_kept_off`, `flagged_sessions`) and told to the patient by the outbox.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import formats, timezone

from clinic.errors import SchedulingError
from clinical.models import SunExposure
from scheduling.availability import dates, day_bounds
from scheduling.models import Appointment

from .prep import PREP_WINDOW

# The sessions a newly recorded exposure can meet: still to come and not yet started.
STILL_TO_COME = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


def last_kept_off(last_day: date) -> date:
    """The last local day without treatment after planned sun exposure ending on `last_day`."""
    return last_day + PREP_WINDOW


def first_treatment_day(exposure: SunExposure) -> date:
    return last_kept_off(exposure.last_day) + timedelta(days=1)


def keeps_off(exposure: SunExposure, day: date) -> bool:
    return exposure.first_day <= day <= last_kept_off(exposure.last_day)


def kept_off_days(exposures: Iterable[tuple[date, date, str]]) -> set[date]:
    """Every local day on which `exposures`, (first day, last day, what) each, keep treatments off."""
    return {day for first, last, _ in exposures for day in dates(first, last_kept_off(last))}


def span(exposure: SunExposure) -> str:
    """Its days as people write them: "3-10 July", "28 June-5 July", "28 Dec 2026-4 Jan 2027"."""
    first, last = exposure.first_day, exposure.last_day
    if first.year != last.year:
        return f"{formats.date_format(first, 'j M Y')}-{formats.date_format(last, 'j M Y')}"
    if first.month != last.month:
        return f"{formats.date_format(first, 'j F')}-{formats.date_format(last, 'j F')}"
    return f"{first.day}-{formats.date_format(last, 'j F')}" if first != last else formats.date_format(last, "j F")


def reason(exposure: SunExposure) -> str:
    """Why treatment waits: "planned sun exposure (beach holiday) 3-10 July: no treatment until 25 July"."""
    until = formats.date_format(first_treatment_day(exposure), "j F")
    return f"planned sun exposure ({exposure.what}) {span(exposure)}: no treatment until {until}"


def refusal(exposure_id: int) -> SchedulingError:
    """A booking's refusal of a treatment on a day the exposure keeps off (read only when refused)."""
    exposure = SunExposure.objects.get(pk=exposure_id)
    return SchedulingError(
        f"This treatment falls in the patient's {reason(exposure)}. Choose a later day, or confirm that the "
        "dermatologist agrees to treat then.",
        field="acknowledge_sun_exposure",
    )


def keep_or_refuse(appointment: Appointment, *, exposure_id: int | None, acknowledged: bool, by, now) -> None:
    """A treatment placed on a day planned sun exposure (`exposure_id`) keeps off needs staff's
    acknowledgement, recorded with who gave it; a move off those days drops it, as short prep's."""
    if exposure_id is not None and not acknowledged:
        raise refusal(exposure_id)
    appointment.sun_exposure_acknowledged_by = by if exposure_id is not None else None
    appointment.sun_exposure_acknowledged_at = now if exposure_id is not None else None


def sessions_kept_off(exposure: SunExposure, *, now: datetime):
    """The patient's treatments still to come on the days this exposure keeps off."""
    tz = timezone.get_default_timezone()
    return Appointment.objects.filter(
        patient_id=exposure.patient_id,
        kind=Appointment.Kind.TREATMENT,
        status__in=STILL_TO_COME,
        start__gt=now,
        start__gte=day_bounds(exposure.first_day, tz)[0],
        start__lt=day_bounds(last_kept_off(exposure.last_day), tz)[1],
    ).order_by("start", "pk")


def exposure_on(patient_id: int, day: date) -> SunExposure | None:
    """The patient's first planned sun exposure that keeps treatment off the local `day`."""
    exposures = SunExposure.objects.filter(patient_id=patient_id, first_day__lte=day, last_day__gte=day - PREP_WINDOW)
    return exposures.order_by("first_day", "pk").first()


def exposure_keeping_off(appointment: Appointment) -> SunExposure | None:
    """The patient's first planned sun exposure that keeps treatment off the appointment's day."""
    return exposure_on(appointment.patient_id, timezone.localdate(appointment.start))


def told(exposure: SunExposure) -> dict:
    """What an email says of the exposure: what, its days, and the first day treatment may be given."""
    return {"what": exposure.what, "span": span(exposure), "until": first_treatment_day(exposure)}


def flagged_sessions(*, now: datetime) -> list[tuple[Appointment, SunExposure]]:
    """Treatments still to come on days a planned sun exposure keeps off, that nobody confirmed
    since it was last recorded or changed: reception's "move or confirm" queue. Two queries."""
    today = timezone.localdate(now)
    exposures = list(SunExposure.objects.filter(last_day__gte=today - PREP_WINDOW))
    by_patient: dict[int, list[SunExposure]] = {}
    for exposure in exposures:
        by_patient.setdefault(exposure.patient_id, []).append(exposure)
    sessions = (
        Appointment.objects.filter(
            patient_id__in=by_patient, kind=Appointment.Kind.TREATMENT, status__in=STILL_TO_COME, start__gt=now
        )
        .select_related("patient", "practitioner__user", "course__condition")
        .order_by("start", "pk")
    )
    flagged = []
    for session in sessions:
        day, confirmed = timezone.localdate(session.start), session.sun_exposure_acknowledged_at
        for exposure in by_patient[session.patient_id]:
            if keeps_off(exposure, day) and (confirmed is None or confirmed < exposure.updated_at):
                flagged.append((session, exposure))
                break
    return flagged


def sun_exposure_confirm(*, appointment: Appointment, by=None, now: datetime | None = None) -> Appointment:
    """Staff keep a session on a day planned sun exposure keeps off (the dermatologist agrees): the
    acknowledgement a booking would have recorded, so the session leaves the queue."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status not in STILL_TO_COME:
            raise SchedulingError(f"A {appointment.get_status_display().lower()} session needs no confirming.")
        appointment.sun_exposure_acknowledged_by, appointment.sun_exposure_acknowledged_at = by, now
        appointment.save(update_fields=["sun_exposure_acknowledged_by", "sun_exposure_acknowledged_at", "updated_at"])
    return appointment
