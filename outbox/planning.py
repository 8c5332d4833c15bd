"""Planning the patient emails a booking change causes, in the caller's transaction.

The booking services announce each change (`scheduling.events`); `on_appointment_changed` plans
the rows for it, so a booking and its emails commit or roll back together. Rows are never
enqueued as far-future Celery tasks: the dispatcher (outbox/sending.py) claims what is due every
minute, so a lost Redis queue delays mail but loses none.
"""

import logging
import uuid
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from clinical import events as clinical_events
from clinical.models import TreatmentCourse
from outbox.models import Notification
from scheduling import events
from scheduling.availability import local_instant
from scheduling.models import Appointment
from scheduling.services import sun
from scheduling.services.slots import course_sessions, prep_begins

log = logging.getLogger(__name__)
Kind = Notification.Kind
Status = Notification.Status
ON_THE_WAY = (Status.PENDING, Status.QUEUED)


def _setting(name):
    return settings.NOTIFICATIONS[name]


def _email(*, key, kind, due_at, patient, appointment=None, course=None) -> Notification:
    return Notification(
        key=key,
        kind=kind,
        due_at=due_at,
        patient=patient,
        appointment=appointment,
        course=course or (appointment.course if appointment else None),
        appointment_version=appointment.version if appointment else None,
    )


def _about(appointment, kind, *, due_at) -> Notification:
    """An email about this version of the appointment."""
    key = f"a{appointment.pk}.v{appointment.version}.{kind}"
    return _email(key=key, kind=kind, due_at=due_at, patient=appointment.patient, appointment=appointment)


def _store(emails) -> None:
    """One insert for all of an event's emails; `key` is unique, so planning an event twice adds nothing."""
    Notification.objects.bulk_create(emails, ignore_conflicts=True)


def _clinic_time(day, hour) -> datetime:
    return local_instant(day, time(hour), timezone.get_default_timezone())


def _visit_reminders(appointment, *, now, prep_sent=False) -> list[Notification]:
    """A treatment's prep reminder (a lead of days before the two weeks of prep begin, so the patient
    can plan them; at once when booked later) and day-before note."""
    if appointment.kind != Appointment.Kind.TREATMENT:
        return []
    emails = []
    prep_due = prep_begins(appointment.start) - timedelta(days=_setting("PREP_REMINDER_LEAD_DAYS"))
    if prep_due > now or not prep_sent:
        emails.append(_about(appointment, Kind.PREP_REMINDER, due_at=max(prep_due, now)))
    day_before = _clinic_time(timezone.localdate(appointment.start) - timedelta(days=1), _setting("DAY_BEFORE_HOUR"))
    # Booked after the note's time: send it at once, unless the visit is already today.
    if day_before > now or timezone.localdate(appointment.start) > timezone.localdate(now):
        emails.append(_about(appointment, Kind.DAY_BEFORE, due_at=max(day_before, now)))
    return emails


def _withdraw(queryset) -> int:
    """Cancel rows not yet handed to the mail server."""
    return queryset.filter(status__in=ON_THE_WAY).update(status=Status.CANCELLED)


def plan_for_booking(appointment, *, now) -> None:
    """Booking confirmation, the treatment's reminders, and no more prompts to book this session."""
    _store([_about(appointment, Kind.CONFIRMATION, due_at=now), *_visit_reminders(appointment, now=now)])
    if appointment.kind == Appointment.Kind.TREATMENT:
        _withdraw(Notification.objects.filter(course=appointment.course_id, kind=Kind.NEXT_SESSION))


def plan_for_hold(appointment, *, now) -> None:
    """A consultation held for its patient to confirm their address: the link, at once, and nothing
    else (no reminder while held; a confirmed hold is announced as a booking)."""
    _store([_about(appointment, Kind.HOLD, due_at=now)])


def plan_for_reschedule(appointment, *, now) -> None:
    """Replace the pending emails about the old time with a notice and reminders for the new one;
    a prep reminder already sent is not sent again for a move inside the prep window."""
    _withdraw(appointment.notifications.exclude(kind__in=(Kind.AFTERCARE, Kind.NEXT_SESSION)))
    prep_sent = appointment.notifications.filter(kind=Kind.PREP_REMINDER, status=Status.SENT).exists()
    reminders = _visit_reminders(appointment, now=now, prep_sent=prep_sent)
    _store([_about(appointment, Kind.RESCHEDULED, due_at=now), *reminders])


def plan_for_cancellation(appointment, *, now) -> None:
    """Withdraw everything pending about the appointment and tell the patient it is cancelled; a
    course's next session given up is to be booked again."""
    _withdraw(appointment.notifications.all())
    _store([_about(appointment, Kind.CANCELLED, due_at=now), *_prompts_again(appointment, now=now)])


def plan_for_no_show(appointment, *, now) -> None:
    _withdraw(appointment.notifications.all())
    _store(_prompts_again(appointment, now=now))


def plan_for_course_cancellation(course) -> None:
    """A cancelled course has no next session to book."""
    _withdraw(Notification.objects.filter(course=course, kind=Kind.NEXT_SESSION))


def plan_for_erasure(patient) -> None:
    """An erased patient gets no more emails, and the log keeps no server message quoting their address."""
    _withdraw(Notification.objects.filter(patient=patient))
    Notification.objects.filter(patient=patient).exclude(last_error="").update(last_error="")


