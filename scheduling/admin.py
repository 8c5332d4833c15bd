from django.contrib import admin, messages

from clinic.roles import can
from clinical.admin import ClinicalRecordAdmin
from scheduling.models import Appointment, SessionRecord

from .services import SchedulingError, appointment_cancel


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["start", "kind", "patient", "practitioner", "room", "device", "status", "session"]
    list_filter = ["status", "kind", "practitioner", "room", "device"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__email"]
    date_hierarchy = "start"
    autocomplete_fields = ["patient"]
    raw_id_fields = ["course"]
    list_select_related = ["patient", "practitioner__user", "room", "device"]
    actions = ["cancel"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_session_numbers()

    @admin.display(description="session")
    def session(self, appointment):
        return appointment.session_number

    # Bookings are made and moved through the booking service (staff pages and API), which checks
    # every resource for overlaps; the admin shows them for support and can cancel.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # An appointment is never deleted: it is cancelled, and its history stays.
    def has_delete_permission(self, request, obj=None):
        return False

    def has_cancel_permission(self, request):
        """The pages' rule: cancelling is booking work (`book` in clinic.roles.ABILITIES)."""
        return can(request.user, "book")

    @admin.action(description="Cancel selected appointments", permissions=["cancel"])
    def cancel(self, request, queryset):
        for appointment in queryset:
            try:
                appointment_cancel(appointment=appointment, reason="Cancelled in the admin")
            except SchedulingError as error:
                self.message_user(request, f"{appointment}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Cancelled {appointment}.", messages.SUCCESS)


@admin.register(SessionRecord)
class SessionRecordAdmin(ClinicalRecordAdmin):
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

    # A session record is the clinical record of a treatment given: kept, never deleted.
    def has_delete_permission(self, request, obj=None):
        return False
