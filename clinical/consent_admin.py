"""Consent texts and signatures in the admin. A text is versioned: once anyone signed a version it is
read-only, and its wording changes only as a new version (version + 1), which asks every patient
again at their next visit. A signature is never added or changed here: patients sign on their own
pages or on the clinic's tablet (`clinical.consent_forms`); the admin shows signatures read-only."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from clinical.models import ConsentSignature, ConsentText
from clinical.services.consent import is_signed, next_version

NEW_VERSION = "_newversion"
SIGNED = "Patients have signed this version, so it cannot change: edit the words and press “Save as new version”."


class ConsentTextForm(forms.ModelForm):
    new_version = False  # set per request by ConsentTextAdmin.get_form

    class Meta:
        model = ConsentText
        fields = ["kind", "condition", "title", "body", "published_at"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not self.new_version and self.has_changed() and is_signed(self.instance):
            raise forms.ValidationError(SIGNED)
        return cleaned


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    form = ConsentTextForm
    change_form_template = "admin/clinical/consenttext/change_form.html"
    list_display = ["title", "kind", "condition", "version", "published_at"]
    list_filter = ["kind", "condition"]
    list_select_related = ["condition"]
    search_fields = ["title", "body"]

    def get_fields(self, request, obj=None):
        return ["kind", "condition", "version", "title", "body", "published_at"]

    def get_readonly_fields(self, request, obj=None):
        # The version is counted, never typed; an existing text keeps its kind and condition.
        return ["version"] if obj is None else ["kind", "condition", "version"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.new_version = change and NEW_VERSION in request.POST
        return form

    def get_changeform_initial_data(self, request):
        """ "Add a new version" of a text (`?from=<id>`) starts from that version's words."""
        initial = super().get_changeform_initial_data(request)
        wanted = request.GET.get("from", "")
        source = ConsentText.objects.filter(pk=int(wanted)).first() if wanted.isdigit() else None
        if source is not None:
            initial.update(kind=source.kind, condition=source.condition_id, title=source.title, body=source.body)
        return initial

    def change_view(self, request, object_id, form_url="", extra_context=None):
        text = self.get_object(request, object_id)
        signed = text is not None and is_signed(text)
        extra = {"signed": signed, "signatures": text.signatures.count() if signed else 0, "signed_note": SIGNED}
        if signed:  # only "Save as new version" is offered
            extra |= {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context=(extra_context or {}) | extra)

    def save_model(self, request, obj, form, change):
        if not change or form.new_version:
            # A new row: the version after the highest, published now unless a later time was set.
            obj.pk = None
            obj._state.adding = True
            obj.version = next_version(kind=obj.kind, condition=obj.condition)
            if change and obj.published_at <= timezone.now():
                obj.published_at = timezone.now()
        super().save_model(request, obj, form, change and not form.new_version)

    def response_change(self, request, obj):
        if NEW_VERSION in request.POST:
            message = f"Saved as version {obj.version}: patients sign it from now on."
            self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:clinical_consenttext_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and is_signed(obj))


@admin.register(ConsentSignature)
class ConsentSignatureAdmin(admin.ModelAdmin):
    """Read-only: the record of what a patient signed, when, where and from which address."""

    list_display = ["patient", "text", "signed_at", "channel", "withdrawn_at"]
    list_filter = ["channel", "text__kind"]
    list_select_related = ["patient", "text"]
    search_fields = ["patient__last_name", "patient__first_name", "typed_name"]
    date_hierarchy = "signed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
