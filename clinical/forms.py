"""Forms of the dermatologist's pages: the assessment, proposing or changing a course, and its
results review."""

from django import forms

from catalogue.forms import outcome_score_field
from catalogue.models import Condition, TreatmentArea
from clinical.models import Contraindication, CourseDecision
from clinical.services.courses import MAX_INTERVAL_DAYS, MAX_SESSIONS, plan_errors
from clinical.services.outcome import REASON_MAX, sessions_left_to_add
from patients.models import SkinType


class CoursePlanForm(forms.Form):
    """A course's plan: how many sessions, how far apart, which areas. The bounds are the service's
    (`plan_errors`), so the page says what the API says; the inputs only hint them to the browser."""

    planned_sessions = forms.IntegerField(widget=forms.NumberInput(attrs={"min": 1, "max": MAX_SESSIONS}))
    min_interval_days = forms.IntegerField(
        label="Minimum interval (days)", widget=forms.NumberInput(attrs={"min": 1, "max": MAX_INTERVAL_DAYS})
    )
    max_interval_days = forms.IntegerField(
        label="Maximum interval (days)", widget=forms.NumberInput(attrs={"min": 1, "max": MAX_INTERVAL_DAYS})
    )
    areas = forms.ModelMultipleChoiceField(
        label="Treatment areas",
        queryset=TreatmentArea.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one treatment area."},
    )

    PLAN = ("planned_sessions", "min_interval_days", "max_interval_days")

    def clean(self):
        cleaned = super().clean()
        if all(cleaned.get(name) is not None for name in self.PLAN):
            for field, message in plan_errors(**{name: cleaned[name] for name in self.PLAN}).items():
                self.add_error(field, message)
        return cleaned


class CourseProposalForm(CoursePlanForm):
    field_order = ["condition", "planned_sessions", "min_interval_days", "max_interval_days", "areas", "notes"]

    # Any condition of the catalogue: whether the assessment found it is the service's to say, in
    # the words the API uses too.
    condition = forms.ModelChoiceField(queryset=Condition.objects.all(), empty_label=None, widget=forms.HiddenInput)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class AssessmentForm(forms.Form):
    skin_type = forms.TypedChoiceField(
        label="Fitzpatrick skin type",
        choices=[("", "Choose a skin type")] + SkinType.choices,
        coerce=int,
        error_messages={"required": "Choose the patient's skin type."},
    )
    conditions = forms.ModelMultipleChoiceField(
        label="Conditions found",
        queryset=Condition.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    contraindications = forms.MultipleChoiceField(
        choices=Contraindication.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Any of these blocks proposing a course until a new assessment finds it resolved.",
    )
    candidate = forms.TypedChoiceField(
        label="Good candidate for pico-laser treatment?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the patient is a good candidate."},
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)


class CourseDecisionForm(forms.Form):
    """The results review: the course's score on its condition's scale and the decision. How many
    sessions may be added, and whether a reason is needed, is the service's rule (`course_decide`)."""

    decision = forms.ChoiceField(
        choices=CourseDecision.Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose complete, add sessions or stop."},
    )
    added_sessions = forms.IntegerField(
        label="Sessions to add",
        required=False,
        min_value=1,
        help_text="Only when adding sessions.",
        error_messages={"min_value": "Add at least one session."},
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when the treatment stops.",
    )

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        left = sessions_left_to_add(course)
        self.fields["added_sessions"].help_text = (
            f"Only when adding sessions: up to {left} more ({course.condition} allows "
            f"{course.condition.max_sessions} in all)."
            if left
            else f"This course already has the {course.condition.max_sessions} sessions {course.condition} allows."
        )
        score = outcome_score_field(course.condition, required=True, label="Course outcome")
        score.error_messages["required"] = "Score the course's outcome."
        self.fields = {"outcome_score": score} | self.fields
