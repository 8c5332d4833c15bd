from django.contrib import admin, messages

from clinic.roles import can
from outbox.models import Notification
from outbox.services import RETRY_ABILITY, notification_retry


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

    # The communication log is a record of what the patient was sent: kept, never deleted.
    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return can(request.user, RETRY_ABILITY)

    @admin.action(description="Send selected failed or skipped emails again", permissions=["retry"])
    def retry(self, request, queryset):
        count = notification_retry(notifications=queryset)
        self.message_user(request, f"{count} email(s) will be sent again at the next dispatch.", messages.SUCCESS)
