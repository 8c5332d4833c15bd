"""The waitlist's pages; clinic/urls.py mounts them: reception's under /waitlist/, the queue beside the
other work queues (`queues:waitlist`), the offer link under /p/offer/."""

from django.urls import path

from waitlist import views

staff_urlpatterns = [
    path("patient/<int:patient_id>/", views.join, name="join"),
    path("entry/<int:entry_id>/leave/", views.leave, name="leave"),
]
queue_urlpatterns = [
    path("waitlist/", views.queue, name="waitlist"),
]
patient_urlpatterns = [
    path("<str:token>/", views.offer, name="offer"),
]
