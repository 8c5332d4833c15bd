from django.contrib import admin

from scheduling.models import Notification

from .models import Assessment, Condition, Patient


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "default_sessions",
        "min_sessions",
        "max_sessions",
        "min_interval_days",
        "max_interval_days",
        "active",
    ]
    list_filter = ["active"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class AssessmentInline(admin.TabularInline):
    model = Assessment
    extra = 0
    fields = ["assessed_at", "dermatologist", "skin_type", "candidate"]
    show_change_link = True


class CommunicationLogInline(admin.TabularInline):
    """Every email planned for the patient, newest first: sent, pending, failed (with why)."""

    model = Notification
    verbose_name_plural = "communication log"
    fields = ["due_at", "kind", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields
    ordering = ["-due_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "email", "phone", "skin_type", "email_consent"]
    list_filter = ["skin_type", "email_consent"]
    search_fields = ["last_name", "first_name", "email", "phone"]
    date_hierarchy = "created_at"
    inlines = [AssessmentInline, CommunicationLogInline]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["patient", "assessed_at", "dermatologist", "skin_type", "candidate"]
    list_filter = ["candidate", "skin_type", "dermatologist", "conditions"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__email"]
    date_hierarchy = "assessed_at"
    autocomplete_fields = ["patient"]
    filter_horizontal = ["conditions"]
    list_select_related = ["patient", "dermatologist__user"]
