from datetime import timedelta

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from patients.models import Condition, Patient


class Practitioner(models.Model):
    """A member of staff who can be booked: a user with a clinical role."""

    class Role(models.TextChoices):
        DERMATOLOGIST = "dermatologist", "Dermatologist"
        LASER_NURSE = "laser_nurse", "Laser nurse"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="practitioner")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.DERMATOLOGIST)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "id"]

    def __str__(self):
        name = self.user.get_full_name() or self.user.get_username()
        return f"Dr {name}" if self.role == self.Role.DERMATOLOGIST else name


class WorkingHours(models.Model):
    """A weekly rule in the clinic's local wall-clock time, turned into instants per date."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["practitioner", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="working_hours_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="working_hours_weekday_0_to_6"),
            models.UniqueConstraint(
                fields=["practitioner", "weekday", "start_time"], name="working_hours_unique_start"
            ),
        ]

    def __str__(self):
        return f"{self.practitioner}: {self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class TimeOff(models.Model):
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="time_off_end_after_start")]

    def __str__(self):
        start, end = timezone.localtime(self.start), timezone.localtime(self.end)
        return f"{self.practitioner} off {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"


class ClinicClosure(models.Model):
    """Whole local days on which the clinic is closed (bank holidays, refurbishment)."""

    start_date = models.DateField()
    end_date = models.DateField(help_text="Last closed day, inclusive.")
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="closure_end_not_before_start"),
        ]

    def __str__(self):
        if self.start_date == self.end_date:
            return f"Closed {self.start_date}: {self.reason}"
        return f"Closed {self.start_date} to {self.end_date}: {self.reason}"


class Room(models.Model):
    name = models.CharField(max_length=100, unique=True)
    turnover_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="Cleaning and set-up time kept free after each session."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class LaserDevice(models.Model):
    name = models.CharField(max_length=100, unique=True)
    model = models.CharField(max_length=100, blank=True, help_text="Manufacturer and model, e.g. PicoWay.")
    wavelengths_nm = models.CharField(max_length=100, blank=True, help_text="e.g. 532, 785, 1064")
    conditions = models.ManyToManyField(
        Condition, related_name="devices", blank=True, help_text="Conditions this device is set up to treat."
    )
    turnover_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="Cooling and cleaning time kept free after each session."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TreatmentArea(models.Model):
    class Size(models.TextChoices):
        SMALL = "small", "Small (30 min)"
        MEDIUM = "medium", "Medium (45 min)"
        LARGE = "large", "Large (60 min)"

    MINUTES = {Size.SMALL: 30, Size.MEDIUM: 45, Size.LARGE: 60}

    name = models.CharField(max_length=100, unique=True)
    size = models.CharField(max_length=10, choices=Size.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(size__in=["small", "medium", "large"]), name="area_size_known"),
        ]

    def __str__(self):
        return self.name

    @property
    def minutes(self):
        return self.MINUTES[self.size]


class TreatmentCourse(models.Model):
    """A planned series of sessions for one condition, approved by a dermatologist before booking."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="courses")
    areas = models.ManyToManyField(TreatmentArea, related_name="courses")
    assessment = models.ForeignKey(
        "patients.Assessment", on_delete=models.SET_NULL, null=True, blank=True, related_name="courses"
    )
    planned_sessions = models.PositiveSmallIntegerField()
    min_interval_days = models.PositiveSmallIntegerField()
    max_interval_days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, null=True, blank=True, related_name="proposed_courses"
    )
    approved_by = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, null=True, blank=True, related_name="approved_courses"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(planned_sessions__gte=1), name="course_at_least_one_session"),
            models.CheckConstraint(
                condition=Q(min_interval_days__gte=1) & Q(min_interval_days__lte=F("max_interval_days")),
                name="course_interval_in_range",
            ),
            # Nothing is booked on a course nobody approved: the approved states name who approved.
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "active", "completed"])
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="course_approval_recorded",
            ),
        ]

    def __str__(self):
        return f"{self.condition} for {self.patient} ({self.planned_sessions} sessions)"

    @property
    def min_interval(self):
        return timedelta(days=self.min_interval_days)

    @property
    def max_interval(self):
        return timedelta(days=self.max_interval_days)


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

    class Meta:
        ordering = ["-due_at"]
        indexes = [
            # The dispatcher's scan: only rows still on their way, by due time.
            models.Index(
                fields=["due_at"], condition=Q(status__in=["pending", "queued", "sending"]), name="notification_due"
            ),
            models.Index(fields=["patient", "due_at"], name="notification_patient_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(appointment__isnull=False) | Q(course__isnull=False), name="notification_has_subject"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.patient} ({self.get_status_display().lower()})"


# The audit trail: every change to courses, appointments and session records, with who made it.
auditlog.register(TreatmentCourse, m2m_fields={"areas"})
# The session record is audited on its own; reading it back here would cost a query per save.
auditlog.register(Appointment, exclude_fields=["updated_at", "session_record"])
auditlog.register(SessionRecord)
