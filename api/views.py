"""The JSON API under /api/v1/ (Django REST framework, OpenAPI by drf-spectacular).

Each view checks its input with a serializer from `api.serializers`, calls one scheduling
service and renders the result. Service refusals become answers in one place, `exception_handler`
(set as REST_FRAMEWORK["EXCEPTION_HANDLER"]): a clash or a wrong state is 409, any other refusal is
400 with a message per field.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from api import serializers as s
from catalogue.models import Condition, LaserDevice, Practitioner, Room, TreatmentArea
from clinic.roles import can
from clinical.models import TreatmentCourse
from clinical.services.courses import course_approve, course_propose
from patients import services as patient_services
from patients.models import Patient
from scheduling.availability import day_bounds
from scheduling.models import Appointment
from scheduling.services import (
    BookingConflict,
    IllegalTransition,
    PlanError,
    SchedulingError,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_no_show,
    appointment_reschedule,
    course_book_plan,
    course_plan,
    find_slots,
)

FIELD_ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description="Refused: a list of messages per input field.")
STATE_ERROR = OpenApiResponse(s.ErrorSerializer, description="Not possible in the current state.")
CONFLICT = OpenApiResponse(
    s.ConflictSerializer,
    description="The time is taken (each busy resource and its holder), or the current state does not allow it.",
)


def exception_handler(exc, context):
    """Turn a service refusal into its answer; anything else goes to DRF's own handler."""
    if isinstance(exc, BookingConflict):
        set_rollback()
        conflicts = [{"resource": c.resource, "appointment": c.appointment_id} for c in exc.conflicts]
        return Response({"detail": exc.message, "conflicts": conflicts}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IllegalTransition | PlanError):
        # Not a mistake in the request but the state of the appointment, course or calendar.
        set_rollback()
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, SchedulingError):
        set_rollback()
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):  # a rule of patients.services
        set_rollback()
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _query(serializer_class, request) -> dict:
    """The query string, checked. It is read as plain values, not as an HTML form would be: there an
    empty value means "not given", so `?status=` would silently list every status."""
    return _valid(serializer_class, request.query_params.dict())


def _practitioner(user):
    """The user's practitioner record, or None for staff who are not bookable (e.g. reception)."""
    return getattr(user, "practitioner", None)


class IsDermatologist(BasePermission):
    message = "Only a dermatologist can do this."

    def has_permission(self, request, view):
        practitioner = _practitioner(request.user)
        return bool(practitioner and practitioner.active and practitioner.role == Practitioner.Role.DERMATOLOGIST)


def allows(ability: str) -> type[BasePermission]:
    """A DRF permission for one ability of the permission matrix (clinic.roles.ABILITIES)."""

    class Allows(BasePermission):
        message = "Your role cannot do this."

        def has_permission(self, request, view):
            return can(request.user, ability)

    return Allows


class MatrixViewSet(viewsets.GenericViewSet):
    """A viewset whose actions each need an ability of the permission matrix: `abilities` maps an
    action to its ability, `default` covers the rest. Login comes first, so strangers get 401."""

    abilities: dict[str, str] = {}
    default: str = "view_schedule"

    def get_permissions(self):
        ability = self.abilities.get(self.action, self.default)
        return [*super().get_permissions(), allows(ability)()]


