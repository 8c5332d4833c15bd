from django.contrib import admin, messages

from catalogue.permissions import acting_dermatologist
from clinic.errors import SchedulingError
from clinical.models import Assessment, TreatmentCourse
from clinical.services.courses import course_approve


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["patient", "assessed_at", "dermatologist", "skin_type", "candidate"]
    list_filter = ["candidate", "skin_type", "dermatologist", "conditions"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__email"]
    date_hierarchy = "assessed_at"
    autocomplete_fields = ["patient"]
    filter_horizontal = ["conditions"]
    list_select_related = ["patient", "dermatologist__user"]


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

    @admin.action(description="Approve selected courses (dermatologists)")
    def approve(self, request, queryset):
        practitioner = acting_dermatologist(request.user)  # None refuses each course, as on the pages and the API
        for course in queryset:
            try:
                course_approve(course=course, by=practitioner)
            except SchedulingError as error:
                self.message_user(request, f"{course}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Approved {course}.", messages.SUCCESS)
