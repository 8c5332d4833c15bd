from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "aftercare"
    verbose_name = "Aftercare"

    def ready(self):
        from aftercare.emails import SKIN_CHECK_KIND, skin_check_context, skin_check_unwanted
        from outbox.emails import register_kind
        from outbox.sending import register_unwanted

        # outbox.planning plans the email when a treatment is completed; this room says what it
        # says and when it is no longer wanted.
        register_kind(SKIN_CHECK_KIND, skin_check_context)
        register_unwanted(SKIN_CHECK_KIND, skin_check_unwanted)
