"""Patient emails: one message per outbox row, rendered from `templates/emails/<kind>.txt|html`.

Messages carry what the patient needs to know and act on (times, place, preparation and
aftercare advice, links), never clinical details such as skin type, contraindications or laser
settings. The emails that make or change an event in the patient's calendar (the confirmation, the
reschedule and the cancellation notices) carry an iCalendar invitation whose UID, a random one
stored on the appointment, stays the same for the appointment's life and whose SEQUENCE is its
version, so calendars update or remove the event. Reminders carry none: the same REQUEST again
would only be offered to the patient again.
"""

import re
import secrets
from datetime import UTC, datetime, timedelta
from email.mime.text import MIMEText
from email.utils import format_datetime, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import formats, timezone
from icalendar import Calendar, Event, vCalAddress

from outbox.links import link_url, portal_url, sign_in_url
from outbox.models import Notification
from scheduling.models import Appointment
from scheduling.services import sun
from scheduling.services.slots import interval_window, is_short_prep, prep_begins

Kind = Notification.Kind
# Emails about one appointment's time.
VISIT_KINDS = (
    Kind.CONFIRMATION, Kind.PREP_REMINDER, Kind.DAY_BEFORE, Kind.RESCHEDULED, Kind.CANCELLED, Kind.SUN_EXPOSURE,
    Kind.HOLD,
)  # fmt: skip
# Those that make, change or remove the calendar event: they carry the invitation.
INVITE_KINDS = (Kind.CONFIRMATION, Kind.RESCHEDULED, Kind.CANCELLED)
PREP_LINK_KINDS = (Kind.CONFIRMATION, Kind.PREP_REMINDER, Kind.DAY_BEFORE, Kind.RESCHEDULED)
SUBJECTS = {
    Kind.CONFIRMATION: "Your {what} on {date} at {time} is booked",
    Kind.PREP_REMINDER: "Preparing for your treatment on {date}",
    Kind.DAY_BEFORE: "Your treatment on {date} at {time}: a few reminders",
    Kind.AFTERCARE: "Caring for your skin after your treatment",
    Kind.NEXT_SESSION: "Time to book your next session",
    Kind.RESCHEDULED: "Your {what} has moved to {date} at {time}",
    Kind.CANCELLED: "Your {what} on {date} at {time} is cancelled",
    Kind.SIGN_IN: "Your link to sign in",
    Kind.SUN_EXPOSURE: "Your {what} on {date} and your time in the sun",
    Kind.HOLD: "Confirm your {what} on {date} at {time}",
    Kind.WAITLIST_OFFER: "A {what} time has come free: {date} at {time}",
    Kind.SKIN_CHECK: "How is your skin after your treatment?",
}
# What a room above adds to the context of its own kinds of email (`register_kind`): the waitlist's
# offers, the aftercare's skin check.
_KIND_CONTEXT = {}


def register_kind(kind: str, context) -> None:
    """Let the room that owns `kind` give its emails' context: `context(notification, now=...)` -> dict,
    called when the row's message is built (the room registers it in its AppConfig.ready)."""
    _KIND_CONTEXT[kind] = context


TITLES = {
    Appointment.Kind.TREATMENT: "Laser treatment",
    Appointment.Kind.CONSULTATION: "Consultation",
    Appointment.Kind.REVIEW: "Review appointment",
    Appointment.Kind.TEST_PATCH: "Test patch",
}


class PatientEmail(EmailMultiAlternatives):
    """Django's message, with its MIME boundaries chosen when it is built. Left unset, the email
    package checks each boundary it draws against the text with a freshly compiled regular
    expression (0.2 ms a message); a random 128-bit boundary cannot occur in the text by chance,
    and the text's author cannot know it."""

    invitation: MIMEText | None = None  # the calendar part, set by `build_message`

    def message(self):
        message = super().message()
        if self.invitation is not None:
            # Where Outlook looks for a meeting request: beside the text and HTML, as one more
            # alternative (the `.ics` attachment is for the clients that only offer files).
            alternative = next(part for part in message.walk() if part.get_content_type() == "multipart/alternative")
            alternative.attach(self.invitation)
        for part in message.walk():
            if part.is_multipart():
                part.set_boundary(f"=={secrets.token_hex(16)}==")
        return message


