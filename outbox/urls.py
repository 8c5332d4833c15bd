"""The links in patient emails, under /p/: one path per purpose, so a token works only where it was meant to."""

from django.urls import path, re_path

from outbox import views

app_name = "patient_links"

urlpatterns = [
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("cancel/<str:token>/", views.cancel, name="cancel"),
    path("prep/<str:token>/", views.prep, name="prep"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # Anything else under /p/ (a link cut short, a purpose we do not have) gets the clinic's page. Only
    # addresses ending in a slash, so a link that lost its last slash is still redirected (APPEND_SLASH).
    re_path(r"^(?P<rest>.+/)$", views.unknown),
]
