"""The links in patient emails, under /p/: one path per purpose, so a token works only where it was meant to."""

from django.urls import path

from outbox import views

app_name = "patient_links"

urlpatterns = [
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("cancel/<str:token>/", views.cancel, name="cancel"),
    path("prep/<str:token>/", views.prep, name="prep"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
