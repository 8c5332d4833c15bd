"""The dermatologist's pages under /clinical/, in the `clinical` namespace."""

from django.urls import include, path

from scheduling import clinical_views

app_name = "clinical"

urlpatterns = [
    path("", include("patients.clinical_urls")),
    path("assessments/<int:assessment_id>/propose/", clinical_views.propose_course, name="propose"),
    path("courses/review/", clinical_views.review_queue, name="review"),
    path("courses/results/", clinical_views.results_queue, name="results"),
    path("courses/<int:course_id>/approve/", clinical_views.approve_course, name="approve"),
    path("courses/<int:course_id>/change/", clinical_views.change_course, name="change"),
    path("appointments/<int:appointment_id>/record/", clinical_views.record_session, name="record"),
]
