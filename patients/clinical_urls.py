"""Clinical pages about a patient, included into the `clinical` namespace by scheduling.clinical_urls."""

from django.urls import path

from patients import clinical_views

urlpatterns = [
    path("patients/<int:patient_id>/assess/", clinical_views.assess, name="assess"),
]
