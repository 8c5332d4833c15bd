"""Signing a consent on a page: the patient's own pages (online) and the clinic's tablet at
check-in show the same forms, one per unsigned text, and sign through `consent_sign`."""

from django import forms
from django.contrib import messages

from clinic.client import client_address
from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from clinical.models import ConsentSignature, ConsentText
from clinical.services.consent import consent_sign

YES_NO = [("yes", "Yes"), ("no", "No")]


class ConsentSignForm(forms.Form):
    """One text's signature: the typed full name, and for the photo consent a yes or no per use."""

    # Which text the form signs (named so that a service refusal about the text shows above the form).
    signing = forms.IntegerField(widget=forms.HiddenInput)
    typed_name = forms.CharField(label="Your full name, typed, as your signature", max_length=201)
    photo_clinical = forms.ChoiceField(
        label="Photos for my clinical record",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Say yes or no to photos for your clinical record."},
    )
    photo_marketing = forms.ChoiceField(
        label="Photos for teaching or marketing",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Say yes or no to photos for teaching or marketing."},
    )

    def __init__(self, data=None, *, text: ConsentText, patient):
        # Each text's form has its own prefix, so several on one page keep their own ids and input.
        super().__init__(data, prefix=f"consent-{text.pk}", initial={"signing": text.pk})
        self.text = text
        self.fields["typed_name"].help_text = f"Type {patient.full_name}, as the clinic has it."
        self.fields["typed_name"].widget.attrs["autocomplete"] = "name"
        if text.kind != ConsentText.Kind.PHOTO:
            del self.fields["photo_clinical"], self.fields["photo_marketing"]

    def scopes(self) -> dict:
        if self.text.kind != ConsentText.Kind.PHOTO:
            return {}
        return {name: self.cleaned_data[name] == "yes" for name in ("photo_clinical", "photo_marketing")}


def consent_forms(texts: list[ConsentText], *, patient, data=None) -> list[ConsentSignForm]:
    """A form per text; the one whose text was posted is bound to the posted input."""
    posted = {f"consent-{text.pk}-signing" for text in texts} & set(data or ())
    return [
        ConsentSignForm(data if f"consent-{text.pk}-signing" in posted else None, text=text, patient=patient)
        for text in texts
    ]


def posted_form(sign_forms: list[ConsentSignForm]) -> ConsentSignForm | None:
    """The form that was posted, or None when the text posted is no longer one to sign (signed
    meanwhile, or replaced by a newer version)."""
    return next((form for form in sign_forms if form.is_bound), None)


def sign_form(
    form: ConsentSignForm, *, patient, channel: str, client_address, witnessed_by=None
) -> ConsentSignature | None:
    """Sign the posted form's text; None with the refusal on the form (nothing typed is lost)."""
    if not form.is_valid():
        return None
    try:
        return consent_sign(
            patient=patient, text=form.text, typed_name=form.cleaned_data["typed_name"], channel=channel,
            client_address=client_address, witnessed_by=witnessed_by, **form.scopes(),
        )  # fmt: skip
    except SchedulingError as error:
        add_service_error(form, error)
        return None


def sign_posted(request, sign_forms: list[ConsentSignForm], *, patient, channel: str, witnessed_by=None) -> bool:
    """Sign the text whose form was posted, with the thanks as a message; False when it was
    refused (on its form, or as a message when the text is no longer one to sign), for a 400."""
    form = posted_form(sign_forms)
    if form is None:
        messages.error(request, GONE)
        return False
    signed = sign_form(
        form, patient=patient, channel=channel, client_address=client_address(request), witnessed_by=witnessed_by
    )
    if signed is not None:
        messages.success(request, f"Thank you: “{form.text.title}” is signed.")
    return signed is not None


GONE = "That consent was signed already, or a newer version replaced it. Please read the one shown here."
