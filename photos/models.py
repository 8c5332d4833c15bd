"""Before-and-after photos of a treatment session, in the standard views the treated area offers."""

import uuid

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.utils import timezone

from scheduling.models import Appointment


class SessionPhoto(models.Model):
    """One photo of a treatment session, stored cleaned (no EXIF, orientation applied) as a display
    image and a thumbnail. The camera's original is never kept: its metadata (GPS, device, time)
    is personal data the clinic does not need, and a display size of 1600 px is what the comparison
    shows. The `key` is random and names the files and the URL, so no path tells whose photo it is."""

    class Phase(models.TextChoices):
        BEFORE = "before", "Before"
        AFTER = "after", "After"

    class View(models.TextChoices):
        FRONT = "front", "Front"
        LEFT = "left", "Left side"
        RIGHT = "right", "Right side"
        CLOSE_UP = "close_up", "Close-up"

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="photos")
    phase = models.CharField(max_length=6, choices=Phase.choices)
    view = models.CharField(max_length=8, choices=View.choices)
    image = models.CharField(max_length=200)  # the display image's name in the "photos" storage
    thumbnail = models.CharField(max_length=200)
    content_type = models.CharField(max_length=20, default="image/jpeg")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()  # the display image's size as stored
    taken_at = models.DateTimeField(null=True, blank=True)  # the camera's time, when it said
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["appointment__start", "phase", "view", "uploaded_at", "pk"]
        indexes = [models.Index(fields=["appointment", "view"], name="photo_appointment_view")]

    def __str__(self):
        return f"{self.get_phase_display()} photo ({self.get_view_display().lower()}) {self.key}"


auditlog.register(SessionPhoto)
