"""The skin check's pages; clinic/urls.py mounts them: the queue beside the other work queues
(`queues:skin`, `queues:skin_handled`), the answer link under /p/skin/."""

from django.urls import path

from aftercare import views

queue_urlpatterns = [
    path("skin/", views.queue, name="skin"),
    path("skin/<int:appointment_id>/seen/", views.handled, name="skin_handled"),
]
patient_urlpatterns = [
    path("<str:token>/", views.answer, name="answer"),
]
