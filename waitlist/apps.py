from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "waitlist"
    verbose_name = "Waitlist"

    def ready(self):
        from outbox.emails import register_kind
        from outbox.sending import register_unwanted
        from scheduling.events import appointment_changed
        from waitlist.emails import offer_context, offer_unwanted
        from waitlist.models import OFFER_KIND
        from waitlist.services.matching import on_appointment_changed

        # Inside the booking's transaction, as outbox/apps.py plans its emails: a rolled-back
        # cancellation plans no offer.
        appointment_changed.connect(on_appointment_changed, dispatch_uid="waitlist.offer_freed_slot")
        register_kind(OFFER_KIND, offer_context)
        register_unwanted(OFFER_KIND, offer_unwanted)
