"""The links in patient emails, under /p/: one path per purpose, so a token works only where it was meant to."""

from django.urls import path

from scheduling import patient_views

app_name = "patient_links"

urlpatterns = [
    path("confirm/<str:token>/", patient_views.confirm, name="confirm"),
    path("cancel/<str:token>/", patient_views.cancel, name="cancel"),
    path("prep/<str:token>/", patient_views.prep, name="prep"),
    path("unsubscribe/<str:token>/", patient_views.unsubscribe, name="unsubscribe"),
]
