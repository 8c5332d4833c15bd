"""Forms of the staff pages: they check that input is well formed and name their fields after the
service arguments. Whether a booking is allowed is the services' decision, not theirs.

Times typed or clicked on a page are the clinic's wall-clock time; Django's form fields make them
aware in the current time zone, and the hidden start of a slot carries its UTC offset.
"""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone

from catalogue.forms import outcome_score_field
from catalogue.models import Condition, LaserDevice, Practitioner, Room
from clinic.forms import DatePickerInput
from patients.models import Patient
from scheduling.models import Appointment, SessionRecord
from scheduling.services.check_in import QUESTIONS

# How far ahead a search may look: bookings go up to two years ahead.
SEARCH_HORIZON = timedelta(days=730)


def in_board_years(moment):
    """A date or time the boards and searches can reach, years 1900 to 2999: a board's
    neighbours and polls add days to it, and Python's dates end at 9999."""
    if moment is not None and not 1900 <= moment.year <= 2999:
        raise forms.ValidationError("Pick a day between the years 1900 and 2999.")
    return moment


def _active_practitioners():
    return Practitioner.objects.filter(active=True).select_related("user")


class DayBoardForm(forms.Form):
    """The day board's date picker, its column switch, and the kind of visit its free cells offer
    (a treatment for a condition needs a laser set up for it)."""

    BY_CHOICES = [("practitioner", "Practitioners"), ("room", "Rooms"), ("device", "Lasers")]
    KIND_CHOICES = [(Appointment.Kind.CONSULTATION, "Consultation"), (Appointment.Kind.TREATMENT, "Treatment")]

    date = forms.DateField(required=False, widget=DatePickerInput())
    by = forms.ChoiceField(choices=BY_CHOICES, required=False)
    kind = forms.ChoiceField(label="Free for", choices=KIND_CHOICES, required=False)
    condition = forms.ModelChoiceField(
        queryset=Condition.objects.order_by("name"), required=False, empty_label="Any condition"
    )

    def clean_by(self):
        return self.cleaned_data["by"] or "practitioner"

    def clean_kind(self):
        return self.cleaned_data["kind"] or Appointment.Kind.CONSULTATION

    def clean_date(self):
        return in_board_years(self.cleaned_data["date"])


class SlotSearchForm(forms.Form):
    """Where the slot finder starts looking."""

    date = forms.DateField(label="From", required=False, widget=DatePickerInput())

    def clean_date(self):
        day = self.cleaned_data["date"]
        today = timezone.localdate()
        if day is not None and day < today:
            raise forms.ValidationError("Pick today or a later day.")
        if day is not None and day > today + SEARCH_HORIZON:
            raise forms.ValidationError("Bookings can be made up to two years ahead.")
        return day


class CourseSlotSearchForm(SlotSearchForm):
    practitioner = forms.ModelChoiceField(
        queryset=_active_practitioners(), required=False, empty_label="Any practitioner"
    )


class PickedResourceFields(forms.Form):
    """The room or laser whose day board column a time was clicked in: the slot kept to it."""

    room = forms.ModelChoiceField(queryset=Room.objects.filter(active=True), required=False, widget=forms.HiddenInput)
    device = forms.ModelChoiceField(
        queryset=LaserDevice.objects.filter(active=True), required=False, widget=forms.HiddenInput
    )


class CourseBookSearchForm(PickedResourceFields, CourseSlotSearchForm):
    """The next session's slot finder, which the day board opens at the time clicked."""

    start = forms.DateTimeField(required=False, widget=forms.HiddenInput, help_text="A time clicked on the day board.")


class MoveSearchForm(CourseSlotSearchForm):
    """The reschedule page's search: from which day, with anyone or one practitioner."""


class VisitSearchForm(PickedResourceFields, SlotSearchForm):
    """The slot finder for consultations and reviews: who, what, and optionally with whom and when."""

    patient = forms.ModelChoiceField(queryset=Patient.objects.all(), required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        choices=[(Appointment.Kind.CONSULTATION, "Consultation"), (Appointment.Kind.REVIEW, "Review")],
        required=False,
    )
    practitioner = forms.ModelChoiceField(
        queryset=_active_practitioners(), required=False, empty_label="Any practitioner"
    )
    start = forms.DateTimeField(required=False, widget=forms.HiddenInput, help_text="A time clicked on the day board.")

    field_order = ["kind", "practitioner", "date"]

    def clean_kind(self):
        return self.cleaned_data["kind"] or Appointment.Kind.CONSULTATION


class PatientSearchForm(forms.Form):
    q = forms.CharField(label="Patient", required=False, max_length=100)


