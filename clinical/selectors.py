"""Clinical reads shared by the staff's and the patient's pages."""

from datetime import date

from django.db.models import QuerySet

from clinical.models import ConsentSignature, SunExposure


def consent_signatures(patient) -> QuerySet[ConsentSignature]:
    """Every consent the patient signed (withdrawn ones too), newest first, with its text."""
    return ConsentSignature.objects.filter(patient=patient).select_related("text").order_by("-signed_at", "-pk")


def planned_sun_exposures(patient, *, today: date) -> QuerySet[SunExposure]:
    """The patient's planned time in the sun that has not ended by `today`, soonest first."""
    return SunExposure.objects.filter(patient=patient, last_day__gte=today).order_by("first_day", "pk")
