"""The record's pages. clinic/urls.py mounts them: the patient pages in the `patients` namespace
beside patients/urls.py, the results queue in `clinical`, the work queues in `queues`."""

from django.urls import path

from records import consent, courses, queues, sun_exposure, views

patient_urlpatterns = [
    path("search/", views.search, name="search"),
    path("<int:patient_id>/", views.detail, name="detail"),
    path("<int:patient_id>/export/", views.export, name="export"),
    path("<int:patient_id>/erase/", views.erase, name="erase"),
    path("<int:patient_id>/consents/<int:pk>/", consent.consent_record, name="consent_record"),
    path("<int:patient_id>/sun-exposure/add/", sun_exposure.add, name="sun_exposure_add"),
    path("<int:patient_id>/sun-exposure/<int:pk>/", sun_exposure.edit, name="sun_exposure_edit"),
    path("<int:patient_id>/sun-exposure/<int:pk>/remove/", sun_exposure.remove, name="sun_exposure_remove"),
]
clinical_urlpatterns = [
    path("courses/results/", queues.results_queue, name="results"),
    path("courses/<int:course_id>/", courses.course_page, name="course"),
    path("courses/<int:course_id>/decision/", courses.course_decision, name="course_decision"),
]
queue_urlpatterns = [
    path("", queues.index, name="index"),
]
