"""The dermatologist's decisions: assessments (is this patient a candidate, for what) and the
treatment courses proposed and approved from them.

The tables keep the names of the apps these models first lived in (`patients_assessment`,
`scheduling_treatmentcourse`): the models moved here without moving any data.
"""

from datetime import timedelta

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from catalogue.models import Condition, Practitioner, TreatmentArea
from patients.models import Patient, SkinType


class Contraindication(models.TextChoices):
    RECENT_TAN = "recent_tan", "Recent tan or sun exposure"
    PHOTOSENSITISING_MEDICATION = "photosensitising_medication", "Photosensitising medication"
    ISOTRETINOIN = "isotretinoin", "Isotretinoin in the last 6 months"
    PREGNANCY = "pregnancy", "Pregnancy or breastfeeding"
    ACTIVE_INFECTION = "active_infection", "Active skin infection in the area"
    KELOID_TENDENCY = "keloid_tendency", "Tendency to keloid scarring"


class Assessment(models.Model):
    """The outcome of a consultation: is this patient a good candidate, and for what."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="assessments")
    dermatologist = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="assessments")
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
        db_table = "patients_assessment"
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


class TreatmentCourse(models.Model):
    """A planned series of sessions for one condition, approved by a dermatologist before booking."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    # Statuses in which sessions may be booked: a dermatologist approved the course, and it is not over.
    BOOKABLE_STATUSES = (Status.APPROVED, Status.ACTIVE)
    # The course's clinical text, which the matrix keeps to `view_clinical` (pages, admin, audit log);
    # the plan itself (condition, sessions, intervals, status) is reception's and the manager's too.
    CLINICAL_FIELDS = ("notes",)

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="courses")
    areas = models.ManyToManyField(TreatmentArea, related_name="courses")
    assessment = models.ForeignKey(Assessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="courses")
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
        db_table = "scheduling_treatmentcourse"
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


class SunExposure(models.Model):
    """A stretch of planned sun exposure the patient told us of (a beach holiday, a ski trip):
    its first and last days on the clinic's calendar. The engine keeps treatments off those days
    and the prep window after them (scheduling.services.sun)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="sun_exposures")
    first_day = models.DateField()
    last_day = models.DateField()
    what = models.CharField(max_length=80, help_text="A beach holiday, a ski trip.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, help_text="When its dates or words last changed.")

    class Meta:
        ordering = ["first_day", "pk"]
        indexes = [models.Index(fields=["patient", "last_day"], name="sun_exposure_patient_last")]
        constraints = [
            models.CheckConstraint(condition=Q(last_day__gte=F("first_day")), name="sun_exposure_days_in_order"),
        ]

    def __str__(self):
        return f"{self.what} ({self.first_day:%d %b} to {self.last_day:%d %b %Y})"


class ConsentText(models.Model):
    """One version of a consent text the patient signs: a condition's treatment consent (its risks,
    the prep and aftercare duties) or the clinic's photo consent (two scopes, each given or
    refused). A version once signed never changes; a new wording is a new version, which asks
    every patient again at their next visit (clinical.services.consent)."""

    class Kind(models.TextChoices):
        TREATMENT = "treatment", "Treatment consent"
        PHOTO = "photo", "Photo consent"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    condition = models.ForeignKey(
        Condition,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_texts",
        help_text="The condition a treatment consent is for; empty for the photo consent.",
    )
    version = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120)
    body = models.TextField(help_text="What the patient reads and agrees to, in plain words.")
    published_at = models.DateTimeField(
        default=timezone.now, help_text="From when this version is the one patients sign."
    )

    class Meta:
        ordering = ["kind", "condition", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["condition", "version"],
                condition=Q(kind="treatment"),
                name="consent_text_treatment_version_unique",
            ),
            models.UniqueConstraint(
                fields=["version"], condition=Q(kind="photo"), name="consent_text_photo_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind="treatment", condition__isnull=False) | Q(kind="photo", condition__isnull=True),
                name="consent_text_condition_by_kind",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="consent_text_version_from_one"),
        ]

    def __str__(self):
        return f"{self.title}, version {self.version}"


class ConsentSignature(models.Model):
    """A patient's signature under one version of a consent text: their typed full name, when,
    from which address, and where (online, or on the clinic's tablet at check-in). A photo
    consent also records each scope given or refused, and its withdrawal."""

    class Channel(models.TextChoices):
        ONLINE = "online", "Online, on the patient's pages"
        TABLET = "tablet", "On the clinic's tablet"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consent_signatures")
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="signatures")
    typed_name = models.CharField(max_length=201)
    signed_at = models.DateTimeField(default=timezone.now)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who handed over the tablet.",
    )
    photo_clinical = models.BooleanField(null=True, help_text="Photo consent: photos for the clinical record.")
    photo_marketing = models.BooleanField(null=True, help_text="Photo consent: photos for teaching or marketing.")
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at", "-pk"]
        indexes = [models.Index(fields=["patient", "text"], name="consent_signature_patient_text")]

    def __str__(self):
        # Without the typed name: the audit trail's description of the record must not name the patient.
        return f"Signature of {self.text} on {self.signed_at:%d %b %Y}"


class CourseDecision(models.Model):
    """The results review of a course whose planned sessions are done: the dermatologist's
    course-level score (on the condition's scale, catalogue.outcome) and what happens next.

    `sessions` is the course's planned sessions when it was reviewed: a course given more sessions
    comes back to the review once those are done too, and one review per count is all the table takes.
    """

    class Decision(models.TextChoices):
        COMPLETE = "complete", "Complete: the course has done what it can"
        ADD_SESSIONS = "add_sessions", "Add sessions"
        STOP = "stop", "Stop treatment"

    course = models.ForeignKey(TreatmentCourse, on_delete=models.CASCADE, related_name="decisions")
    sessions = models.PositiveSmallIntegerField(help_text="The course's planned sessions when it was reviewed.")
    outcome_score = models.PositiveSmallIntegerField()
    decision = models.CharField(max_length=12, choices=Decision.choices)
    added_sessions = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why the treatment stops (or any remark).")
    decided_by = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="course_decisions")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["course", "sessions"], name="course_decision_once_per_count"),
            models.CheckConstraint(condition=Q(outcome_score__lte=100), name="course_decision_score_at_most_100"),
            models.CheckConstraint(
                condition=Q(decision="add_sessions", added_sessions__gte=1)
                | (~Q(decision="add_sessions") & Q(added_sessions__isnull=True)),
                name="course_decision_added_sessions_with_add",
            ),
        ]

    def __str__(self):
        return f"Results review of {self.course}: {self.get_decision_display()}"


# The audit trail: every change to assessments, courses, their reviews, planned sun exposure and consent,
# with who made it.
auditlog.register(Assessment, m2m_fields={"conditions"})
auditlog.register(TreatmentCourse, m2m_fields={"areas"})
auditlog.register(CourseDecision)
auditlog.register(SunExposure, exclude_fields=["updated_at"])
auditlog.register(ConsentText)
auditlog.register(ConsentSignature)
