"""Clinical reads shared by the staff's and the patient's pages."""

from django.db.models import QuerySet

from clinical.models import ConsentSignature


def consent_signatures(patient) -> QuerySet[ConsentSignature]:
    """Every consent the patient signed (withdrawn ones too), newest first, with its text."""
    return ConsentSignature.objects.filter(patient=patient).select_related("text").order_by("-signed_at", "-pk")
