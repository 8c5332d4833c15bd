"""The patient in the admin, with the records other rooms keep about them: assessments and emails.
It lives here, above those rooms, because it shows them together."""

from django.contrib import admin

from clinical.models import Assessment
from outbox.admin import CommunicationLogInline
from patients.models import Patient
from patients.selectors import patients_matching


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
