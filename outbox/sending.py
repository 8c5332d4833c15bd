"""Dispatching and sending the outbox: claiming due rows for the workers, and sending each row
exactly once, a batch of rows over one connection.
"""

import logging
from datetime import datetime, timedelta
from functools import cache
from time import monotonic

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from clinic.sql import table
from outbox.emails import build_message
from outbox.models import Notification
from patients.models import Patient
from scheduling.models import Appointment
from scheduling.services import sun
from scheduling.services.slots import course_sessions

log = logging.getLogger(__name__)
Kind = Notification.Kind
Status = Notification.Status
# Emails that only make sense before their appointment: once it has started they are skipped.
BEFORE_THE_VISIT = (Kind.CONFIRMATION, Kind.PREP_REMINDER, Kind.DAY_BEFORE, Kind.SUN_EXPOSURE)
# A change the clinic made to a booked visit, with the calendar update for it: sent while the patient
# has an address, whether or not they unsubscribed, so no calendar keeps a visit at its old time.
CHANGE_NOTICES = (Kind.RESCHEDULED, Kind.CANCELLED)


# Why a room above's own kind of email is no longer wanted (`register_unwanted`): a waitlist offer answered.
_UNWANTED = {}


def register_unwanted(kind: str, reason) -> None:
    """Let the room that owns `kind` say why a row of it is no longer wanted: `reason(notification,
    now=...)` -> a sentence, or "" to send it."""
    _UNWANTED[kind] = reason


def _setting(name):
    return settings.NOTIFICATIONS[name]


