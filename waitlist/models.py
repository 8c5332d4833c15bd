"""The waitlist: patients waiting for a time (a consultation, a course's next session, or an earlier
time for a session already booked), and the offers of freed slots made to them."""

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from catalogue.models import LaserDevice, Practitioner, Room
from clinical.models import TreatmentCourse
from outbox.models import Notification
from patients.models import Patient
from scheduling.models import Appointment

OFFER_KIND = Notification.Kind.WAITLIST_OFFER
ALL_DAYS = 0b1111111  # Monday is bit 0, as datetime.weekday() counts
# Times of day, by the slot's local start: before noon, before 17:00, later.
MORNING, AFTERNOON, EVENING = 1, 2, 4
ALL_TIMES = MORNING | AFTERNOON | EVENING


def time_of_day(hour: int) -> int:
    return MORNING if hour < 12 else AFTERNOON if hour < 17 else EVENING


class WaitlistEntry(models.Model):
    """A patient waiting for a time, with when they could come; open while `waiting`."""

    class Want(models.TextChoices):
        CONSULTATION = "consultation", "A consultation"
        NEXT_SESSION = "next_session", "The course's next session"
        EARLIER = "earlier", "An earlier time for a booked session"

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked from an offer"
        LEFT = "left", "Left the waitlist"

    class Source(models.TextChoices):
        STAFF = "staff", "Staff"
        PATIENT = "patient", "The patient"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    wants = models.CharField(max_length=20, choices=Want.choices)
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.CASCADE, null=True, blank=True, related_name="waitlist_entries"
    )
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waitlist_entries",
        help_text="The booked session an earlier time is wanted for.",
    )
    earliest_date = models.DateField()
    latest_date = models.DateField()
    weekdays = models.PositiveSmallIntegerField(default=ALL_DAYS, help_text="Bit 0 is Monday.")
    times_of_day = models.PositiveSmallIntegerField(default=ALL_TIMES, help_text="1 morning, 2 afternoon, 4 evening.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "waitlist entries"
        ordering = ["created_at", "pk"]
        indexes = [
            # The matcher's scan: waiting entries, oldest first, by the dates they can come.
            models.Index(fields=["created_at", "id"], condition=Q(status="waiting"), name="waitlist_waiting"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(latest_date__gte=F("earliest_date")), name="waitlist_dates_in_order"),
            models.CheckConstraint(
                condition=Q(wants="consultation", course__isnull=True, appointment__isnull=True)
                | Q(wants="next_session", course__isnull=False, appointment__isnull=True)
                | Q(wants="earlier", appointment__isnull=False),
                name="waitlist_wants_its_subject",
            ),
            models.CheckConstraint(
                condition=Q(weekdays__gt=0, weekdays__lte=ALL_DAYS, times_of_day__gt=0, times_of_day__lte=ALL_TIMES),
                name="waitlist_some_day_and_time",
            ),
            # One open entry per patient and what they wait for.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="waiting", wants="consultation"),
                name="waitlist_one_consultation",
            ),
            models.UniqueConstraint(
                fields=["course"], condition=Q(status="waiting", wants="next_session"), name="waitlist_one_per_course"
            ),
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(status="waiting", wants="earlier"), name="waitlist_one_per_session"
            ),
        ]

    def __str__(self):
        return f"Waitlist entry {self.pk} ({self.get_wants_display().lower()}, {self.get_status_display().lower()})"

    @property
    def kind(self) -> str:
        """The kind of appointment the entry books."""
        if self.wants == self.Want.CONSULTATION:
            return Appointment.Kind.CONSULTATION
        if self.wants == self.Want.EARLIER:
            return self.appointment.kind
        return Appointment.Kind.TREATMENT


class WaitlistOffer(models.Model):
    """A freed slot offered to a waiting entry, by email, until `expires_at`. Offers of one slot go
    to several entries; the first to accept books it and the others' become `taken`."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        TAKEN = "taken", "Taken by another patient"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn (the entry was booked or left)"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    start = models.DateTimeField()
    end = models.DateTimeField(help_text="The end of the visit offered.")
    slot_end = models.DateTimeField(help_text="The end of the free time the visit was offered in.")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(LaserDevice, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    freed_by = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The appointment whose cancellation or move freed the slot.",
    )
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFERED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    booked = models.ForeignKey(Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    notification = models.OneToOneField(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="waitlist_offer"
    )

    class Meta:
        ordering = ["-created_at", "pk"]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="offered"), name="waitlist_offer_open"),
            models.Index(fields=["start", "practitioner"], name="waitlist_offer_slot"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="waitlist_offer_ends_after_start"),
            # One open offer per entry and slot, and only one accepted offer per slot.
            models.UniqueConstraint(
                fields=["entry", "start", "practitioner"], condition=Q(status="offered"), name="waitlist_offer_once"
            ),
            models.UniqueConstraint(
                fields=["start", "practitioner"], condition=Q(status="accepted"), name="waitlist_slot_accepted_once"
            ),
        ]

    def __str__(self):
        return f"Waitlist offer {self.pk} ({self.get_status_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OFFERED and self.expires_at > timezone.now()


# Who put a patient on the waitlist or took them off (reception, or the patient online) is audited.
auditlog.register(WaitlistEntry)