class Pages(PageNumberPagination):
    """Pages of 50, or `page_size` up to 200. A page number or size that is not a whole number in range
    is refused (400) rather than replaced by the default; a page past the end is 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = s.PageQuerySerializer.MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self.query = _query(s.PageQuerySerializer, request)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        return self.query.get("page_size", self.page_size)

    def get_page_number(self, request, paginator):
        return self.query.get("page", 1)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


@extend_schema(
    tags=["availability"],
    parameters=[s.AvailabilityQuerySerializer],
    responses={200: s.AvailabilitySerializer, 400: FIELD_ERRORS},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated, allows("view_schedule")])
def availability(request):
    """Free starts in time order: a practitioner, a room and (for a treatment) a suitable laser."""
    slots = find_slots(**_query(s.AvailabilityQuerySerializer, request))
    return Response(s.AvailabilitySerializer({"slots": slots}).data)


APPOINTMENT_MOVED = {200: s.AppointmentSerializer, 400: FIELD_ERRORS, 409: STATE_ERROR}


@extend_schema(tags=["appointments"])
class AppointmentViewSet(MatrixViewSet):
    abilities = {
        **dict.fromkeys(("create", "reschedule", "cancel", "confirm", "check_in", "no_show"), "book"),
        "complete": "treat",
    }
    queryset = Appointment.objects.with_session_numbers()
    serializer_class = s.AppointmentSerializer
    pagination_class = Pages

    @extend_schema(parameters=[s.AppointmentListQuerySerializer], responses={200: s.AppointmentSerializer(many=True)})
    def list(self, request):
        """The appointments of one local day, or (without `date`) those not over yet, in time order."""
        query = _query(s.AppointmentListQuerySerializer, request)
        appointments = self.get_queryset().order_by("start", "pk")
        if "date" in query:
            first, last = day_bounds(query["date"], timezone.get_default_timezone())
            appointments = appointments.filter(start__gte=first, start__lt=last)
        else:
            appointments = appointments.filter(end__gt=timezone.now())
        for field in ("practitioner", "patient", "status"):
            if field in query:
                appointments = appointments.filter(**{field: query[field]})
        page = self.paginate_queryset(appointments)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=s.AppointmentBookSerializer,
        responses={201: s.AppointmentSerializer, 400: FIELD_ERRORS, 409: CONFLICT},
    )
    def create(self, request):
        """Book a consultation, review or treatment session."""
        data = _valid(s.AppointmentBookSerializer, request.data)
        appointment = appointment_book(**data, booked_by=request.user)
        return Response(self.get_serializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.RescheduleSerializer,
        responses={200: s.AppointmentSerializer, 400: FIELD_ERRORS, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move a booked or confirmed appointment, keeping its length; it needs confirming again."""
        appointment = self.get_object()
        data = _valid(s.RescheduleSerializer, request.data)
        appointment = appointment_reschedule(appointment=appointment, by=request.user, **data)
        return Response(self.get_serializer(appointment).data)

    @extend_schema(request=s.CancelSerializer, responses=APPOINTMENT_MOVED)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        appointment = self.get_object()
        data = _valid(s.CancelSerializer, request.data)
        appointment = appointment_cancel(appointment=appointment, reason=data["reason"])
        return Response(self.get_serializer(appointment).data)

    @extend_schema(request=None, responses=APPOINTMENT_MOVED)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        appointment = appointment_confirm(appointment=self.get_object())
        return Response(self.get_serializer(appointment).data)

    @extend_schema(request=None, responses=APPOINTMENT_MOVED)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        """Check the patient in; on the day of the appointment only."""
        appointment = appointment_check_in(appointment=self.get_object())
        return Response(self.get_serializer(appointment).data)

    @extend_schema(request=s.SessionRecordSerializer, responses=APPOINTMENT_MOVED)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete a checked-in appointment; a treatment's body carries its session record."""
        appointment = self.get_object()
        record = None
        if request.data:
            record = dict(_valid(s.SessionRecordSerializer, request.data))
            practitioner = _practitioner(request.user)
            if practitioner is not None:  # otherwise the service records the appointment's practitioner
                record["recorded_by"] = practitioner
        appointment = appointment_complete(appointment=appointment, record=record)
        return Response(self.get_serializer(appointment).data)

    @extend_schema(request=None, responses=APPOINTMENT_MOVED)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        """Record that the patient did not come; possible once the appointment has started."""
        appointment = appointment_no_show(appointment=self.get_object())
        return Response(self.get_serializer(appointment).data)


