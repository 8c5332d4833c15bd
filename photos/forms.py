"""The upload form: a phase, and for each view the area offers a camera input taking several files."""

from django import forms

from photos.models import SessionPhoto


class CameraInput(forms.ClearableFileInput):
    """`<input type=file accept="image/*" capture="environment" multiple>`: a phone or tablet opens
    its back camera, a computer its file chooser. The accept list is a hint; the server decodes."""

    allow_multiple_selected = True

    def __init__(self, attrs=None):
        super().__init__({"accept": "image/*", "capture": "environment", "multiple": True, **(attrs or {})})


class PhotoFiles(forms.FileField):
    widget = CameraInput

    def clean(self, data, initial=None):
        # Each file is checked by the upload service, one by one, so that one bad file loses no other.
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [upload for upload in files if upload]


class PhotoUploadForm(forms.Form):
    phase = forms.ChoiceField(choices=SessionPhoto.Phase.choices, widget=forms.RadioSelect, initial="before")

    def __init__(self, *args, views=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.views = views
        for view in views:
            self.fields[f"view_{view}"] = PhotoFiles(label=SessionPhoto.View(view).label, required=False)

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"view_{view}") for view in self.views):
            raise forms.ValidationError("Choose or take at least one photo.")
        return cleaned

    def files_by_view(self) -> dict[str, list]:
        return {view: self.cleaned_data[f"view_{view}"] for view in self.views if self.cleaned_data.get(f"view_{view}")}
