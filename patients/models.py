from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SkinType(models.IntegerChoices):
    """Fitzpatrick skin phototype."""

    I = 1, "I – always burns, never tans"  # noqa: E741
    II = 2, "II – usually burns, tans minimally"
    III = 3, "III – sometimes burns, tans gradually"
    IV = 4, "IV – burns minimally, tans well"
    V = 5, "V – rarely burns, tans darkly"
    VI = 6, "VI – never burns"


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
    # The patient's own sign-in account for their online pages (portal/): no password, no groups,
    # never staff, made the first time they ask for a sign-in link (patients.services.patient_account).
    # It is what django-sesame signs links for and what the audit trail names as the actor.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="patient",
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


# The audit trail: every change to patients, with who made it.
auditlog.register(Patient, exclude_fields=["updated_at"])
