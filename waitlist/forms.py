"""The staff form that puts a patient on the waitlist: well-formed input only; the rules are the service's."""

from crispy_forms.helper import FormHelper
from django import forms

from clinic.forms import DatePickerInput
from clinical.models import TreatmentCourse
from scheduling.models import Appointment
from scheduling.services.moves import MOVABLE_STATUSES
from waitlist.models import AFTERNOON, EVENING, MORNING, WaitlistEntry

WEEKDAYS = [(str(n), name) for n, name in enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])]
TIMES = [
    (str(MORNING), "Morning (before 12:00)"),
    (str(AFTERNOON), "Afternoon (12:00-17:00)"),
    (str(EVENING), "Evening (from 17:00)"),
]


class JoinForm(forms.Form):
    wants = forms.ChoiceField(label="Waiting for", choices=WaitlistEntry.Want.choices, widget=forms.RadioSelect)
    course = forms.ModelChoiceField(
        queryset=TreatmentCourse.objects.none(), required=False, help_text="For a course's next session."
    )
    appointment = forms.ModelChoiceField(
        label="Booked visit",
        queryset=Appointment.objects.none(),
        required=False,
        help_text="For an earlier time for a visit already booked.",
    )
    earliest_date = forms.DateField(label="From", widget=DatePickerInput())
    latest_date = forms.DateField(label="Until", widget=DatePickerInput())
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, initial=[n for n, _ in WEEKDAYS[:5]], widget=forms.CheckboxSelectMultiple
    )
    times_of_day = forms.TypedMultipleChoiceField(
        label="Times of day",
        choices=TIMES,
        coerce=int,
        initial=[n for n, _ in TIMES],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, patient, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = TreatmentCourse.objects.filter(
            patient=patient, status__in=TreatmentCourse.BOOKABLE_STATUSES
        ).select_related("condition")
        self.fields["appointment"].queryset = Appointment.objects.filter(
            patient=patient, status__in=MOVABLE_STATUSES, start__gt=now
        ).order_by("start")
        self.helper = FormHelper()
        self.helper.form_tag = False

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "wants": data["wants"],
            "course": data["course"],
            "appointment": data["appointment"],
            "earliest_date": data["earliest_date"],
            "latest_date": data["latest_date"],
            "weekdays": sum(1 << day for day in data["weekdays"]),
            "times_of_day": sum(data["times_of_day"]),
        }
