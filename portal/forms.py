"""The patient pages' forms: well-formed input only; the rules are the services'."""

from datetime import datetime

from django import forms
from django.utils import timezone

from catalogue.models import LaserDevice, Practitioner, Room
from clinic.errors import BookingConflict, Contention, SchedulingError
from scheduling.services import Slot


def slot_value(slot: Slot) -> str:
    """A free time as the pages offer it: its start (epoch seconds) and who and what it uses."""
    return f"{int(slot.start.timestamp())}-{slot.practitioner.pk}-{slot.room.pk}-{slot.device.pk if slot.device else 0}"


class EmailForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)


class SlotForm(forms.Form):
    """A time the page offered; whether it is still free and allowed is the search's to say again."""

    slot = forms.RegexField(
        regex=r"^\d{1,12}-\d{1,12}-\d{1,12}-\d{1,12}$", error_messages={"invalid": "Choose a time."}
    )

    def clean_slot(self) -> dict:
        start, practitioner, room, device = (int(part) for part in self.cleaned_data["slot"].split("-"))
        chosen = {
            "start": datetime.fromtimestamp(start, tz=timezone.get_default_timezone()),
            "practitioner": Practitioner.objects.filter(pk=practitioner, active=True).select_related("user").first(),
            "room": Room.objects.filter(pk=room, active=True).first(),
            "device": LaserDevice.objects.filter(pk=device).first() if device else None,
        }
        if chosen["practitioner"] is None or chosen["room"] is None:
            raise forms.ValidationError("That time is no longer offered. Please choose another.")
        return chosen


class BookForm(SlotForm):
    avoid_sun = forms.BooleanField(
        label="I will avoid the sun and tanning beds for the two weeks before this session.",
        error_messages={"required": "Please confirm that you will avoid the sun and tanning beds for two weeks."},
    )


def patient_message(error: SchedulingError) -> str:
    """A booking service's refusal as the patient reads it."""
    if isinstance(error, Contention):
        return error.message
    if isinstance(error, BookingConflict):
        if {conflict.resource for conflict in error.conflicts} == {"patient"}:
            return "You have another visit at that time. Please choose another."
        return "Someone has just booked that time. Please choose another."
    return error.message
