from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self):
        from scheduling.services.diary import ensure_sqlite_indexes

        post_migrate.connect(ensure_sqlite_indexes, sender=self, dispatch_uid="scheduling.ensure_sqlite_indexes")