def build_message(notification: Notification, *, now: datetime | None = None) -> PatientEmail:
    """The email for one outbox row, ready to `send()`.

    Its Message-ID is stored on the row, so a resend after a crash carries the same id and the
    receiving side can tell it is the same message.
    """
    now = now or timezone.now()
    appointment = notification.appointment
    if notification.kind in VISIT_KINDS and appointment is None:
        raise ValueError(f"A {notification.kind} email needs an appointment (notification {notification.pk}).")
    unsubscribe = link_url("unsubscribe", patient=notification.patient)
    # Times in the clinic's zone whatever zone the caller activated.
    with timezone.override(timezone.get_default_timezone()):
        context = _context(notification, now=now, unsubscribe_url=unsubscribe)
        subject = context["subject"] = _subject(notification.kind, context)
        text = render_to_string(f"emails/{notification.kind}.txt", context)
        html = render_to_string(f"emails/{notification.kind}.html", context)
    message = PatientEmail(
        subject=subject,
        body=_tidy(text),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.patient.email],
        headers={
            "Message-ID": notification.message_id,
            "Date": format_datetime(now.astimezone(UTC)),  # +0000: the time is known to be UTC
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",  # no out-of-office replies to a reminder
        },
    )
    message.attach_alternative(html, "text/html")
    if notification.kind in INVITE_KINDS:
        method = "CANCEL" if notification.kind == Kind.CANCELLED else "REQUEST"
        ics = invite(appointment, attendee=notification.patient.email, method=method, now=now)
        message.invitation = invite_part(ics, method=method)
        message.attach("invite.ics", ics, "application/ics")
    return message


def invite_part(ics: str, *, method: str) -> MIMEText:
    """The invitation as a `text/calendar` part whose `method` parameter matches the file's METHOD,
    which is what mail clients look at to offer "add to calendar"."""
    part = MIMEText(ics, "calendar", "utf-8")
    part.set_param("method", method)
    return part


