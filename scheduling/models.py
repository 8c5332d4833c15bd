import uuid

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, When
from django.utils import timezone

from catalogue.models import LaserDevice, Practitioner, Room, TreatmentArea
from clinical.models import TreatmentCourse
from patients.models import Patient


class AppointmentQuerySet(models.QuerySet):
    def sessions(self):
        """Treatment sessions that took or hold a place in their course: the ones that are numbered
        (reviews and consultations linked to a course are visits, and cancelled and no-show
        sessions gave their place up)."""
        return self.filter(_is_session())

    def with_session_numbers(self):
        """Each appointment with `session_number`, its number in its course (None for a visit or a
        session that gave its place up), counted over all the course's sessions whatever this
        queryset is filtered to: one subquery a row, which reads the course's index."""
        return self.annotate(session_number=session_number_expression())


class Appointment(models.Model):
    """One booking of a practitioner, a room and (for treatments) a laser device for a patient.

    `blocked_until` is `end` plus the room's and device's turnover buffer: the practitioner and the
    patient are busy over [start, end), the room and the device over [start, blocked_until).
    """

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", "Consultation"
        TREATMENT = "treatment", "Treatment"
        REVIEW = "review", "Review"
        # A short visit with a laser before a course's first session (scheduling/services/test_patch.py).
        TEST_PATCH = "test_patch", "Test patch"

    class PatchResult(models.TextChoices):
        NO_REACTION = "no_reaction", "No reaction"
        MILD = "mild", "Mild reaction"
        UNSUITABLE = "unsuitable", "Unsuitable"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"
        # A consultation booked online, held until the patient confirms their address by its link.
        HELD = "held", "Held"
        RELEASED = "released", "Hold expired"

    # Statuses that hold their resources; cancelled, no-show and released appointments free them. A
    # held one holds them only until `hold_expires_at` (see scheduling/services/holds.py).
    ACTIVE_STATUSES = (Status.BOOKED, Status.CONFIRMED, Status.CHECKED_IN, Status.COMPLETED, Status.HELD)
    # Kinds that need a laser set up for the course's condition.
    LASER_KINDS = (Kind.TREATMENT, Kind.TEST_PATCH)
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
    hold_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Until when a held consultation keeps its time unconfirmed."
    )
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
    sun_exposure_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="Who kept a treatment during planned sun exposure or the prep window after it.",
    )
    sun_exposure_acknowledged_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Rises with every change the patient is told of.")
    # Random, so no two installs (or a restored copy) share one, and independent of the clinic's
    # host name, which may change. Not indexed: nothing looks an appointment up by it.
    calendar_uid = models.UUIDField(
        default=uuid.uuid4, editable=False, help_text="The UID of its event in the patient's calendar."
    )
    # A test patch's result, recorded by a dermatologist (scheduling.services.test_patch.patch_result_record).
    patch_result = models.CharField(max_length=12, choices=PatchResult.choices, blank=True)
    patch_result_notes = models.TextField(blank=True)
    patch_result_by = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    patch_result_at = models.DateTimeField(null=True, blank=True)
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

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(
                fields=["start"],
                include=[
                    *("end", "blocked_until", "status", "practitioner", "room", "device", "patient"),
                    "hold_expires_at",
                ],
                name="appointment_start_covering",
            ),
            models.Index(fields=["patient", "start"], name="appointment_patient_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(condition=Q(blocked_until__gte=F("end")), name="appointment_blocked_after_end"),
            models.CheckConstraint(
                condition=~Q(kind="treatment") | Q(course__isnull=False, device__isnull=False),
                name="treatment_has_course_and_device",
            ),
            models.CheckConstraint(
                condition=~Q(kind="test_patch") | Q(course__isnull=False, device__isnull=False),
                name="test_patch_has_course_and_device",
            ),
            models.CheckConstraint(
                condition=Q(kind="test_patch") | Q(patch_result=""), name="patch_result_only_on_a_test_patch"
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(hold_expires_at__isnull=False, kind="consultation"),
                name="held_is_a_consultation_with_an_expiry",
            ),
        ]

    def __str__(self):
        when = timezone.localtime(self.start)
        return f"{self.get_kind_display()} for {self.patient} on {when:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        self.__dict__.pop("_session_number", None)  # a new time or status may change it
        super().save(*args, **kwargs)

    def refresh_from_db(self, *args, **kwargs):
        self.__dict__.pop("_session_number", None)
        super().refresh_from_db(*args, **kwargs)

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES

    # The check-in re-screen writes its flags into the notes as a line starting with this.
    CHECK_IN_FLAG = "Flagged at check-in"

    @property
    def check_in_flagged(self) -> bool:
        return self.notes_flagged(self.notes)

    @classmethod
    def notes_flagged(cls, notes: str) -> bool:
        """Whether notes hold the check-in's flags (for a board that reads the notes without the model)."""
        return cls.CHECK_IN_FLAG in notes

    @property
    def is_session(self) -> bool:
        """A treatment session that holds its place in its course, and so has a number."""
        return self.kind == self.Kind.TREATMENT and self.course_id is not None and self.is_active

    @property
    def session_number(self) -> int | None:
        """Its number in its course ("Tattoo removal 3/8"), None for a visit or a session that gave
        its place up (see "Session numbers" below). Set by `with_session_numbers()` or
        `number_sessions()`; otherwise read with one query the first time it is asked for, and
        forgotten when the appointment is saved or refreshed."""
        if "_session_number" not in self.__dict__:
            self._session_number = session_number_of(self)
        return self._session_number

    @session_number.setter
    def session_number(self, value: int | None) -> None:
        self._session_number = value


