from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "waitlist"
    verbose_name = "Waitlist"

    def ready(self):
        from django.db.models.signals import post_save, pre_save

        from catalogue.models import WorkingHours
        from outbox.emails import register_kind
        from outbox.sending import register_unwanted
        from scheduling.events import appointment_changed
        from waitlist.emails import offer_context, offer_unwanted
        from waitlist.models import OFFER_KIND
        from waitlist.services.matching import on_appointment_changed
        from waitlist.services.new_hours import on_hours_saved, remember_hours_before

        # Inside the booking's transaction, as outbox/apps.py plans its emails: a rolled-back
        # cancellation plans no offer.
        appointment_changed.connect(on_appointment_changed, dispatch_uid="waitlist.offer_freed_slot")
        # New or longer working hours open time the waitlist may want, in the saving transaction too.
        pre_save.connect(remember_hours_before, sender=WorkingHours, dispatch_uid="waitlist.hours_before")
        post_save.connect(on_hours_saved, sender=WorkingHours, dispatch_uid="waitlist.offer_new_hours")
        register_kind(OFFER_KIND, offer_context)
        register_unwanted(OFFER_KIND, offer_unwanted)