@extend_schema(tags=["courses"])
class CourseViewSet(MatrixViewSet):
    abilities = {"create": "treat", "approve": "treat", "book_plan": "book"}
    queryset = TreatmentCourse.objects.select_related("patient", "condition").prefetch_related("areas")
    serializer_class = s.CourseSerializer

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=s.CourseProposeSerializer, responses={201: s.CourseSerializer, 400: FIELD_ERRORS})
    def create(self, request):
        """Propose a course; sessions and intervals not given come from the condition's protocol."""
        data = _valid(s.CourseProposeSerializer, request.data)
        course = course_propose(**data, proposed_by=_practitioner(request.user))
        return Response(self.get_serializer(course).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.CourseSerializer, 403: s.ErrorSerializer, 409: STATE_ERROR})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsDermatologist])
    def approve(self, request, pk=None):
        """A dermatologist approves a proposed course; only then can its sessions be booked."""
        course = course_approve(course=self.get_object(), by=request.user.practitioner)
        return Response(self.get_serializer(course).data)

    @extend_schema(
        parameters=[s.PlanQuerySerializer],
        responses={200: s.PlanSerializer, 400: FIELD_ERRORS, 409: STATE_ERROR},
    )
    @action(detail=True, methods=["get"])
    def plan(self, request, pk=None):
        """Proposed times for the sessions not yet booked (with `reflow`, for booked ones too)."""
        course = self.get_object()
        sessions = course_plan(course=course, **_query(s.PlanQuerySerializer, request))
        return Response(s.PlanSerializer({"sessions": sessions}).data)

    @extend_schema(
        request=s.BookPlanSerializer,
        responses={201: s.BookedPlanSerializer, 400: FIELD_ERRORS, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="book-plan")
    def book_plan(self, request, pk=None):
        """Book (or move) every session of a plan, or none of them."""
        course = self.get_object()
        data = _valid(s.BookPlanSerializer, request.data)
        appointments = course_book_plan(course=course, booked_by=request.user, **data)
        return Response(s.BookedPlanSerializer({"appointments": appointments}).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["patients"])
class PatientViewSet(mixins.RetrieveModelMixin, MatrixViewSet):
    abilities = {"create": "edit_patients", "partial_update": "edit_patients"}
    default = "view_patients"
    queryset = Patient.objects.all()
    serializer_class = s.PatientSerializer
    pagination_class = Pages

    @extend_schema(request=s.PatientSerializer, responses={201: s.PatientSerializer, 400: FIELD_ERRORS})
    def create(self, request):
        """Register a patient; the same rules as the staff pages (patients.services)."""
        patient = patient_services.patient_create(**_valid(s.PatientSerializer, request.data))
        return Response(self.get_serializer(patient).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[s.PatientSearchSerializer])
    def list(self, request):
        """Patients by name; `q` matches every word against name, email or phone."""
        query = _query(s.PatientSearchSerializer, request)
        patients = self.get_queryset()
        for word in query.get("q", "").split():
            patients = patients.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
                | Q(phone__icontains=word)
            )
        page = self.paginate_queryset(patients)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=s.PatientSerializer, responses={200: s.PatientSerializer, 400: FIELD_ERRORS})
    def partial_update(self, request, pk=None):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient = patient_services.patient_update(patient=serializer.instance, **serializer.validated_data)
        return Response(self.get_serializer(patient).data)


class _Catalogue(mixins.ListModelMixin, mixins.RetrieveModelMixin, MatrixViewSet):
    """Short reference lists, returned whole."""

    pagination_class = None


@extend_schema(tags=["catalogue"])
class ConditionViewSet(_Catalogue):
    queryset = Condition.objects.all()
    serializer_class = s.ConditionSerializer


@extend_schema(tags=["catalogue"])
class TreatmentAreaViewSet(_Catalogue):
    queryset = TreatmentArea.objects.all()
    serializer_class = s.TreatmentAreaSerializer


@extend_schema(tags=["catalogue"])
class PractitionerViewSet(_Catalogue):
    queryset = Practitioner.objects.select_related("user")
    serializer_class = s.PractitionerSerializer


@extend_schema(tags=["catalogue"])
class RoomViewSet(_Catalogue):
    queryset = Room.objects.all()
    serializer_class = s.RoomSerializer


@extend_schema(tags=["catalogue"])
class LaserDeviceViewSet(_Catalogue):
    queryset = LaserDevice.objects.prefetch_related("conditions")
    serializer_class = s.LaserDeviceSerializer