def plan_sign_in(patient, *, now) -> Notification:
    """A sign-in link the patient asked for, due at once (the caller queues it at once too)."""
    key = f"p{patient.pk}.{Kind.SIGN_IN}.{uuid.uuid4().hex}"  # every request is an email of its own
    return Notification.objects.create(key=key, kind=Kind.SIGN_IN, due_at=now, patient=patient)


def skin_check_due(appointment, *, now) -> datetime:
    """SKIN_CHECK_DAYS after the session, on the clinic's calendar, at SKIN_CHECK_HOUR clinic time (a
    civil hour whatever the clock change in between); at once when the session was recorded later."""
    day = timezone.localdate(appointment.start) + timedelta(days=settings.SKIN_CHECK_DAYS)
    return max(_clinic_time(day, settings.SKIN_CHECK_HOUR), now)


def plan_for_completion(appointment, *, now) -> None:
    """Aftercare at once, the skin check two days after (`skin_check_due`); prompts to book the next
    session while none is booked."""
    if appointment.kind != Appointment.Kind.TREATMENT:
        return
    patient = appointment.patient
    emails = [
        _email(key=f"a{appointment.pk}.{Kind.AFTERCARE}", kind=Kind.AFTERCARE, due_at=now, patient=patient,
               appointment=appointment),
        _email(key=f"a{appointment.pk}.{Kind.SKIN_CHECK}", kind=Kind.SKIN_CHECK, patient=patient,
               due_at=skin_check_due(appointment, now=now), appointment=appointment),
    ]  # fmt: skip
    _store([*emails, *_prompts(appointment.course, after=appointment, now=now)])


def _prompts(course, *, after, now, tag="") -> list[Notification]:
    """Prompts to book the session after `after` (a completed session) while none is booked and one is
    left: in NEXT_SESSION_PROMPT_DAYS, and WINDOW_CLOSING_DAYS before its interval window closes."""
    sessions = course_sessions(course)
    if sessions.count() >= course.planned_sessions or sessions.filter(start__gt=after.start).exists():
        return []
    first = now + timedelta(days=_setting("NEXT_SESSION_PROMPT_DAYS"))
    last_day = timezone.localdate(after.start) + course.max_interval  # the window's last day
    closing_day = last_day - timedelta(days=_setting("WINDOW_CLOSING_DAYS"))
    second = _clinic_time(closing_day, _setting("DAY_BEFORE_HOUR"))
    emails = []
    for number, due in enumerate((first, second), 1):
        if number == 1 or due > first:
            key = f"c{course.pk}.after{after.pk}{tag}.{Kind.NEXT_SESSION}.{number}"
            emails.append(_email(key=key, kind=Kind.NEXT_SESSION, due_at=due, patient=course.patient, course=course))
    return emails


def _prompts_again(appointment, *, now) -> list[Notification]:
    """A course's next session cancelled or missed: the prompts to book it, planned afresh from the
    last completed session (a course with none yet has no prompts: reception books its first)."""
    if appointment.kind != Appointment.Kind.TREATMENT or appointment.course_id is None:
        return []
    course = TreatmentCourse.objects.select_related("patient").get(pk=appointment.course_id)
    if course.status not in TreatmentCourse.BOOKABLE_STATUSES:
        return []
    last = course_sessions(course).filter(status=Appointment.Status.COMPLETED).order_by("-start").first()
    if last is None or last.start > appointment.start:
        return []
    return _prompts(course, after=last, now=now, tag=f".gap{appointment.pk}.v{appointment.version}")


_PLANS = {
    events.BOOKED: plan_for_booking,
    events.HELD: plan_for_hold,
    events.RESCHEDULED: plan_for_reschedule,
    events.CANCELLED: plan_for_cancellation,
    events.COMPLETED: plan_for_completion,
    events.NO_SHOW: plan_for_no_show,
}


def on_appointment_changed(sender, *, appointment, change, now, **kwargs) -> None:
    """The receiver of `scheduling.events.appointment_changed`."""
    _PLANS[change](appointment, now=now)


def plan_for_sun_exposure(exposure, *, now) -> None:
    """Tell the patient of each treatment still to come on a day their planned sun exposure, as just
    recorded or changed, keeps off (reception sees the same sessions in its queue)."""
    stamp = int(exposure.updated_at.timestamp())
    sessions = sun.sessions_kept_off(exposure, now=now).select_related("patient")
    _store([_email(key=f"a{a.pk}.v{a.version}.sun{exposure.pk}.{stamp}", kind=Kind.SUN_EXPOSURE, due_at=now,
                   patient=a.patient, appointment=a) for a in sessions])  # fmt: skip


def on_sun_exposure_changed(sender, *, exposure, change, now, **kwargs) -> None:
    """The receiver of `clinical.events.sun_exposure_changed`; a removed exposure's emails still to
    go are skipped when they fall due (`sending.unwanted_reason`)."""
    if change in (clinical_events.RECORDED, clinical_events.CHANGED):
        plan_for_sun_exposure(exposure, now=now)


def on_course_changed(sender, *, course, change, now, **kwargs) -> None:
    """The receiver of `scheduling.events.course_changed`."""
    if change == events.COURSE_CANCELLED:
        plan_for_course_cancellation(course)
