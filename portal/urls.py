"""The patient pages, under /me/. Ids in these addresses are looked up among the signed-in
patient's own records only (portal.selectors)."""

from django.urls import path

from . import consent, pages, sun, views, waitlist

app_name = "portal"

urlpatterns = [
    path("", pages.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/<str:token>/", views.sign_in_link, name="sign_in_link"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("visits/<int:appointment_id>/", pages.visit, name="visit"),
    path("visits/<int:appointment_id>/move/", pages.move, name="move"),
    path("visits/<int:appointment_id>/cancel/", pages.cancel, name="cancel"),
    path("visits/<int:appointment_id>/ask-to-cancel/", pages.ask_to_cancel, name="ask_to_cancel"),
    path("courses/<int:course_id>/book/", pages.book_next, name="book_next"),
    path("sun/", sun.sun_exposure, name="sun_exposure"),
    path("waitlist/", waitlist.waitlist, name="waitlist"),
    path("waitlist/<int:entry_id>/leave/", waitlist.waitlist_cancel, name="waitlist_cancel"),
    path("consent/", consent.consent, name="consent"),
    path("consent/photos/withdraw/", consent.photo_consent_withdraw_view, name="photo_consent_withdraw"),
    path("sun/<int:exposure_id>/cancel/", sun.sun_exposure_cancel, name="sun_exposure_cancel"),
]