class SlotBookForm(forms.Form):
    """One slot of the slot finder, posted by its button."""

    start = forms.DateTimeField(widget=forms.HiddenInput)
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.all(), widget=forms.HiddenInput)
    room = forms.ModelChoiceField(queryset=Room.objects.all(), widget=forms.HiddenInput)
    device = forms.ModelChoiceField(queryset=LaserDevice.objects.all(), required=False, widget=forms.HiddenInput)
    acknowledge_short_prep = forms.BooleanField(
        required=False, label="The patient knows this is inside the 14-day sun-free prep window."
    )
    acknowledge_sun_exposure = forms.BooleanField(
        required=False, label="The dermatologist agrees to treat during or soon after the patient's time in the sun."
    )


class BoardMoveForm(forms.Form):
    """A card dropped on a board's cell: the new local start, and the practitioner, room or laser
    of the cell's column (those not given stay as they are)."""

    start = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M"], help_text="Local time, YYYY-MM-DDTHH:MM.")
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.all(), required=False)
    room = forms.ModelChoiceField(queryset=Room.objects.all(), required=False)
    device = forms.ModelChoiceField(queryset=LaserDevice.objects.all(), required=False)
    acknowledge_short_prep = forms.BooleanField(required=False)
    acknowledge_sun_exposure = forms.BooleanField(required=False)

    def clean_start(self):
        return in_board_years(self.cleaned_data["start"])


class BoardChangesForm(forms.Form):
    """A board's poll: its first day, how many days it shows, and the token it was drawn with."""

    days = forms.IntegerField(min_value=1, max_value=31, required=False)
    token = forms.CharField(max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField()  # a keyword in Python, so not a class attribute

    def clean_days(self):
        return self.cleaned_data["days"] or 1

    def clean_from(self):
        return in_board_years(self.cleaned_data["from"])


class VisitBookForm(SlotBookForm):
    patient = forms.ModelChoiceField(queryset=Patient.objects.all(), widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        choices=[(Appointment.Kind.CONSULTATION, "Consultation"), (Appointment.Kind.REVIEW, "Review")],
        widget=forms.HiddenInput,
    )


class PlanSearchForm(forms.Form):
    start = forms.DateField(label="No session before", required=False, widget=DatePickerInput())
    reflow = forms.BooleanField(
        required=False, label="Move the booked sessions too (re-flow after a cancellation or no-show)"
    )


class PlanEntryForm(forms.Form):
    start = forms.DateTimeField(widget=forms.HiddenInput)
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.all(), widget=forms.HiddenInput)
    room = forms.ModelChoiceField(queryset=Room.objects.all(), widget=forms.HiddenInput)
    device = forms.ModelChoiceField(queryset=LaserDevice.objects.all(), widget=forms.HiddenInput)
    appointment = forms.ModelChoiceField(queryset=Appointment.objects.all(), required=False, widget=forms.HiddenInput)


PlanEntryFormSet = forms.formset_factory(PlanEntryForm, extra=0, min_num=1, validate_min=True, max_num=30)


class PlanBookForm(forms.Form):
    acknowledge_short_prep = forms.BooleanField(
        required=False,
        label="The patient knows that sessions marked “short prep” leave less than the 14-day sun-free window.",
    )


class CheckInForm(forms.Form):
    """The prep checklist and the contraindication re-screen asked at the desk: a box per question of
    scheduling.services.check_in, which also says what the answers flag."""

    remarks = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        questions = {name: forms.BooleanField(required=False, label=label) for name, label in QUESTIONS.items()}
        self.fields = questions | self.fields

    def answers(self) -> dict[str, bool]:
        return {name: self.cleaned_data[name] for name in QUESTIONS}


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, help_text="Told to the patient and kept with the appointment.")


class SessionRecordForm(forms.Form):
    wavelength_nm = forms.IntegerField(
        label="Wavelength (nm)",
        min_value=300,
        max_value=2000,
        error_messages={
            "min_value": "A wavelength between 300 and 2000 nm, please.",
            "max_value": "A wavelength between 300 and 2000 nm, please.",
        },
    )
    fluence_j_cm2 = forms.DecimalField(
        label="Fluence (J/cm²)",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"min_value": "The fluence must be more than 0 J/cm²."},
    )
    spot_size_mm = forms.DecimalField(
        label="Spot size (mm)",
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0.1"),
        error_messages={"min_value": "The spot size must be more than 0 mm."},
    )
    pulses = forms.IntegerField(min_value=1, max_value=1_000_000, error_messages={"min_value": "At least one pulse."})
    area = forms.ModelChoiceField(queryset=None, required=False, empty_label="Not recorded")
    skin_reaction = forms.ChoiceField(choices=[("", "Choose the reaction seen")] + SessionRecord.Reaction.choices)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = course.areas.all()
        # Before the notes: the result so far, on the condition's scale (none yet at a first session).
        notes = self.fields.pop("notes")
        self.fields["outcome_score"] = outcome_score_field(course.condition, required=False, label="Outcome so far")
        self.fields["notes"] = notes


class PatchResultForm(forms.Form):
    """A dermatologist's reading of a test patch."""

    result = forms.ChoiceField(choices=Appointment.PatchResult.choices, widget=forms.RadioSelect)
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
