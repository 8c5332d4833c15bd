from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django_otp.plugins.otp_totp import apps as totp_apps


class ClinicAdminConfig(admin_apps.AdminConfig):
    """Django's admin on the clinic's site (clinic.admin_site): it asks for the second factor too."""

    default = False  # named in full in INSTALLED_APPS; "clinic" is ClinicConfig
    default_site = "clinic.admin_site.ClinicAdminSite"


class StaffAppsConfig(totp_apps.DefaultConfig):
    """django-otp's authenticator apps, under a name the admin's index can show a manager."""

    default = False
    verbose_name = "Staff second factor"


class ClinicConfig(AppConfig):
    default = True
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from clinic import checks  # noqa: F401 - registers the clinic's system checks
        from clinic.middleware import session_started
        from clinic.roles import ensure_groups
        from clinic.second_factor import register_audit, sign_in_started

        post_migrate.connect(ensure_groups, dispatch_uid="clinic.ensure_groups")
        user_logged_in.connect(session_started, dispatch_uid="clinic.session_started")
        user_logged_in.connect(sign_in_started, dispatch_uid="clinic.second_factor")
        register_audit()