def claim_due(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Move up to `limit` rows due by `now` (the present unless given) to `queued` and return their
    ids, oldest due first.

    Rows left queued or sending past REQUEUE_AFTER_SECONDS (a lost Redis message, a killed worker)
    are due again, except a row whose sending stopped without an outcome MAX_ATTEMPTS times: it
    ends `failed`, for staff to look at, instead of breaking a batch every few minutes for ever.
    Whether a row is stale, and when it was claimed, is the real clock's, even when `now` is another
    time (`dispatch_notifications --at`): a worker sending a row right now keeps it. On PostgreSQL,
    `SKIP LOCKED` lets dispatchers run side by side without waiting on or taking each other's rows.
    """
    clock = timezone.now()
    now = now or clock
    stale = clock - timedelta(seconds=_setting("REQUEUE_AFTER_SECONDS"))
    due = Q(status=Status.PENDING, due_at__lte=now) | Q(
        status__in=(Status.QUEUED, Status.SENDING), claimed_at__lt=stale, due_at__lte=now
    )
    with transaction.atomic():
        _fail_stranded(stale)
        rows = Notification.objects.filter(due).order_by("due_at").values_list("pk", flat=True)[:limit]
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows)
        Notification.objects.filter(pk__in=ids).update(status=Status.QUEUED, claimed_at=clock)
    return ids


def claim(notification_id: int) -> bool:
    """Claim one pending row for a send task now, as `claim_due` would once it is due; False when a
    dispatcher took it first."""
    rows = Notification.objects.filter(pk=notification_id, status=Status.PENDING)
    return rows.update(status=Status.QUEUED, claimed_at=timezone.now()) == 1


def _fail_stranded(stale) -> None:
    """Rows whose every attempt stopped before it recorded an outcome (the worker was killed, ran out
    of time or lost the database mid-send) end `failed`: each may or may not have reached the patient."""
    stranded = Notification.objects.filter(
        status=Status.SENDING, claimed_at__lt=stale, attempts__gte=_setting("MAX_ATTEMPTS")
    )
    message = Concat(
        Value("Sending stopped "),
        Cast(F("attempts"), CharField()),
        Value(
            " times before it could record an outcome (the worker stopped, crashed or ran out of time), so it "
            "may or may not have reached the patient. The worker's log has the details."
        ),
    )
    ids = list(stranded.values_list("pk", flat=True))
    if ids:
        Notification.objects.filter(pk__in=ids, status=Status.SENDING).update(status=Status.FAILED, last_error=message)
        log.error("notifications %s: sending stopped without an outcome too often; marked failed", ids)


def unwanted_reason(notification, *, now: datetime | None = None) -> str:
    """Why an email should no longer go out at `now` (the present unless given), or "" when it still should.

    Unsubscribing (no consent) stops every email but the notices of a change the clinic made to a
    booked visit (CHANGE_NOTICES); a confirmation or reminder is skipped once its visit has started,
    as after an outage, when it would arrive next to the aftercare."""
    now = now or timezone.now()
    patient = notification.patient
    if not patient.email:
        return "The patient has no email address."
    if notification.kind == Kind.SIGN_IN:
        return _sign_in_unwanted(notification, now=now)
    appointment = notification.appointment
    if notification.kind == Kind.HOLD:  # asked for on the booking page: it goes whatever the consent
        held = appointment.status == Appointment.Status.HELD and appointment.hold_expires_at > now
        return "" if held else "The booking is no longer held."
    if not patient.email_consent and notification.kind not in CHANGE_NOTICES:
        return "The patient has not agreed to emails."
    if appointment is not None and notification.kind != Kind.CANCELLED:
        if appointment.status in (Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW):
            return f"The appointment is {appointment.get_status_display().lower()}."
        if appointment.status in (Appointment.Status.HELD, Appointment.Status.RELEASED):
            return "The booking made online was never confirmed."  # a held visit gets its link only
        if notification.kind in (*BEFORE_THE_VISIT, Kind.RESCHEDULED) and (
            notification.appointment_version != appointment.version
        ):
            return "The appointment has moved since this email was planned."
        if notification.kind in BEFORE_THE_VISIT and appointment.start <= now:
            return "The appointment had already started when this email was due to go out."
        if notification.kind == Kind.SUN_EXPOSURE and sun.exposure_keeping_off(appointment) is None:
            return "No planned sun exposure keeps treatment off the appointment's day any more."
    if notification.kind in _UNWANTED:
        return _UNWANTED[notification.kind](notification, now=now)
    if notification.kind == Kind.NEXT_SESSION:
        course = notification.course
        sessions = course_sessions(course)
        if course.status not in ("approved", "active") or sessions.count() >= course.planned_sessions:
            return "The course has no session left to book."
        if sessions.filter(start__gt=now).exists():
            return "The next session is booked."
    return ""


def _sign_in_unwanted(notification, *, now) -> str:
    """A sign-in link goes whatever the consent to reminders (the patient asked for it), unless the
    patient was erased since, or it was asked for longer ago than a link lives (an outage): it would
    arrive stale, after the patient gave up waiting."""
    if notification.patient.erased_at is not None or notification.patient.user_id is None:
        return "The patient's details were erased."
    if now - notification.due_at > settings.SESAME_MAX_AGE:
        return "The sign-in link was asked for too long ago."
    return ""


def send(notification_id: int, *, now: datetime | None = None) -> str:
    """Send one claimed row; returns what happened (sent, skipped, retry, failed, error, not-claimed).
    A batch of one: see `send_batch`."""
    return send_batch([notification_id], now=now)[notification_id]


def send_batch(notification_ids, *, now: datetime | None = None, stop_after: float | None = None) -> dict[int, str]:
    """Send claimed rows over one connection to the mail server; returns what happened to each row
    (sent, skipped, retry, failed, error, not-claimed, or released when `stop_after` ran out).

    Each row moves from queued to sending in its own conditional update right before its message
    is handed over, and its outcome is recorded right after, so two workers never send the same
    row, a row already sent is never sent again, and a worker killed mid-batch leaves only the
    message it had in flight to go out twice. One row's outcome and the next row's claim commit
    together: one durable commit per email instead of two.

    Whether an email is still wanted is decided on the row, patient and appointment read after its
    claim (and a next-session prompt's course), as of `now` (the present unless given, as
    `dispatch_notifications --at` gives it); what only shapes the text (the practitioner's name, the
    condition's advice) is read once for the batch. The claim and the sending time are the real
    clock's. A failure to hand a message over puts the row back as pending with a doubled delay,
    up to MAX_ATTEMPTS. A fault of the application while a row is read or its email built (a
    template, a context) is logged with its traceback and fails that row at once ("error"): a
    retry would only repeat it. Rows not reached within `stop_after` seconds go back to pending
    for the next dispatch. What stops the batch itself (Celery's time limit, the database gone)
    leaves the row in hand as sending, to be claimed again once stale, and the rest pending.
    """
    from django.core.mail import get_connection

    started = monotonic()
    ids = list(dict.fromkeys(notification_ids))
    shared = _shared_parts(ids)
    results = {}
    outcome = None  # the last row's (id, status, fields), still to be recorded
    position = 0
    mail_connection = get_connection()
    try:
        for position, notification_id in enumerate(ids):
            if stop_after is not None and monotonic() - started > stop_after:
                results.update(_release(ids[position:]))
                break
            row_now = now or timezone.now()
            with transaction.atomic():
                if outcome:
                    _finish(*outcome)
                claimed = _claim(notification_id, now=timezone.now())
            outcome = None
            if not claimed:
                results[notification_id] = "not-claimed"
                continue
            result, status, fields = _send_claimed(notification_id, mail_connection, shared, now=row_now)
            results[notification_id] = result
            outcome = (notification_id, status, fields)
    except Exception:
        _release(ids[position + 1 :])  # the row that failed stays sending, to be claimed again later
        raise
    finally:
        if outcome:
            _finish(*outcome)
        _close(mail_connection)
    return results


def _send_claimed(notification_id, mail_connection, shared, *, now) -> tuple[str, str, dict]:
    """Send a row this worker has claimed: what happened, and the status and fields to record."""

    try:
        notification = _read(notification_id)
        _reuse(notification, *shared)
        reason = unwanted_reason(notification, now=now)
        if reason:
            return "skipped", Status.SKIPPED, {"last_error": reason}
        message = build_message(notification)
    except (DatabaseError, SoftTimeLimitExceeded):
        raise  # not this row's fault: the batch stops, and the row is claimed again once stale
    except Exception as error:  # noqa: BLE001 - a fault in the application: logged, shown, not retried
        log.exception("notification %s: the email could not be built (%s)", notification_id, type(error).__name__)
        return "error", Status.FAILED, {"last_error": _fault(error)}
    try:
        _hand_over(message, mail_connection)
    except SoftTimeLimitExceeded:
        raise  # Celery's time limit, not the mail server's answer: whether the message went is unknown
    except Exception as error:  # noqa: BLE001 - any failure to hand over the mail is retried, then shown
        # The error's type only: a mail server's message often quotes the patient's address. Staff see
        # the whole message on the row (last_error), where the address is theirs to see anyway.
        log.warning(
            "notification %s: sending failed (attempt %s): %s", notification.pk, notification.attempts,
            type(error).__name__,
        )  # fmt: skip
        if notification.attempts >= _setting("MAX_ATTEMPTS"):
            return "failed", Status.FAILED, {"last_error": str(error)[:1000]}
        delay = _setting("RETRY_BASE_SECONDS") * 2 ** (notification.attempts - 1)
        return "retry", Status.PENDING, {"last_error": str(error)[:1000], "due_at": now + timedelta(seconds=delay)}
    return "sent", Status.SENT, {"sent_at": timezone.now(), "last_error": ""}


def _fault(error) -> str:
    return (
        f"The email could not be built ({type(error).__name__}), a fault in the application: not retried. "
        "Send it again once the fault is fixed."
    )


# The three statements a row costs (claim, read, record the outcome) are plain SQL: compiling them
# took Django's ORM more CPU than PostgreSQL took to run them, about a third of a mail's CPU.
_CLAIM_SQL = """
UPDATE {notification} SET status = %s, claimed_at = %s, attempts = attempts + 1 WHERE id = %s AND status = %s
"""
# A field the outcome does not name keeps its value (COALESCE), so one statement records any outcome.
_FINISH_SQL = """
UPDATE {notification} SET status = %s, last_error = %s, sent_at = COALESCE(%s, sent_at), due_at = COALESCE(%s, due_at)
WHERE id = %s AND status = %s
"""
# Few joins: planning a ten-table join costs PostgreSQL more than the batch's shared read. The read is
# hand-built because it pays: `select_related("patient", "appointment").get()` instead cost the workers
# 1.7-2.2 ms more CPU a mail (12.3 and 11.9 against 10.6 and 9.7 ms, alternating runs of
# bench/notifications.py --only mail, December 2026), a sixth of a mail's CPU.
_READ_SQL = """
SELECT {columns} FROM {notification} n
JOIN {patient} p ON p.id = n.patient_id
LEFT JOIN {appointment} a ON a.id = n.appointment_id
WHERE n.id = %s
"""
_READ_MODELS = ((Notification, "n"), (Patient, "p"), (Appointment, "a"))


def _claim(notification_id, *, now) -> bool:
    """Move a queued row to sending; False when it is no longer queued (sent, withdrawn, taken)."""
    at = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL.format(notification=table(Notification)),
            [Status.SENDING, at(now), notification_id, Status.QUEUED],
        )
        return cursor.rowcount == 1


def _finish(notification_id, status, fields) -> None:
    # Only from `sending`: a row the dispatcher already handed to another worker is left alone.
    at = connection.ops.adapt_datetimefield_value
    outcome = [status, fields["last_error"], at(fields.get("sent_at")), at(fields.get("due_at"))]
    with connection.cursor() as cursor:
        cursor.execute(
            _FINISH_SQL.format(notification=table(Notification)), [*outcome, notification_id, Status.SENDING]
        )


def _read(notification_id) -> Notification:
    """The row with its patient and appointment, loaded as `select_related("patient", "appointment")` would."""
    sql, columns = _read_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [notification_id])
        values = iter(cursor.fetchone())
    notification, patient, appointment = (_instance(model, fields, values) for model, fields in columns)
    notification.patient = patient
    notification.appointment = appointment if notification.appointment_id else None  # else a row of NULLs
    return notification


@cache
def _read_query() -> tuple[str, list]:
    """The read's SQL, and per model its fields with their database converters, in column order."""
    columns, names = [], []
    for model, alias in _READ_MODELS:
        fields = []
        for field in model._meta.concrete_fields:
            column = field.get_col(alias)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            fields.append((field.attname, column, converters))
            names.append(f"{alias}.{connection.ops.quote_name(field.column)}")
        columns.append((model, fields))
    sql = _READ_SQL.format(
        columns=", ".join(names),
        notification=table(Notification),
        patient=table(Patient),
        appointment=table(Appointment),
    )
    return sql, columns


def _instance(model, fields, values):
    loaded = []
    for _, column, converters in fields:
        value = next(values)
        for converter in converters:
            value = converter(value, column, connection)
        loaded.append(value)
    return model.from_db(connection.alias, [attname for attname, _, _ in fields], loaded)


def release(ids) -> int:
    """Put claimed rows back as pending, due again at the next dispatch: those a batch did not
    reach, or whose send task the broker never took. Only rows still queued: one a worker has
    meanwhile taken stays with it."""
    return Notification.objects.filter(pk__in=ids, status=Status.QUEUED).update(status=Status.PENDING, claimed_at=None)


def _release(ids) -> dict[int, str]:
    release(ids)
    return dict.fromkeys(ids, "released")


def _shared_parts(ids) -> tuple[dict, dict]:
    """The batch's practitioners and courses (with their users and conditions), in one query.
    They shape what an email about an appointment says, never whether it goes out, so a batch
    may share them."""
    practitioners, courses = {}, {}
    rows = Notification.objects.filter(pk__in=ids).select_related(
        "appointment__practitioner__user", "appointment__course__condition", "course__condition"
    )
    for row in rows:
        appointment = row.appointment
        if appointment is not None:
            practitioners[appointment.practitioner_id] = appointment.practitioner
        for course in (row.course, appointment and appointment.course):
            if course is not None:
                courses[course.pk] = course
    return practitioners, courses


def _reuse(notification, practitioners, courses) -> None:
    """Give the freshly read row the batch's practitioner and course, matched by id (so an
    appointment moved to another practitioner meanwhile still reads its own). A next-session
    prompt is about its course's progress: it reads its course afresh."""
    appointment = notification.appointment
    if appointment is not None:
        if appointment.practitioner_id in practitioners:
            appointment.practitioner = practitioners[appointment.practitioner_id]
        if appointment.course_id in courses:
            appointment.course = courses[appointment.course_id]
    if notification.kind != Kind.NEXT_SESSION and notification.course_id in courses:
        notification.course = courses[notification.course_id]


def _hand_over(message, mail_connection) -> None:
    try:
        mail_connection.open()  # a no-op while the batch's connection is open; after a failure, a fresh one
        mail_connection.send_messages([message])
    except Exception:
        _close(mail_connection)  # a connection in an unknown state is not used again
        raise


def _close(mail_connection) -> None:
    try:
        mail_connection.close()
    except Exception as error:  # noqa: BLE001 - its messages are recorded already; it is dropped either way
        log.warning("closing the mail connection failed: %s", type(error).__name__)
