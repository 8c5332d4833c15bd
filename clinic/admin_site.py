"""The admin site: Django's, which also refuses a session that still owes its second factor."""

from django.contrib import admin

from clinic.second_factor import session_owes


class ClinicAdminSite(admin.AdminSite):
    """Staff who have an authenticator app (or whose role needs one) reach the admin only after the
    code step; clinic.middleware.SecondFactorMiddleware sends them there first, this is the lock."""

    def has_permission(self, request):
        return super().has_permission(request) and session_owes(request) is None
