"""Serializers for the JSON API: parsing and checking input, shaping output.

Input serializers only check that a request is well formed (types, ids that exist, sane ranges) and
name their fields after the service arguments, so that a view can pass `validated_data` straight
on. Whether a booking or a plan is allowed is the services' decision, not theirs.
"""

from datetime import UTC, date, datetime, timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from rest_framework import serializers

from catalogue.models import Condition, LaserDevice, Practitioner, Room, TreatmentArea
from clinic.roles import can
from clinical.models import Assessment, TreatmentCourse
from clinical.services.courses import MAX_SESSIONS
from patients.models import Patient
from scheduling.models import Appointment, SessionRecord

# Dates outside these years are refused as input: they are typing mistakes, and date arithmetic
# near the ends of the calendar overflows. How far ahead a booking may go is not decided here.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
TEXT_MAX = 5000


def day_field(**kwargs) -> serializers.DateField:
    """A calendar date (YYYY-MM-DD) within FIRST_DAY .. LAST_DAY."""
    validators = [MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)]
    return serializers.DateField(validators=validators, **kwargs)


class TypedInput:
    """Input of the JSON type the schema names. DRF also reads form data, where every value is text, so
    it converts freely: the number 0 would be stored as the text "0", or read as false. Text stays
    accepted everywhere, so forms work as before; a JSON number where text or a flag is due is refused."""

    input_types: tuple[type, ...] = (str,)

    def to_internal_value(self, data):
        if not isinstance(data, self.input_types):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(TypedInput, serializers.CharField):
    pass


class EmailTextField(TypedInput, serializers.EmailField):
    pass


class FlagField(TypedInput, serializers.BooleanField):
    input_types = (bool, str)


