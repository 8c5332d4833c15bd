from django.contrib import admin, messages
from django.utils import timezone

from .models import (
    Appointment,
    ClinicClosure,
    LaserDevice,
    Notification,
    Practitioner,
    Room,
    SessionRecord,
    TimeOff,
    TreatmentArea,
    TreatmentCourse,
    WorkingHours,
)
from .services import SchedulingError, appointment_cancel, course_approve


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "active"]
    list_filter = ["role", "active"]
    search_fields = ["user__first_name", "user__last_name", "user__username"]
    list_select_related = ["user"]
    inlines = [WorkingHoursInline]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "weekday", "start_time", "end_time"]
    list_filter = ["weekday", "practitioner"]
    search_fields = ["practitioner__user__last_name"]
    list_select_related = ["practitioner__user"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "start", "end", "reason"]
    list_filter = ["practitioner"]
    search_fields = ["practitioner__user__last_name", "reason"]
    date_hierarchy = "start"
    list_select_related = ["practitioner__user"]


@admin.register(ClinicClosure)
class ClinicClosureAdmin(admin.ModelAdmin):
    list_display = ["start_date", "end_date", "reason"]
    search_fields = ["reason"]
    date_hierarchy = "start_date"


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "turnover_minutes", "active"]
    list_filter = ["active"]
    search_fields = ["name"]


@admin.register(LaserDevice)
class LaserDeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "model", "wavelengths_nm", "turnover_minutes", "active"]
    list_filter = ["active", "conditions"]
    search_fields = ["name", "model"]
    filter_horizontal = ["conditions"]


@admin.register(TreatmentArea)
class TreatmentAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "size"]
    list_filter = ["size"]
    search_fields = ["name"]


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
        practitioner = getattr(request.user, "practitioner", None)
        for course in queryset:
            try:
                course_approve(course=course, by=practitioner)
            except SchedulingError as error:
                self.message_user(request, f"{course}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Approved {course}.", messages.SUCCESS)


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["start", "kind", "patient", "practitioner", "room", "device", "status", "sequence"]
    list_filter = ["status", "kind", "practitioner", "room", "device"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__email"]
    date_hierarchy = "start"
    autocomplete_fields = ["patient"]
    raw_id_fields = ["course"]
    list_select_related = ["patient", "practitioner__user", "room", "device"]
    actions = ["cancel"]

    # Bookings are made and moved through the booking service (staff pages and API), which checks
    # every resource for overlaps; the admin shows them for support and can cancel.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Cancel selected appointments", permissions=["view"])
    def cancel(self, request, queryset):
        for appointment in queryset:
            try:
                appointment_cancel(appointment=appointment, reason="Cancelled in the admin")
            except SchedulingError as error:
                self.message_user(request, f"{appointment}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Cancelled {appointment}.", messages.SUCCESS)


@admin.register(SessionRecord)
class SessionRecordAdmin(admin.ModelAdmin):
    list_display = [
        "appointment",
        "wavelength_nm",
        "fluence_j_cm2",
        "spot_size_mm",
        "pulses",
        "skin_reaction",
        "recorded_by",
    ]
    list_filter = ["skin_reaction", "wavelength_nm", "recorded_by"]
    search_fields = ["appointment__patient__last_name", "appointment__patient__first_name"]
    date_hierarchy = "recorded_at"
    raw_id_fields = ["appointment"]
    list_select_related = ["appointment__patient", "recorded_by__user"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The communication log: what was sent, when, what is pending, what failed and why."""

    list_display = ["due_at", "kind", "patient", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "kind"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__email"]
    date_hierarchy = "due_at"
    list_select_related = ["patient"]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send selected failed or skipped emails again", permissions=["view"])
    def retry(self, request, queryset):
        again = queryset.filter(status__in=[Notification.Status.FAILED, Notification.Status.SKIPPED])
        count = again.update(status=Notification.Status.PENDING, due_at=timezone.now(), attempts=0)
        self.message_user(request, f"{count} email(s) will be sent again at the next dispatch.", messages.SUCCESS)
