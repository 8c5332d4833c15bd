from django.urls import path

from patients import views

urlpatterns = [
    path("new/", views.create, name="create"),
    path("<int:patient_id>/edit/", views.edit, name="edit"),
]
