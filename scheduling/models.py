from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from catalogue.models import LaserDevice, Practitioner, Room, TreatmentArea
from clinical.models import TreatmentCourse
from patients.models import Patient


class Appointment(models.Model):
    """One booking of a practitioner, a room and (for treatments) a laser device for a patient.

    `blocked_until` is `end` plus the room's and device's turnover buffer: the practitioner and the
    patient are busy over [start, end), the room and the device over [start, blocked_until).
    """

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", "Consultation"
        TREATMENT = "treatment", "Treatment"
        REVIEW = "review", "Review"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    # Statuses that hold their resources; cancelled and no-show appointments free them.
    ACTIVE_STATUSES = (Status.BOOKED, Status.CONFIRMED, Status.CHECKED_IN, Status.COMPLETED)
    # Statuses of a visit still to happen (a completed one is in the past whatever its time).
    UPCOMING_STATUSES = (Status.BOOKED, Status.CONFIRMED, Status.CHECKED_IN)

    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Few indexes, because every booking writes them all: by start (covering what slot search
    # reads, so PostgreSQL answers from the index alone), by patient and start, and on PostgreSQL
    # the exclusion constraints' GiST indexes serve practitioner, room and device.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments", db_index=False)
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    sequence = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Session number within the course.")
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_until = models.DateTimeField()
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments", db_index=False)
    device = models.ForeignKey(
        LaserDevice, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments", db_index=False
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    short_prep_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="Who accepted a treatment booked inside the 14-day prep window.",
    )
    short_prep_acknowledged_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Rises with every change the patient is told of.")
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancel_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient asked, by their email link, to cancel."
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(
                fields=["start"],
                include=["end", "blocked_until", "status", "practitioner", "room", "device", "patient"],
                name="appointment_start_covering",
            ),
            models.Index(fields=["patient", "start"], name="appointment_patient_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(condition=Q(blocked_until__gte=F("end")), name="appointment_blocked_after_end"),
            models.CheckConstraint(
                condition=~Q(kind="treatment") | Q(course__isnull=False, device__isnull=False, sequence__isnull=False),
                name="treatment_has_course_device_sequence",
            ),
            models.CheckConstraint(
                condition=Q(course__isnull=False) | Q(sequence__isnull=True), name="sequence_only_with_course"
            ),
            models.CheckConstraint(
                condition=Q(sequence__isnull=True) | Q(sequence__gte=1), name="sequence_starts_at_one"
            ),
            models.UniqueConstraint(
                fields=["course", "sequence"],
                condition=Q(status__in=["booked", "confirmed", "checked_in", "completed"]),
                name="one_active_appointment_per_course_sequence",
            ),
        ]

    def __str__(self):
        when = timezone.localtime(self.start)
        return f"{self.get_kind_display()} for {self.patient} on {when:%Y-%m-%d %H:%M}"

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES


class SessionRecord(models.Model):
    """What the dermatologist did in a completed treatment session."""

    class Reaction(models.TextChoices):
        NONE = "none", "No visible reaction"
        MILD_ERYTHEMA = "mild_erythema", "Mild redness"
        MODERATE_ERYTHEMA = "moderate_erythema", "Moderate redness"
        OEDEMA = "oedema", "Swelling"
        PINPOINT_BLEEDING = "pinpoint_bleeding", "Pinpoint bleeding"
        BLISTERING = "blistering", "Blistering"
        FROSTING = "frosting", "Whitening (frosting)"

    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="session_record")
    area = models.ForeignKey(TreatmentArea, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    wavelength_nm = models.PositiveSmallIntegerField()
    fluence_j_cm2 = models.DecimalField("fluence (J/cm²)", max_digits=5, decimal_places=2)
    spot_size_mm = models.DecimalField("spot size (mm)", max_digits=4, decimal_places=1)
    pulses = models.PositiveIntegerField()
    skin_reaction = models.CharField(max_length=20, choices=Reaction.choices)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="session_records")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(wavelength_nm__gte=300, wavelength_nm__lte=2000), name="session_wavelength_plausible"
            ),
            models.CheckConstraint(condition=Q(fluence_j_cm2__gt=0), name="session_fluence_positive"),
            models.CheckConstraint(condition=Q(spot_size_mm__gt=0), name="session_spot_size_positive"),
            models.CheckConstraint(condition=Q(pulses__gte=1), name="session_at_least_one_pulse"),
        ]

    def __str__(self):
        return f"Session record for {self.appointment}"


# The audit trail: every change to appointments and session records, with who made it.
# The session record is audited on its own; reading it back here would cost a query per save.
auditlog.register(Appointment, exclude_fields=["updated_at", "session_record"])
auditlog.register(SessionRecord)
