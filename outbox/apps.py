from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Patient emails"

    def ready(self):
        from clinical.events import sun_exposure_changed
        from outbox import checks  # noqa: F401  (registers the outbox's system check)
        from outbox.planning import on_appointment_changed, on_course_changed, on_sun_exposure_changed
        from scheduling.events import appointment_changed, course_changed

        appointment_changed.connect(on_appointment_changed, dispatch_uid="outbox.plan_emails")
        course_changed.connect(on_course_changed, dispatch_uid="outbox.plan_course_emails")
        sun_exposure_changed.connect(on_sun_exposure_changed, dispatch_uid="outbox.plan_sun_exposure_emails")
