from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class SkinType(models.IntegerChoices):
    """Fitzpatrick skin phototype."""

    I = 1, "I – always burns, never tans"  # noqa: E741
    II = 2, "II – usually burns, tans minimally"
    III = 3, "III – sometimes burns, tans gradually"
    IV = 4, "IV – burns minimally, tans well"
    V = 5, "V – rarely burns, tans darkly"
    VI = 6, "VI – never burns"


class Contraindication(models.TextChoices):
    RECENT_TAN = "recent_tan", "Recent tan or sun exposure"
    PHOTOSENSITISING_MEDICATION = "photosensitising_medication", "Photosensitising medication"
    ISOTRETINOIN = "isotretinoin", "Isotretinoin in the last 6 months"
    PREGNANCY = "pregnancy", "Pregnancy or breastfeeding"
    ACTIVE_INFECTION = "active_infection", "Active skin infection in the area"
    KELOID_TENDENCY = "keloid_tendency", "Tendency to keloid scarring"


class Condition(models.Model):
    """A treatable condition with its protocol defaults and the patient-facing texts.

    The numbers are the clinic's configuration, not medical advice; a course copies them when it
    is proposed and the dermatologist may change them there.
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    default_sessions = models.PositiveSmallIntegerField()
    min_sessions = models.PositiveSmallIntegerField()
    max_sessions = models.PositiveSmallIntegerField()
    min_interval_days = models.PositiveSmallIntegerField()
    max_interval_days = models.PositiveSmallIntegerField()
    prep_text = models.TextField(help_text="Shown to the patient in the prep reminder.")
    aftercare_text = models.TextField(help_text="Shown to the patient in the aftercare email.")
    active = models.BooleanField(default=True)

    class Meta:
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


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True)  # required on forms; empty only once erased
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    skin_type = models.PositiveSmallIntegerField(choices=SkinType.choices, null=True, blank=True)
    email_consent = models.BooleanField(
        default=False, help_text="The patient agreed to receive reminders and aftercare by email."
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the personal details were erased on request."
    )

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["last_name", "first_name"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(skin_type__isnull=True) | Q(skin_type__gte=1, skin_type__lte=6),
                name="patient_skin_type_1_to_6",
            ),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"


class Assessment(models.Model):
    """The outcome of a consultation: is this patient a good candidate, and for what."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="assessments")
    dermatologist = models.ForeignKey("scheduling.Practitioner", on_delete=models.PROTECT, related_name="assessments")
    assessed_at = models.DateTimeField(default=timezone.now)
    skin_type = models.PositiveSmallIntegerField(choices=SkinType.choices)
    conditions = models.ManyToManyField(Condition, related_name="assessments")
    contraindications = models.JSONField(
        default=list, blank=True, help_text="Codes from the contraindication list found at the consultation."
    )
    candidate = models.BooleanField(help_text="A good candidate for pico-laser treatment.")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-assessed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(skin_type__gte=1, skin_type__lte=6), name="assessment_skin_type_1_to_6"),
        ]

    def __str__(self):
        verdict = "candidate" if self.candidate else "not a candidate"
        return f"Assessment of {self.patient} on {timezone.localdate(self.assessed_at)}: {verdict}"

    def get_contraindications_display(self):
        labels = dict(Contraindication.choices)
        return [labels.get(code, code) for code in self.contraindications]


# The audit trail: every change to patients and assessments, with who made it.
auditlog.register(Patient, exclude_fields=["updated_at"])
auditlog.register(Assessment, m2m_fields={"conditions"})