def pk_field(queryset, **kwargs) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=queryset, **kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """An instant in ISO 8601 with its UTC offset. A bare wall-clock time is refused, not guessed."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2030-06-03T09:00:00+01:00.",
        "range": f"Give a time between {FIRST_DAY.year} and {LAST_DAY.year}.",
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        first = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
        last = datetime.combine(LAST_DAY, datetime.max.time(), tzinfo=UTC)
        if not first <= moment <= last:
            self.fail("range")
        return moment


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
            "short_prep",
        ]
        read_only_fields = fields

    def get_short_prep(self, appointment) -> bool:
        return appointment.short_prep_acknowledged_at is not None


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    practitioner = serializers.IntegerField(source="practitioner.pk")
    room = serializers.IntegerField(source="room.pk")
    device = serializers.IntegerField(source="device.pk", allow_null=True)
    short_prep = serializers.BooleanField(help_text="A treatment less than 14 days away: booking it needs an ack.")


class AvailabilitySerializer(serializers.Serializer):
    slots = SlotSerializer(many=True)


class PlannedSessionSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    start = serializers.DateTimeField(source="slot.start")
    end = serializers.DateTimeField(source="slot.end")
    practitioner = serializers.IntegerField(source="slot.practitioner.pk")
    room = serializers.IntegerField(source="slot.room.pk")
    device = serializers.IntegerField(source="slot.device.pk", allow_null=True)
    short_prep = serializers.BooleanField(source="slot.short_prep")
    appointment = serializers.IntegerField(
        source="appointment.pk", allow_null=True, help_text="The booked session this entry moves, if any."
    )


class PlanSerializer(serializers.Serializer):
    sessions = PlannedSessionSerializer(many=True)


class BookedPlanSerializer(serializers.Serializer):
    appointments = AppointmentSerializer(many=True)


class CourseSerializer(serializers.ModelSerializer):
    notes = serializers.SerializerMethodField(
        help_text="The dermatologist's notes; null for a role that may not see clinical records."
    )

    class Meta:
        model = TreatmentCourse
        fields = [
            "id",
            "patient",
            "condition",
            "areas",
            "planned_sessions",
            "min_interval_days",
            "max_interval_days",
            "status",
            "proposed_by",
            "approved_by",
            "approved_at",
            "assessment",
            "notes",
            "created_at",
        ]
        read_only_fields = fields

    def get_notes(self, course) -> str | None:
        request = self.context.get("request")
        return course.notes if request is not None and can(request.user, "view_clinical") else None


class PatientSerializer(serializers.ModelSerializer):
    """A patient's details; the rules (phone, birth date, ...) are patients.services', which the
    views call, so the API accepts exactly what the staff pages accept."""

    serializer_field_mapping = serializers.ModelSerializer.serializer_field_mapping | {
        models.CharField: TextField,
        models.TextField: TextField,
        models.EmailField: EmailTextField,
        models.BooleanField: FlagField,
    }
    date_of_birth = day_field()

    class Meta:
        model = Patient
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "skin_type",
            "email_consent",
            "notes",
        ]
        extra_kwargs = {"notes": {"max_length": TEXT_MAX}}


class ConditionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Condition
        fields = [
            "id",
            "name",
            "slug",
            "default_sessions",
            "min_sessions",
            "max_sessions",
            "min_interval_days",
            "max_interval_days",
            "active",
        ]


class TreatmentAreaSerializer(serializers.ModelSerializer):
    minutes = serializers.IntegerField(read_only=True, help_text="Session time for this area.")

    class Meta:
        model = TreatmentArea
        fields = ["id", "name", "size", "minutes"]


class PractitionerSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Practitioner
        fields = ["id", "name", "role", "active"]

    def get_name(self, practitioner) -> str:
        return str(practitioner)


class RoomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "name", "turnover_minutes", "active"]


class LaserDeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = LaserDevice
        fields = ["id", "name", "model", "wavelengths_nm", "conditions", "turnover_minutes", "active"]


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ConflictItemSerializer(serializers.Serializer):
    resource = serializers.ChoiceField(choices=["practitioner", "room", "device", "patient"])
    appointment = serializers.IntegerField(help_text="The appointment holding the resource.")


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    conflicts = ConflictItemSerializer(
        many=True, required=False, help_text="The busy resources, when the time is taken (not for a state refusal)."
    )


# Input


class AvailabilityQuerySerializer(serializers.Serializer):
    start = day_field(source="start_date", help_text="First local day to search.")
    days = serializers.IntegerField(min_value=1, max_value=366, default=7, help_text="Number of days to search.")
    duration = serializers.IntegerField(
        source="length", required=False, min_value=5, max_value=240, help_text="Minutes; or give a course."
    )
    course = pk_field(
        TreatmentCourse.objects.select_related("patient", "condition"),
        required=False,
        help_text="Search for the next session of this course: its areas give the length.",
    )
    kind = serializers.ChoiceField(choices=Appointment.Kind.choices, default=Appointment.Kind.TREATMENT)
    practitioner = pk_field(Practitioner.objects.all(), required=False)
    room = pk_field(Room.objects.all(), required=False)
    device = pk_field(LaserDevice.objects.all(), required=False)
    patient = pk_field(Patient.objects.all(), required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)

    def validate_duration(self, value):
        # Bookings without a course take whole fives of minutes; offer only what can be booked.
        if value % 5:
            raise serializers.ValidationError("Give the duration in fives of minutes.")
        return value

    def validate(self, attrs):
        if "length" in attrs and "course" in attrs:
            raise serializers.ValidationError({"duration": "Give a duration or a course, not both."})
        if attrs["kind"] == Appointment.Kind.TREATMENT and "length" not in attrs and "course" not in attrs:
            raise serializers.ValidationError({"duration": "Give a course or a duration to search for treatments."})
        if "length" in attrs:
            attrs["length"] = timedelta(minutes=attrs["length"])
        return attrs


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
        TreatmentCourse.objects.select_related("condition"),
        required=False,
        allow_null=True,
        help_text="Needed for a treatment.",
    )
    duration_minutes = serializers.IntegerField(
        required=False, allow_null=True, help_text="For a visit without a course: 5 to 240, in fives (default 30)."
    )
    acknowledge_short_prep = FlagField(
        default=False, help_text="The patient knows a treatment less than 14 days away leaves less prep time."
    )
    notes = TextField(required=False, allow_blank=True, max_length=TEXT_MAX)


class RescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    practitioner = pk_field(Practitioner.objects.all(), required=False)
    room = pk_field(Room.objects.all(), required=False)
    device = pk_field(LaserDevice.objects.all(), required=False)
    acknowledge_short_prep = FlagField(default=False)


class CancelSerializer(serializers.Serializer):
    reason = TextField(required=False, allow_blank=True, max_length=200, default="")


class SessionRecordSerializer(serializers.Serializer):
    """The laser settings of a treatment session, checked against the same bounds the table keeps."""

    wavelength_nm = serializers.IntegerField(min_value=300, max_value=2000)
    fluence_j_cm2 = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="J/cm², above 0.")
    spot_size_mm = serializers.DecimalField(max_digits=4, decimal_places=1, help_text="Millimetres, above 0.")
    pulses = serializers.IntegerField(min_value=1, max_value=2_147_483_647)
    skin_reaction = serializers.ChoiceField(choices=SessionRecord.Reaction.choices)
    area = pk_field(TreatmentArea.objects.all(), required=False, allow_null=True)
    notes = TextField(required=False, allow_blank=True, max_length=TEXT_MAX)

    def validate_fluence_j_cm2(self, value):
        if value <= 0:
            raise serializers.ValidationError("The fluence is above 0.")
        return value

    def validate_spot_size_mm(self, value):
        if value <= 0:
            raise serializers.ValidationError("The spot size is above 0.")
        return value


class CourseProposeSerializer(serializers.Serializer):
    patient = pk_field(Patient.objects.all())
    condition = pk_field(Condition.objects.all())
    areas = pk_field(TreatmentArea.objects.all(), many=True)
    planned_sessions = serializers.IntegerField(required=False, help_text="Default: the condition's.")
    min_interval_days = serializers.IntegerField(required=False, help_text="Default: the condition's.")
    max_interval_days = serializers.IntegerField(required=False, help_text="Default: the condition's.")
    assessment = pk_field(Assessment.objects.all(), required=False, allow_null=True)
    notes = TextField(required=False, allow_blank=True, max_length=TEXT_MAX)


class PlanQuerySerializer(serializers.Serializer):
    start = day_field(source="start_date", required=False, help_text="No session before this local day.")
    reflow = FlagField(default=False, help_text="Propose new times for booked sessions too.")


class PlanEntrySerializer(serializers.Serializer):
    start = AwareDateTimeField()
    practitioner = pk_field(Practitioner.objects.all())
    room = pk_field(Room.objects.all())
    device = pk_field(LaserDevice.objects.all())
    appointment = pk_field(
        Appointment.objects.all(), required=False, allow_null=True, help_text="A booked session to move here."
    )


class BookPlanSerializer(serializers.Serializer):
    sessions = PlanEntrySerializer(many=True, max_length=MAX_SESSIONS)
    acknowledge_short_prep = FlagField(default=False)


class PageQuerySerializer(serializers.Serializer):
    MAX_PAGE_SIZE = 200

    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


class PatientSearchSerializer(serializers.Serializer):
    q = TextField(required=False, allow_blank=True, max_length=100, help_text="Name, email or phone.")
