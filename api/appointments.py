"""Appointments: a day's list, booking, and the status moves (reschedule, cancel, confirm, check-in,
complete, no-show), each through one scheduling service."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.common import (
    CONFLICT,
    DERMATOLOGISTS_ONLY,
    FIELD_ERRORS,
    STATE_ERROR,
    TEXT_MAX,
    AwareDateTimeField,
    FlagField,
    MatrixViewSet,
    Pages,
    TextField,
    WholeNumberField,
    day_field,
    pk_field,
    query,
    valid,
)
from catalogue.models import LaserDevice, Practitioner, Room, TreatmentArea
from catalogue.permissions import acting_dermatologist
from clinical.models import TreatmentCourse
from patients.models import Patient
from scheduling.availability import day_bounds
from scheduling.models import Appointment, SessionRecord
from scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_no_show,
    appointment_reschedule,
)
from scheduling.services.check_in import QUESTIONS, check_in_flags
from scheduling.services.test_patch import patch_result_record

SUN_ACKNOWLEDGEMENT = (
    "The dermatologist agrees to treat during the patient's planned sun exposure or the 14 days after it "
    "(refused without it, the reason naming the exposure)."
)

# Output


class AppointmentSerializer(serializers.ModelSerializer):
    sequence = serializers.IntegerField(
        source="session_number",
        read_only=True,
        allow_null=True,
        min_value=1,
        help_text="The session's number in its course: its place in time order among the course's sessions "
        "not cancelled or missed, so it moves up when an earlier one is. Null for a visit, and for a session "
        "cancelled or missed.",
    )
    short_prep = serializers.SerializerMethodField(
        help_text="A treatment booked inside the 14-day prep window, with the acknowledgement recorded."
    )
    patch_result = serializers.ChoiceField(
        choices=Appointment.PatchResult.choices,
        allow_blank=True,  # "" until a dermatologist records a patch's result, and on every other visit
        read_only=True,
        help_text="A test patch's result, once a dermatologist recorded it; empty otherwise.",
    )
    sun_exposure = serializers.SerializerMethodField(
        help_text="A treatment kept during the patient's planned sun exposure or the 14 days after it, "
        "with the acknowledgement recorded."
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "kind",
            "course",
            "sequence",
            "start",
            "end",
            "practitioner",
            "room",
            "device",
            "status",
            "hold_expires_at",
            "short_prep",
            "sun_exposure",
            "patch_result",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "hold_expires_at": {
                "help_text": "Until when a consultation booked online is held for its patient to confirm "
                "(status `held`); null otherwise. Past it, the hold holds nothing and is released."
            },
        }

    def get_short_prep(self, appointment) -> bool:
        return appointment.short_prep_acknowledged_at is not None

    def get_sun_exposure(self, appointment) -> bool:
        return appointment.sun_exposure_acknowledged_at is not None


class CheckedInSerializer(AppointmentSerializer):
    flags = serializers.SerializerMethodField(
        help_text="What the re-screen flagged for the dermatologist (kept in the notes); empty when all is clear."
    )

    class Meta(AppointmentSerializer.Meta):
        fields = [*AppointmentSerializer.Meta.fields, "flags"]
        read_only_fields = fields

    def get_flags(self, appointment) -> list[str]:
        return self.context["flags"]


# Input


class AppointmentListQuerySerializer(serializers.Serializer):
    date = day_field(required=False, help_text="A local day; without it, appointments not yet over.")
    practitioner = pk_field(Practitioner.objects.all(), required=False)
    patient = pk_field(Patient.objects.all(), required=False)
    status = serializers.ChoiceField(choices=Appointment.Status.choices, required=False)


class AppointmentBookSerializer(serializers.Serializer):
    patient = pk_field(Patient.objects.all())
    kind = serializers.ChoiceField(choices=Appointment.Kind.choices)
    start = AwareDateTimeField()
    practitioner = pk_field(Practitioner.objects.all())
    room = pk_field(Room.objects.all())
    device = pk_field(LaserDevice.objects.all(), required=False, allow_null=True, help_text="Needed for a treatment.")
    course = pk_field(
        # Not joined to its condition: a booking reads it by id (the laser's check), and the
        # condition's row only for the refusal that names it.
        TreatmentCourse.objects.all(),
        required=False,
        allow_null=True,
        help_text="Needed for a treatment.",
    )
    duration_minutes = WholeNumberField(
        required=False, allow_null=True, help_text="For a visit without a course: 5 to 240, in fives (default 30)."
    )
    acknowledge_short_prep = FlagField(
        default=False, help_text="The patient knows a treatment less than 14 days away leaves less prep time."
    )
    acknowledge_sun_exposure = FlagField(default=False, help_text=SUN_ACKNOWLEDGEMENT)
    notes = TextField(required=False, allow_blank=True, max_length=TEXT_MAX)


class RescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    practitioner = pk_field(Practitioner.objects.all(), required=False)
    room = pk_field(Room.objects.all(), required=False)
    device = pk_field(LaserDevice.objects.all(), required=False)
    acknowledge_short_prep = FlagField(default=False)
    acknowledge_sun_exposure = FlagField(default=False, help_text=SUN_ACKNOWLEDGEMENT)


class CancelSerializer(serializers.Serializer):
    reason = TextField(required=False, allow_blank=True, max_length=200, default="")


# The re-screen asked at the desk, as on the appointment page: a yes/no per question of
# scheduling.services.check_in, not given meaning no (an unticked box), so leaving out `no_sun` flags
# a treatment as the page does.
CheckInSerializer = type(
    "CheckInSerializer",
    (serializers.Serializer,),
    {
        "__module__": __name__,
        "__doc__": "The check-in re-screen's answers and any remarks.",
        **{name: FlagField(default=False, help_text=f"{label}.") for name, label in QUESTIONS.items()},
        "remarks": TextField(required=False, allow_blank=True, max_length=500, default=""),
    },
)


class SessionRecordSerializer(serializers.Serializer):
    """The laser settings of a treatment session, checked against the same bounds the table keeps."""

    wavelength_nm = WholeNumberField(min_value=300, max_value=2000)
    fluence_j_cm2 = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="J/cm², above 0.")
    spot_size_mm = serializers.DecimalField(max_digits=4, decimal_places=1, help_text="Millimetres, above 0.")
    pulses = WholeNumberField(min_value=1, max_value=2_147_483_647)
    skin_reaction = serializers.ChoiceField(choices=SessionRecord.Reaction.choices)
    area = pk_field(TreatmentArea.objects.all(), required=False, allow_null=True)
    outcome_score = WholeNumberField(
        required=False,
        allow_null=True,
        help_text="The result so far on the condition's scale (its `outcome_scale`): estimated clearance 0-100 "
        "(percent) or global aesthetic improvement 0-4. Checked by the service against the course's condition.",
    )
    notes = TextField(required=False, allow_blank=True, max_length=TEXT_MAX)

    def validate_fluence_j_cm2(self, value):
        if value <= 0:
            raise serializers.ValidationError("The fluence is above 0.")
        return value

    def validate_spot_size_mm(self, value):
        if value <= 0:
            raise serializers.ValidationError("The spot size is above 0.")
        return value


class PatchResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=Appointment.PatchResult.choices)
    notes = TextField(required=False, allow_blank=True, max_length=TEXT_MAX)


APPOINTMENT_MOVED = {200: AppointmentSerializer, 400: FIELD_ERRORS, 409: STATE_ERROR}


@extend_schema(tags=["appointments"])
class AppointmentViewSet(MatrixViewSet):
    abilities = {
        **dict.fromkeys(("create", "reschedule", "cancel", "confirm", "check_in", "no_show"), "book"),
        "complete": "treat",
        "patch_result": "treat",
    }
    dermatologists = ("patch_result",)  # written in a dermatologist's name, as on the pages
    queryset = Appointment.objects.with_session_numbers()
    serializer_class = AppointmentSerializer
    pagination_class = Pages

    @extend_schema(parameters=[AppointmentListQuerySerializer], responses={200: AppointmentSerializer(many=True)})
    def list(self, request):
        """The appointments of one local day, or (without `date`) those not over yet, in time order."""
        wanted = query(AppointmentListQuerySerializer, request)
        appointments = self.get_queryset().order_by("start", "pk")
        if "date" in wanted:
            first, last = day_bounds(wanted["date"], timezone.get_default_timezone())
            appointments = appointments.filter(start__gte=first, start__lt=last)
        else:
            appointments = appointments.filter(end__gt=timezone.now())
        for field in ("practitioner", "patient", "status"):
            if field in wanted:
                appointments = appointments.filter(**{field: wanted[field]})
        page = self.paginate_queryset(appointments)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=AppointmentBookSerializer,
        responses={201: AppointmentSerializer, 400: FIELD_ERRORS, 409: CONFLICT},
    )
    def create(self, request):
        """Book a consultation, review or treatment session."""
        data = valid(AppointmentBookSerializer, request.data)
        appointment = appointment_book(**data, booked_by=request.user)
        return Response(self.get_serializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RescheduleSerializer,
        responses={200: AppointmentSerializer, 400: FIELD_ERRORS, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move a booked or confirmed appointment, keeping its length; it needs confirming again."""
        appointment = self.get_object()
        data = valid(RescheduleSerializer, request.data)
        appointment = appointment_reschedule(appointment=appointment, by=request.user, **data)
        return Response(self.get_serializer(appointment).data)

    @extend_schema(request=CancelSerializer, responses=APPOINTMENT_MOVED)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        appointment = self.get_object()
        data = valid(CancelSerializer, request.data)
        appointment = appointment_cancel(appointment=appointment, reason=data["reason"])
        return Response(self.get_serializer(appointment).data)

    @extend_schema(request=None, responses=APPOINTMENT_MOVED)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        appointment = appointment_confirm(appointment=self.get_object())
        return Response(self.get_serializer(appointment).data)

    @extend_schema(request=CheckInSerializer, responses={**APPOINTMENT_MOVED, 200: CheckedInSerializer})
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        """Check the patient in, on the day of the appointment only, with the re-screen's answers: for
        a treatment, sun exposure not ruled out or a new contraindication flags the session for the
        dermatologist, exactly as the page's check-in does."""
        appointment = self.get_object()
        answers = dict(valid(CheckInSerializer, request.data))
        remarks = answers.pop("remarks")
        flags = check_in_flags(kind=appointment.kind, answers=answers)
        appointment = appointment_check_in(appointment=appointment, flags=flags, remarks=remarks, by=request.user)
        context = self.get_serializer_context() | {"flags": flags}
        return Response(CheckedInSerializer(appointment, context=context).data)

    @extend_schema(request=SessionRecordSerializer, responses=APPOINTMENT_MOVED)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete a checked-in appointment; a treatment's body carries its session record."""
        appointment = self.get_object()
        record = None
        if request.data:
            record = dict(valid(SessionRecordSerializer, request.data))
            practitioner = getattr(request.user, "practitioner", None)
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

    @extend_schema(request=PatchResultSerializer, responses={**APPOINTMENT_MOVED, 403: DERMATOLOGISTS_ONLY})
    @action(detail=True, methods=["post"], url_path="patch-result")
    def patch_result(self, request, pk=None):
        """A dermatologist records a test patch's result once the patch has been done (or changes it);
        the course's first session can be booked once it is no reaction or mild."""
        data = valid(PatchResultSerializer, request.data)
        appointment = patch_result_record(appointment=self.get_object(), by=acting_dermatologist(request.user), **data)
        return Response(self.get_serializer(appointment).data)
