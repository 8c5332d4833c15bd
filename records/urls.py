"""The record's pages. clinic/urls.py mounts them: the patient pages in the `patients` namespace
beside patients/urls.py, the results queue in `clinical`, the work queues in `queues`."""

from django.urls import path

from records import queues, views

patient_urlpatterns = [
    path("search/", views.search, name="search"),
    path("<int:patient_id>/", views.detail, name="detail"),
    path("<int:patient_id>/export/", views.export, name="export"),
    path("<int:patient_id>/erase/", views.erase, name="erase"),
]
clinical_urlpatterns = [
    path("courses/results/", queues.results_queue, name="results"),
]
queue_urlpatterns = [
    path("", queues.index, name="index"),
]
