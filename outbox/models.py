"""The outbox: one row per email to a patient (see outbox/planning.py and outbox/sending.py).

The table keeps the name of the app the model first lived in (`scheduling_notification`).
"""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinical.models import TreatmentCourse
from patients.models import Patient
from scheduling.models import Appointment


def new_message_id() -> str:
    """A globally unique Message-ID for a new row: a random UUID at the clinic's host of the day.
    Stored, so a resend after a crash carries the same id even if the host has changed since."""
    return f"<{uuid.uuid4()}@{urlsplit(settings.CLINIC_BASE_URL).hostname or 'localhost'}>"


class Notification(models.Model):
    """One email to a patient, planned in the same transaction as the booking change behind it.

    The outbox: a row waits as `pending` until `due_at`, is claimed by the dispatcher (`queued`),
    claimed again by the send task (`sending`) before it talks to the mail server, and ends `sent`,
    `failed` (after its retries), `cancelled` (the booking changed) or `skipped` (no longer wanted
    when its time came). `key` names the event, so one event is one row.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Booking confirmation"
        PREP_REMINDER = "prep_reminder", "Prep reminder"
        DAY_BEFORE = "day_before", "Day-before note"
        AFTERCARE = "aftercare", "Aftercare"
        NEXT_SESSION = "next_session", "Next-session prompt"
        RESCHEDULED = "rescheduled", "Reschedule notice"
        CANCELLED = "cancelled", "Cancellation notice"
        SIGN_IN = "sign_in", "Sign-in link"
        SUN_EXPOSURE = "sun_exposure", "Sun exposure notice"
        HOLD = "hold", "Link to confirm a booking made online"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
        SKIN_CHECK = "skin_check", "Skin check after a treatment"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        SKIPPED = "skipped", "Skipped"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="notifications")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=120, unique=True)
    appointment_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The appointment's version the email describes."
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When it was last queued or picked up.")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Not indexed: nothing looks a row up by it.
    message_id = models.CharField("Message-ID", max_length=255, default=new_message_id, editable=False)

    class Meta:
        db_table = "scheduling_notification"
        ordering = ["-due_at"]
        indexes = [
            # The dispatcher's scan: only rows still on their way, by due time.
            models.Index(
                fields=["due_at"], condition=Q(status__in=["pending", "queued", "sending"]), name="notification_due"
            ),
            models.Index(fields=["patient", "due_at"], name="notification_patient_due"),
        ]
        constraints = [
            # A sign-in link and a waitlist offer are about the patient alone; every other email is
            # about a visit or a course.
            models.CheckConstraint(
                condition=Q(appointment__isnull=False)
                | Q(course__isnull=False)
                | Q(kind__in=["sign_in", "waitlist_offer"]),
                name="notification_has_subject",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.patient} ({self.get_status_display().lower()})"
