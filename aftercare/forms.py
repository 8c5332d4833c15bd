"""The patient's answer on the skin-check page: well-formed input only; the rules are the service's."""

from django import forms

from aftercare.models import SkinCheck


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label="How is your skin?",
        choices=SkinCheck.Answer.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Please choose one of the answers.",
            "invalid_choice": "Please choose one of the answers.",
        },
    )
    text = forms.CharField(
        label="Something else: tell us in a few words",
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": SkinCheck._meta.get_field("text").max_length}),
    )