# --- Session numbers ------------------------------------------------------------------------------
#
# A treatment session's number in its course is not stored: it is the session's place among the
# course's sessions (active treatments, `AppointmentQuerySet.sessions`) in time order, ties going
# by id, as `ROW_NUMBER() OVER (PARTITION BY course ORDER BY start, id)` over those sessions would
# give it. Booking, moving, cancelling or missing a session renumbers the later ones by itself, so
# no transaction writes numbers and none can leave a gap or a repeat for another to see. Three
# ways to read it, all counting the same way:
#
# - `Appointment.objects....with_session_numbers()`: in SQL, for any queryset (day board, API);
# - `number_sessions(appointments)`: in Python, for a list holding every session of its courses
#   (the patient page, the course's booking page), no query;
# - `appointment.session_number`: either of those, or one query for that one appointment.


def _is_session() -> Q:
    """What `Appointment.is_session` says, as a filter."""
    return Q(kind=Appointment.Kind.TREATMENT, status__in=Appointment.ACTIVE_STATUSES, course__isnull=False)


def session_number_expression():
    """The session number of the row as an SQL expression: 1 + the course's sessions before it."""
    up_to_this = Appointment.objects.sessions().filter(
        Q(start__lt=OuterRef("start")) | Q(start=OuterRef("start"), pk__lte=OuterRef("pk")),
        course=OuterRef("course"),
    )
    count = up_to_this.order_by().values("course").annotate(number=Count("pk")).values("number")
    return Case(When(_is_session(), then=Subquery(count)), default=None, output_field=IntegerField())


def session_order(appointment) -> tuple:
    """The order sessions of a course are numbered in: by time, ties by id."""
    return (appointment.start, appointment.pk)


def number_sessions(appointments) -> None:
    """Set `session_number` on each of `appointments` in Python. The list must hold every session
    of the courses it touches (as a patient's or a course's appointments do), or the numbers
    count only the sessions it holds."""
    counts: dict[int, int] = {}
    for appointment in sorted(appointments, key=session_order):
        if appointment.is_session:
            counts[appointment.course_id] = counts.get(appointment.course_id, 0) + 1
            appointment.session_number = counts[appointment.course_id]
        else:
            appointment.session_number = None


def session_number_of(appointment) -> int | None:
    """The number of one saved appointment as the database has it now (None for a visit)."""
    if appointment.pk is None or appointment.kind != Appointment.Kind.TREATMENT or not appointment.course_id:
        return None
    numbered = Appointment.objects.filter(pk=appointment.pk).with_session_numbers()
    return numbered.values_list("session_number", flat=True).first()


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
    # On the condition's scale (catalogue.outcome): percent cleared, or 0-4 improvement; none at a first session.
    outcome_score = models.PositiveSmallIntegerField(null=True, blank=True)
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
            # The widest scale's bounds; the condition's own scale is checked by catalogue.outcome.
            models.CheckConstraint(condition=Q(outcome_score__lte=100), name="session_outcome_score_at_most_100"),
        ]

    def __str__(self):
        return f"Session record for {self.appointment}"


# The audit trail: every change to appointments and session records, with who made it.
# The session record is audited on its own; reading it back here would cost a query per save.
auditlog.register(Appointment, exclude_fields=["updated_at", "session_record"])
auditlog.register(SessionRecord)
