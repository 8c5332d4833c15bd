from django.contrib import admin, messages

from catalogue.permissions import acting_dermatologist
from clinic.errors import SchedulingError
from clinic.roles import can
from clinical import consent_admin  # noqa: F401 - consent texts and signatures register themselves
from clinical.models import Assessment, TreatmentCourse
from clinical.services.courses import course_approve


class ClinicalRecordAdmin(admin.ModelAdmin):
    """A record that is clinical as a whole (an assessment, a session record): the matrix keeps it
    to `view_clinical`, whatever model permissions a group was given."""

    def has_view_permission(self, request, obj=None):
        return can(request.user, "view_clinical") and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return can(request.user, "view_clinical") and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return can(request.user, "view_clinical") and super().has_add_permission(request)


@admin.register(Assessment)
class AssessmentAdmin(ClinicalRecordAdmin):
    list_display = ["patient", "assessed_at", "dermatologist", "skin_type", "candidate"]
    list_filter = ["candidate", "skin_type", "dermatologist", "conditions"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__email"]
    date_hierarchy = "assessed_at"
    autocomplete_fields = ["patient"]
    filter_horizontal = ["conditions"]
    list_select_related = ["patient", "dermatologist__user"]

    # An assessment is part of the patient's clinical record: kept, never deleted.
    def has_delete_permission(self, request, obj=None):
        return False


# The fields a course's change form could edit: every editable field and the areas.
_COURSE_FIELDS = [
    field.name
    for field in TreatmentCourse._meta.get_fields()
    if (field.concrete or field.many_to_many) and not field.auto_created and field.editable
]


@admin.register(TreatmentCourse)
class TreatmentCourseAdmin(admin.ModelAdmin):
    list_display = ["patient", "condition", "planned_sessions", "status", "approved_by", "created_at"]
    list_filter = ["status", "condition"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__email"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["patient"]
    filter_horizontal = ["areas"]
    raw_id_fields = ["assessment"]
    list_select_related = ["patient", "condition", "approved_by__user"]
    # Approval is recorded by the service, never typed in.
    readonly_fields = ["status", "approved_by", "approved_at"]
    actions = ["approve"]

    def get_exclude(self, request, obj=None):
        """The course's clinical text is for `view_clinical` only, as on the patient page."""
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude if can(request.user, "view_clinical") else [*exclude, *TreatmentCourse.CLINICAL_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        """A course keeps its patient and the assessment it was proposed from. Once approved,
        sessions are booked against its plan (the number of sessions, the intervals between them,
        the areas, the laser the condition needs), so an approved, active, completed or cancelled
        course is read-only here except its notes, as on the clinic's pages, where only a proposed
        course can be changed (and then through the clinical service)."""
        if obj is None:
            return self.readonly_fields
        if obj.status == TreatmentCourse.Status.PROPOSED:
            return [*self.readonly_fields, "patient", "assessment"]
        return list(dict.fromkeys([*self.readonly_fields, *(name for name in _COURSE_FIELDS if name != "notes")]))

    # A course is cancelled through the service, never deleted: its sessions and emails refer to it.
    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        """The pages' rule: approving is a dermatologist's (`treat`); the service checks it again."""
        return can(request.user, "treat")

    @admin.action(description="Approve selected courses (dermatologists)", permissions=["approve"])
    def approve(self, request, queryset):
        practitioner = acting_dermatologist(request.user)  # None refuses each course, as on the pages and the API
        for course in queryset:
            try:
                course_approve(course=course, by=practitioner)
            except SchedulingError as error:
                self.message_user(request, f"{course}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Approved {course}.", messages.SUCCESS)
