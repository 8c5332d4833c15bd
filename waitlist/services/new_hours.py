"""Time that new or longer working hours open, offered to the waitlist.

A practitioner's weekly hours are changed in the admin (or by a script), as rows of
`catalogue.WorkingHours`; the catalogue knows nothing of the waitlist, so `waitlist/apps.py` hears
the rows' own save signals, inside the transaction that saves them: the hours and their offers
commit or roll back together. Only the part of the week that was not working time before is
offered: hours that merely move their end earlier, or are removed, open nothing.
"""

from datetime import date, datetime, time, timedelta

from django.db.models import F, Max, Min
from django.utils import timezone

from catalogue.models import WorkingHours
from scheduling.availability import dates, local_instant
from scheduling.models import Appointment
from scheduling.services.slots import DEFAULT_VISIT_MINUTES, find_slots
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.services.matching import FreeSlot, offer_slot

# How far ahead new hours are offered: the waitlist is for the coming weeks, not next year.
NEW_HOURS_HORIZON = timedelta(days=91)
SHORTEST_VISIT = timedelta(minutes=DEFAULT_VISIT_MINUTES)
GRID = timedelta(minutes=15)


def opened_clock_times(*, after: tuple[time, time], covered: list[tuple[time, time]]) -> list[tuple[time, time]]:
    """The wall-clock stretches of `after` that none of `covered` (the day's hours before) covered."""
    opened = [after]
    for begin, end in covered:
        opened = [
            piece
            for start, stop in opened
            for piece in ((start, min(stop, begin)), (max(start, end), stop))
            if piece[0] < piece[1]
        ]
    return opened


def wanted_days(*, weekday: int, today: date) -> list[date]:
    """The coming dates on `weekday` that some waiting entry covers (one query)."""
    bit = 1 << weekday
    span = (
        WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING, latest_date__gte=today)
        .annotate(on_day=F("weekdays").bitand(bit))
        .filter(on_day__gt=0)
        .aggregate(first=Min("earliest_date"), last=Max("latest_date"))
    )
    if span["first"] is None:
        return []
    first, last = max(span["first"], today), min(span["last"], today + NEW_HOURS_HORIZON)
    return [day for day in dates(first, last) if day.weekday() == weekday]


def free_stretch(*, practitioner, day: date, clock: tuple[time, time], now: datetime) -> FreeSlot | None:
    """The first stretch inside `clock` on `day` that the practitioner, one room and (if one is
    free) one laser have free for at least the shortest visit, as the slot search sees it."""
    tz = timezone.get_default_timezone()
    begins, ends = (local_instant(day, moment, tz) for moment in clock)
    latest_start = ends - SHORTEST_VISIT + timedelta(seconds=1)
    for kind in (Appointment.Kind.TREATMENT, Appointment.Kind.CONSULTATION):
        slots = find_slots(
            start_date=day, days=1, kind=kind, length=SHORTEST_VISIT, practitioner=practitioner,
            earliest=begins, latest_start=latest_start, now=now, limit=(ends - begins) // GRID + 1,
        )  # fmt: skip
        if not slots:
            continue
        first = slots[0]
        run_end = first.end
        # As long as the next grid start keeps the same room and laser, they stay free together.
        for slot in slots[1:]:
            if slot.start != run_end - SHORTEST_VISIT + GRID or (slot.room, slot.device) != (first.room, first.device):
                break
            run_end = slot.end
        device_id = first.device.pk if first.device is not None else None
        return FreeSlot(first.start, run_end, practitioner.pk, first.room.pk, device_id)
    return None


def offer_new_hours(
    *, practitioner, weekday: int, opened: list[tuple[time, time]], now: datetime | None = None
) -> list[WaitlistOffer]:
    """Offer the time `opened` on each coming `weekday` to the waitlist, through the matcher, the
    earliest first; a patient is offered one of these times, not each of them."""
    now = now or timezone.now()
    offers = []
    for day in wanted_days(weekday=weekday, today=timezone.localdate(now)):
        for clock in opened:
            stretch = free_stretch(practitioner=practitioner, day=day, clock=clock, now=now)
            if stretch is not None:
                passed_over = frozenset(offer.entry.patient_id for offer in offers)
                offers += offer_slot(slot=stretch, now=now, passed_over=passed_over)
    return offers


def remember_hours_before(sender, *, instance: WorkingHours, raw=False, **kwargs) -> None:
    """`pre_save` of WorkingHours: the practitioner's hours on the row's weekday before this save
    (the row's own old hours among them when it was on that day already)."""
    if not raw:
        rows = WorkingHours.objects.filter(practitioner_id=instance.practitioner_id, weekday=instance.weekday)
        instance._hours_before = list(rows.values_list("start_time", "end_time"))


def on_hours_saved(sender, *, instance: WorkingHours, raw=False, **kwargs) -> None:
    """`post_save` of WorkingHours: offer what the saved hours newly open."""
    if raw:  # fixtures load hours, they do not open them
        return
    opened = opened_clock_times(
        after=(instance.start_time, instance.end_time), covered=getattr(instance, "_hours_before", [])
    )  # fmt: skip
    if opened:
        offer_new_hours(practitioner=instance.practitioner, weekday=instance.weekday, opened=opened)
