"""Free slots: a practitioner, a room and (for a treatment) a suitable laser at once."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api.common import FIELD_ERRORS, WholeNumberField, allows, day_field, pk_field, query
from catalogue.models import LaserDevice, Practitioner, Room
from clinical.models import TreatmentCourse
from patients.models import Patient
from scheduling.models import Appointment
from scheduling.services import MOVABLE_STATUSES, find_move_slots, find_slots


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    practitioner = serializers.IntegerField(source="practitioner.pk")
    room = serializers.IntegerField(source="room.pk")
    device = serializers.IntegerField(source="device.pk", allow_null=True)
    short_prep = serializers.BooleanField(help_text="A treatment less than 14 days away: booking it needs an ack.")

    def to_representation(self, slot):
        return slot_answer(slot, timezone.get_current_timezone())


def slot_answer(slot, tz) -> dict:
    """What DRF's generic path gives for a slot (tests/test_api_token.py compares them): its times
    in ISO 8601 on the current time zone, as serializers.DateTimeField writes them, without copying
    and binding the answer's serializers for every search (a search answers up to 100 slots)."""
    return {
        "start": _iso_8601(slot.start, tz),
        "end": _iso_8601(slot.end, tz),
        "practitioner": slot.practitioner.pk,
        "room": slot.room.pk,
        "device": slot.device.pk if slot.device is not None else None,
        "short_prep": slot.short_prep,
    }


def _iso_8601(moment, tz) -> str:
    text = moment.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class AvailabilitySerializer(serializers.Serializer):
    slots = SlotSerializer(many=True)


class AvailabilityQuerySerializer(serializers.Serializer):
    start = day_field(source="start_date", help_text="First local day to search.")
    days = WholeNumberField(min_value=1, max_value=366, default=7, help_text="Number of days to search.")
    duration = WholeNumberField(
        source="length", required=False, min_value=5, max_value=240, help_text="Minutes; or give a course."
    )
    course = pk_field(
        # The search reads the course's patient and condition by id only, so neither is joined in.
        TreatmentCourse.objects.all(),
        required=False,
        help_text="Search for the next session of this course: its areas give the length.",
    )
    kind = serializers.ChoiceField(choices=Appointment.Kind.choices, default=Appointment.Kind.TREATMENT)
    practitioner = pk_field(Practitioner.objects.all(), required=False)
    room = pk_field(Room.objects.all(), required=False)
    device = pk_field(LaserDevice.objects.all(), required=False)
    patient = pk_field(Patient.objects.all(), required=False)
    limit = WholeNumberField(min_value=1, max_value=100, default=10)
    appointment = pk_field(
        Appointment.objects.select_related("patient", "course"),
        required=False,
        help_text="Free times to move this appointment to: it gives the length, kind and patient; its own "
        "time is left out and a course session stays inside its course's intervals.",
    )

    def validate_duration(self, value):
        # Bookings without a course take whole fives of minutes; offer only what can be booked.
        if value % 5:
            raise serializers.ValidationError("Give the duration in fives of minutes.")
        return value

    def validate_appointment(self, appointment):
        if appointment.status not in MOVABLE_STATUSES:
            raise serializers.ValidationError(
                f"A {appointment.get_status_display().lower()} appointment cannot be moved."
            )
        return appointment

    def validate(self, attrs):
        if "appointment" in attrs:
            given = [name for name in ("duration", "course", "kind", "patient") if name in self.initial_data]
            if given:
                message = f"The appointment gives the length, kind and patient; leave out {', '.join(given)}."
                raise serializers.ValidationError({"appointment": message})
            return attrs
        if "length" in attrs and "course" in attrs:  # a test patch's length is TEST_PATCH_MINUTES too
            raise serializers.ValidationError({"duration": "Give a duration or a course, not both."})
        if attrs["kind"] == Appointment.Kind.TEST_PATCH and "course" not in attrs:
            raise serializers.ValidationError({"course": "A test patch is searched for on a course (its laser)."})
        if attrs["kind"] == Appointment.Kind.TREATMENT and "length" not in attrs and "course" not in attrs:
            raise serializers.ValidationError({"duration": "Give a course or a duration to search for treatments."})
        if "length" in attrs:
            attrs["length"] = timedelta(minutes=attrs["length"])
        return attrs


@extend_schema(
    tags=["availability"],
    parameters=[AvailabilityQuerySerializer],
    responses={200: AvailabilitySerializer, 400: FIELD_ERRORS},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated, allows("view_schedule")])
def availability(request):
    """Free starts in time order: a practitioner, a room and (for a treatment) a suitable laser.
    With `appointment`, the times it can move to, as the reschedule page offers them."""
    search = query(AvailabilityQuerySerializer, request)
    if "appointment" in search:
        search.pop("kind")
        slots = find_move_slots(**search, per_day=search["limit"])
    else:
        slots = find_slots(**search)
    tz = timezone.get_current_timezone()
    return Response({"slots": [slot_answer(slot, tz) for slot in slots]})  # AvailabilitySerializer's
