"""The JSON API under /api/v1/ (namespace `api`): the router over the resource modules."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from api.appointments import AppointmentViewSet
from api.assessments import AssessmentViewSet
from api.availability import availability
from api.catalogue import (
    ConditionViewSet,
    LaserDeviceViewSet,
    PractitionerViewSet,
    RoomViewSet,
    TreatmentAreaViewSet,
)
from api.courses import CourseViewSet
from api.patients import PatientViewSet

router = DefaultRouter()
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("courses", CourseViewSet, basename="course")
router.register("patients", PatientViewSet, basename="patient")
router.register("conditions", ConditionViewSet, basename="condition")
router.register("treatment-areas", TreatmentAreaViewSet, basename="treatment-area")
router.register("practitioners", PractitionerViewSet, basename="practitioner")
router.register("rooms", RoomViewSet, basename="room")
router.register("devices", LaserDeviceViewSet, basename="device")

urlpatterns = [path("availability/", availability, name="availability"), *router.urls]
