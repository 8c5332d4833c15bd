"""The photo pages, in the `clinical:` namespace beside the session record (clinic/urls.py)."""

from django.urls import path

from photos import views

urlpatterns = [
    path("appointments/<int:appointment_id>/photos/", views.upload, name="photos_upload"),
    path("photos/teaching/", views.teaching, name="teaching_photos"),
    path("photos/<uuid:key>/remove/", views.photo_remove_view, name="photo_remove"),  # before the sizes' pattern
    path("photos/<uuid:key>/<str:size>/", views.photo_file, name="photo_file"),
    path("courses/<int:course_id>/photos/", views.course_photos, name="course_photos"),
]