def invite(appointment: Appointment, *, attendee: str, method: str = "REQUEST", now: datetime | None = None) -> str:
    """One VEVENT for the patient at `attendee`: UID stable per appointment, SEQUENCE its version,
    times in UTC, private to the patient's calendar. METHOD is REQUEST, or CANCEL (with
    STATUS:CANCELLED) to remove the event."""
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Scheduler//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", str(appointment.calendar_uid))
    event.add("sequence", appointment.version)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", appointment.start.astimezone(UTC))
    event.add("dtend", appointment.end.astimezone(UTC))
    title = TITLES.get(appointment.kind, "Appointment")
    event.add("summary", f"{title} at {settings.CLINIC_NAME}")
    event.add("location", f"{settings.CLINIC_NAME}, {settings.CLINIC_ADDRESS}")
    event.add(
        "description", f"{title} with {appointment.practitioner}. To change it, call us on {settings.CLINIC_PHONE}."
    )
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("class", "PRIVATE")  # a shared or delegated calendar shows the time, not the visit
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["CN"] = name or settings.CLINIC_NAME
    event.add("organizer", organizer)
    patient = vCalAddress(f"mailto:{attendee}")
    patient.params["ROLE"] = "REQ-PARTICIPANT"
    patient.params["RSVP"] = "FALSE"  # the confirm link answers; calendar replies would reach nobody
    event.add("attendee", patient)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def _context(notification: Notification, *, now: datetime, unsubscribe_url: str) -> dict:
    patient = notification.patient
    context = {
        "kind": notification.kind,
        "first_name": patient.first_name,
        "clinic": {"name": settings.CLINIC_NAME, "address": settings.CLINIC_ADDRESS, "phone": settings.CLINIC_PHONE},
        "unsubscribe_url": unsubscribe_url,
        "portal_url": portal_url(),  # "manage your visits", in every email
    }
    if notification.kind == Kind.SIGN_IN:
        context["sign_in_url"] = sign_in_url(patient)
        context["sign_in_minutes"] = int(settings.SESAME_MAX_AGE.total_seconds() // 60)
    appointment = notification.appointment
    course = notification.course or (appointment.course if appointment else None)
    if appointment is not None:
        context["visit"] = _visit(appointment)
        if notification.kind == Kind.HOLD:
            context["hold_url"] = link_url("hold", appointment=appointment)
            context["hold_until"] = timezone.localtime(appointment.hold_expires_at)
            context["hold_minutes"] = settings.HOLD_MINUTES
        if notification.kind in (Kind.CONFIRMATION, Kind.RESCHEDULED):
            context["confirm_url"] = link_url("confirm", appointment=appointment)
            context["cancel_url"] = link_url("cancel", appointment=appointment)
        if appointment.kind == Appointment.Kind.TREATMENT and notification.kind in PREP_LINK_KINDS:
            context["prep_url"] = link_url("prep", appointment=appointment)
        context["short_prep"] = is_short_prep(kind=appointment.kind, start=appointment.start, now=now)
        context["prep_from"] = timezone.localtime(prep_begins(appointment.start))
        # The days left to prepare, counted on the clinic's calendar: booked on Monday for Friday, four.
        context["prep_days"] = (timezone.localdate(appointment.start) - timezone.localdate(now)).days
        exposure = sun.exposure_keeping_off(appointment) if notification.kind == Kind.SUN_EXPOSURE else None
        if exposure is not None:
            context["sun"] = sun.told(exposure)
    if course is not None:
        context["prep_text"] = course.condition.prep_text
        context["day_before_text"] = course.condition.day_before_text
        context["aftercare_text"] = course.condition.aftercare_text
        if notification.kind == Kind.NEXT_SESSION:
            context.update(_next_session(course, now=now))
        if notification.kind == Kind.AFTERCARE and appointment is not None:
            number = appointment.session_number
            context["course_finished"] = number is not None and number >= course.planned_sessions
    if notification.kind in _KIND_CONTEXT:
        context.update(_KIND_CONTEXT[notification.kind](notification, now=now))
    return context


def _visit(appointment: Appointment) -> dict:
    return {
        "what": TITLES.get(appointment.kind, "Appointment").lower(),
        "title": TITLES.get(appointment.kind, "Appointment"),
        "start": timezone.localtime(appointment.start),
        "end": timezone.localtime(appointment.end),
        "minutes": int((appointment.end - appointment.start).total_seconds() // 60),
        "practitioner": str(appointment.practitioner),
        "is_treatment": appointment.kind == Appointment.Kind.TREATMENT,
        "is_consultation": appointment.kind == Appointment.Kind.CONSULTATION,
        "is_test_patch": appointment.kind == Appointment.Kind.TEST_PATCH,
    }


def _next_session(course, *, now: datetime) -> dict:
    """When the next session should be, from the course's last completed session."""
    sessions = course.appointments.filter(kind=Appointment.Kind.TREATMENT)
    done = sessions.filter(status=Appointment.Status.COMPLETED).order_by("-start")
    last = done.first()
    context = {"sessions_done": done.count(), "sessions_planned": course.planned_sessions}
    if last is None:
        return context
    earliest, latest = interval_window(last.start, course)
    today = timezone.localdate(now)
    first_day = timezone.localdate(earliest)
    last_day = timezone.localdate(latest - timedelta(microseconds=1))  # `latest` is the midnight after
    if last_day >= today:
        context["window_from"] = max(first_day, today)
        context["window_to"] = last_day
        # The prompt that comes as the window nears its end (outbox.planning) says when it closes.
        context["window_closing"] = (last_day - today).days <= settings.NOTIFICATIONS["WINDOW_CLOSING_DAYS"]
    return context


def _subject(kind: str, context: dict) -> str:
    visit = context.get("visit")
    if context.get("window_closing"):
        return f"Book your next session by {formats.date_format(context['window_to'], 'l j F')}"
    if visit is None:
        return SUBJECTS[kind]
    return SUBJECTS[kind].format(
        what=visit["what"],
        date=formats.date_format(visit["start"], "l j F"),
        time=formats.time_format(visit["start"], "H:i"),
    )


def subject_line(notification: Notification) -> str:
    """The subject of a sent email as the patient's pages list it: as sent while its appointment is
    at the version it described, else (a visit moved since) the kind of email, which stays true."""
    appointment = notification.appointment
    if notification.kind in VISIT_KINDS and (
        appointment is None or appointment.version != notification.appointment_version
    ):
        return notification.get_kind_display()
    with timezone.override(timezone.get_default_timezone()):
        context = {"visit": _visit(appointment)} if appointment is not None else {}
        return _subject(notification.kind, context)


def _tidy(text: str) -> str:
    """Template tags leave blank lines behind; a plain-text email wants at most one in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
