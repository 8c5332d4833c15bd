"""Staff's authenticator apps in the admin: who has one, and the reset a manager does for a lost
phone. Never the secret: django-otp's own admin pages (which can show the QR code) are replaced."""

from django.contrib import admin, messages
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.second_factor import second_factor_reset

admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(TOTPDevice)
class SecondFactorAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    fields = list_display
    readonly_fields = list_display
    list_select_related = ("user",)
    search_fields = ("user__username", "user__first_name", "user__last_name")
    actions = ["reset"]

    def has_add_permission(self, request):
        return False  # a person enrols their own phone, on their second-factor page

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Reset the second factor (app and recovery codes)", permissions=["delete"])
    def reset(self, request, queryset):
        for device in queryset.select_related("user"):
            second_factor_reset(user=device.user)
        messages.success(request, "Reset: at their next sign-in they set up an app again if their role needs one.")

    def delete_model(self, request, obj):
        second_factor_reset(user=obj.user)  # the recovery codes go with the app

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            second_factor_reset(user=device.user)
