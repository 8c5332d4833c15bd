"""The dermatologist's pages under /clinical/ (namespace `clinical`, composed in clinic/urls.py)."""

from django.urls import path

from clinical import views

urlpatterns = [
    path("patients/<int:patient_id>/assess/", views.assess, name="assess"),
    path("assessments/<int:assessment_id>/propose/", views.propose_course, name="propose"),
    path("courses/review/", views.review_queue, name="review"),
    path("courses/<int:course_id>/approve/", views.approve_course, name="approve"),
    path("courses/<int:course_id>/change/", views.change_course, name="change"),
]
