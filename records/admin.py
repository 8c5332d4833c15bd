"""The patient in the admin, with the records other rooms keep about them: assessments and emails;
and the audit log, which shows clinical values only to `view_clinical`. They live here, above those
rooms, because they show them together."""

from contextvars import ContextVar

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from auditlog.render import render_logentry_changes_html
from django.contrib import admin

from clinic.roles import can
from clinical.models import Assessment
from outbox.admin import CommunicationLogInline
from patients.models import Patient
from patients.selectors import patients_matching

from .audit import clinical_models, entry_as_seen


class AssessmentInline(admin.TabularInline):
    model = Assessment
    extra = 0
    fields = ["assessed_at", "dermatologist", "skin_type", "candidate"]
    show_change_link = True
    can_delete = False


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "email", "phone", "skin_type", "email_consent"]
    list_filter = ["skin_type", "email_consent"]
    search_fields = ["last_name", "first_name", "email", "phone"]  # shows the box; the rule is below
    date_hierarchy = "created_at"
    inlines = [AssessmentInline, CommunicationLogInline]

    # Deleting a patient would take their assessments and emails with them; a patient who asks to be
    # forgotten is erased from the patient page (records.privacy.patient_erase), which keeps the
    # anonymous clinical history.
    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        """The staff pages' search rule (patients.selectors.patients_matching), not the admin's own."""
        if not search_term.strip():
            return queryset, False
        return queryset.filter(pk__in=patients_matching(search_term).values("pk")), False


# Whether the request being answered may read clinical values. An admin instance serves every
# request, so this is per request (a context variable), and unset means no: what is not known to be
# allowed is hidden.
_reader_is_clinical = ContextVar("reader_is_clinical", default=False)


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ClinicLogEntryAdmin(LogEntryAdmin):
    """django-auditlog's log, with the clinical values left out for readers without `view_clinical`
    (records.audit.entry_as_seen): the list, the entry's page and the search alike."""

    def _as_reader(self, request, view, *args, **kwargs):
        token = _reader_is_clinical.set(can(request.user, "view_clinical"))
        try:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()  # inside: the template reads the entries now
            return response
        finally:
            _reader_is_clinical.reset(token)

    def changelist_view(self, request, extra_context=None):
        return self._as_reader(request, super().changelist_view, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._as_reader(request, super().changeform_view, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        return self._as_reader(request, super().history_view, object_id, extra_context)

    def get_object(self, request, object_id, from_field=None):
        entry = super().get_object(request, object_id, from_field)
        return None if entry is None else self._seen(entry)  # its page's title names it too

    def _seen(self, entry):
        return entry_as_seen(entry, clinical=_reader_is_clinical.get())

    @admin.display(description="Resource")
    def resource_url(self, obj):
        return super().resource_url(self._seen(obj))

    @admin.display(description="Changes")
    def msg(self, obj):
        return render_logentry_changes_html(self._seen(obj))

    def get_search_fields(self, request):
        """Without `view_clinical`, a search reads no recorded values (they would answer whether a
        note says something) and no descriptions of clinical records (an assessment's names its
        verdict); such entries are still found by who made them and when."""
        fields = super().get_search_fields(request)
        if can(request.user, "view_clinical"):
            return fields
        return [field for field in fields if field not in ("changes", "object_repr")]

    def get_search_results(self, request, queryset, search_term):
        unsearched = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip() and not can(request.user, "view_clinical"):
            described = unsearched.exclude(content_type__in=clinical_models()).filter(
                object_repr__icontains=search_term.strip()
            )
            queryset = queryset | described
        return queryset, may_have_duplicates
