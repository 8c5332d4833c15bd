"""The form of the public consultation booking page: well-formed input and the patient rules
(`patients.services`, as the staff form runs them), nothing more; the service decides the rest."""

from datetime import UTC, date, datetime

from django import forms
from django.utils import timezone

from clinic.forms import DatePickerInput
from patients import services
from patients.forms import PatientDetailsChecks
from patients.models import Patient


def slot_value(slot) -> str:
    """A slot as the form carries it: its start in epoch seconds, its practitioner and room."""
    return f"{int(slot.start.timestamp())}-{slot.practitioner.pk}-{slot.room.pk}"


class TelInput(forms.TextInput):
    input_type = "tel"  # a phone's number pad


class ConsultationForm(PatientDetailsChecks, forms.Form):
    slot = forms.ChoiceField(label="Choose a time", widget=forms.RadioSelect, error_messages={
        "required": "Choose a time for your consultation.",
        "invalid_choice": "That time is no longer offered. Please choose another.",
    })  # fmt: skip
    first_name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    date_of_birth = forms.DateField(input_formats=services.DATE_INPUT_FORMATS, widget=DatePickerInput(
        attrs={"autocomplete": "bday"}))  # fmt: skip
    email = forms.EmailField(
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We send the link to confirm your booking here.",
    )
    phone = forms.CharField(max_length=32, widget=TelInput(attrs={"autocomplete": "tel"}))
    email_consent = forms.BooleanField(
        required=False, label="Send me reminders and aftercare advice by email",
        help_text=Patient._meta.get_field("email_consent").help_text,
    )  # fmt: skip

    def __init__(self, *args, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = list(slots)
        self.fields["slot"].choices = [(slot_value(slot), str(slot.start)) for slot in self.slots]

    def slot_days(self) -> list[tuple[date, list[dict]]]:
        """The offered times by local day, for the page's radio buttons."""
        chosen = self["slot"].value()
        days: dict[date, list[dict]] = {}
        for slot in self.slots:
            start = timezone.localtime(slot.start)
            value = slot_value(slot)
            days.setdefault(start.date(), []).append(
                {"value": value, "time": start, "practitioner": str(slot.practitioner), "checked": value == chosen}
            )
        return list(days.items())

    def chosen(self) -> tuple[datetime, int, int]:
        """The chosen slot's start, practitioner id and room id."""
        epoch, practitioner_id, room_id = (int(part) for part in self.cleaned_data["slot"].split("-"))
        return datetime.fromtimestamp(epoch, tz=UTC), practitioner_id, room_id
