from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from clinic import checks  # noqa: F401 - registers the clinic's system checks
        from clinic.middleware import session_started
        from clinic.roles import ensure_groups

        post_migrate.connect(ensure_groups, dispatch_uid="clinic.ensure_groups")
        user_logged_in.connect(session_started, dispatch_uid="clinic.session_started")
