"""The clinic's catalogue: what it treats and with what. Conditions with their protocol defaults,
treatment areas, rooms, laser devices, and the practitioners with their hours, time off and the
clinic's closures. Managers keep it in the admin; everything else reads it.

The tables keep the names of the apps these models first lived in (`patients_condition`,
`scheduling_room`, ...): the models moved here without moving any data.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Condition(models.Model):
    """A treatable condition with its protocol defaults and the patient-facing texts.

    The numbers are the clinic's configuration, not medical advice; a course copies them when it
    is proposed and the dermatologist may change them there.
    """

    class OutcomeScale(models.TextChoices):
        """How a session's and a course's outcome is scored (catalogue.outcome holds the rule)."""

        CLEARANCE = "clearance", "Estimated clearance (0–100 %)"
        IMPROVEMENT = "improvement", "Global aesthetic improvement (0–4)"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    default_sessions = models.PositiveSmallIntegerField()
    min_sessions = models.PositiveSmallIntegerField()
    max_sessions = models.PositiveSmallIntegerField()
    min_interval_days = models.PositiveSmallIntegerField()
    max_interval_days = models.PositiveSmallIntegerField()
    # The condition's advice in two parts, each going out when the patient acts on it.
    prep_text = models.TextField(
        "two weeks before",
        blank=True,
        help_text="What to stop or avoid in the two weeks of preparation (retinoid creams, exfoliants). "
        "Shown in the prep reminder, which comes before the two weeks begin.",
    )
    day_before_text = models.TextField(
        "the day before",
        blank=True,
        help_text="What to do the day before and on the day (shave the area, no make-up). "
        "Shown in the day-before note.",
    )
    aftercare_text = models.TextField(help_text="Shown to the patient in the aftercare email.")
    outcome_scale = models.CharField(
        max_length=12,
        choices=OutcomeScale.choices,
        default=OutcomeScale.IMPROVEMENT,
        help_text="How the dermatologist scores each session and the course: estimated clearance in percent "
        "(tattoos, pigment) or the 0–4 global aesthetic improvement scale (scars, wrinkles).",
    )
    test_patch_required = models.BooleanField(
        "test patch first",
        default=False,
        help_text="A course for this condition has a test patch at least TEST_PATCH_WAIT_DAYS before its first "
        "session, whatever the patient's skin type (the skin types in TEST_PATCH_SKIN_TYPES always have one).",
    )
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "patients_condition"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_sessions__gte=1)
                & Q(min_sessions__lte=F("default_sessions"))
                & Q(default_sessions__lte=F("max_sessions")),
                name="condition_sessions_in_range",
            ),
            models.CheckConstraint(
                condition=Q(min_interval_days__gte=1) & Q(min_interval_days__lte=F("max_interval_days")),
                name="condition_interval_in_range",
            ),
        ]

    def __str__(self):
        return self.name


class Practitioner(models.Model):
    """A member of staff who can be booked: a user with a clinical role."""

    class Role(models.TextChoices):
        DERMATOLOGIST = "dermatologist", "Dermatologist"
        LASER_NURSE = "laser_nurse", "Laser nurse"

    class Colour(models.TextChoices):
        """A fixed palette for the stripe on the practitioner's board header (static/css/dayboard.css
        has a class per value; tests/test_colours.py checks each against the header's fill)."""

        BLUE = "blue", "Blue"
        GREEN = "green", "Green"
        PURPLE = "purple", "Purple"
        ORANGE = "orange", "Orange"
        RED = "red", "Red"
        TEAL = "teal", "Teal"
        PINK = "pink", "Pink"
        BROWN = "brown", "Brown"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="practitioner")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.DERMATOLOGIST)
    active = models.BooleanField(default=True)
    colour = models.CharField(
        max_length=10,
        choices=Colour.choices,
        blank=True,
        help_text="Optional: a stripe of this colour marks the practitioner on the day and week boards.",
    )

    class Meta:
        db_table = "scheduling_practitioner"
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
        db_table = "scheduling_workinghours"
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
        db_table = "scheduling_timeoff"
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
        db_table = "scheduling_clinicclosure"
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
        db_table = "scheduling_room"
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
        db_table = "scheduling_laserdevice"
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
        db_table = "scheduling_treatmentarea"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(size__in=["small", "medium", "large"]), name="area_size_known"),
        ]

    def __str__(self):
        return self.name

    @property
    def minutes(self):
        return self.MINUTES[self.size]
