from django.urls import path

from patients import views

urlpatterns = [
    path("search/", views.search, name="search"),
    path("new/", views.create, name="create"),
    path("<int:patient_id>/", views.detail, name="detail"),
    path("<int:patient_id>/edit/", views.edit, name="edit"),
    path("<int:patient_id>/export/", views.export, name="export"),
    path("<int:patient_id>/erase/", views.erase, name="erase"),
]
