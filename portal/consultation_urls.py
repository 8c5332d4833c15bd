"""The public consultation booking pages, mounted at /book/ (namespace `consultation`)."""

from django.urls import path

from portal import consultation

app_name = "consultation"

urlpatterns = [
    path("", consultation.book, name="book"),
    path("held/", consultation.held, name="held"),
    path("confirm/<str:token>/", consultation.confirm, name="confirm"),
]
