"""The skin two days after a treatment: the patient's answer to the emailed check, and whether a
dermatologist has seen it."""

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models

from scheduling.models import Appointment


class SkinCheck(models.Model):
    """How the skin was after one treatment, as the patient answered the skin-check email
    (`aftercare.services`). A row with no answer is a session a dermatologist marked seen while
    the patient had not answered; an answer that comes later replaces it."""

    class Answer(models.TextChoices):
        SETTLED = "settled", "Settled"
        RED = "red", "Still red or swollen"
        BLISTERING = "blistering", "Blistering or pain"
        OTHER = "other", "Something else"

    # No reverse accessor on Appointment: the audit trail would read it at every booking.
    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="+")
    answer = models.CharField(max_length=12, choices=Answer.choices, blank=True)
    text = models.CharField(max_length=500, blank=True, help_text="The patient's words for something else.")
    answered_at = models.DateTimeField(null=True, blank=True)
    answers = models.PositiveSmallIntegerField(default=0, help_text="How many times the patient answered.")
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answer="") | models.Q(answered_at__isnull=False), name="skin_check_answer_has_time"
            ),
        ]

    def __str__(self):
        return f"Skin check after {self.appointment}: {self.get_answer_display() or 'no answer'}"


auditlog.register(SkinCheck)
