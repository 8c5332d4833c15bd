"""Treatment courses: propose one on an assessment, read it, approve it, plan and book its sessions."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.appointments import AppointmentSerializer
from api.common import (
    CONFLICT,
    DERMATOLOGISTS_ONLY,
    FIELD_ERRORS,
    STATE_ERROR,
    TEXT_MAX,
    AwareDateTimeField,
    FlagField,
    MatrixViewSet,
    TextField,
    WholeNumberField,
    day_field,
    pk_field,
    query,
    valid,
)
from catalogue.models import Condition, LaserDevice, Practitioner, Room, TreatmentArea
from catalogue.permissions import acting_dermatologist
from clinic.roles import can
from clinical.models import Assessment, CourseDecision, TreatmentCourse
from clinical.services.assessments import assessment_for_proposal
from clinical.services.courses import MAX_SESSIONS, course_approve, course_propose, plan_errors, protocol_plan
from clinical.services.outcome import REASON_MAX, course_decide
from patients.models import Patient
from scheduling.models import Appointment
from scheduling.services import course_book_plan, course_plan

PROPOSAL_REFUSED = OpenApiResponse(
    FIELD_ERRORS.response,
    description=(
        "Refused: a list of messages per input field. On `assessment`: the patient has no assessment, the "
        "assessment found them not a candidate or found contraindications, or it is of another patient; on "
        "`condition`: the assessment did not find it; a plan out of bounds on its field."
    ),
)
# Output


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


# Input


class CourseProposeSerializer(serializers.Serializer):
    patient = pk_field(Patient.objects.all())
    condition = pk_field(Condition.objects.all())
    areas = pk_field(TreatmentArea.objects.all(), many=True)
    planned_sessions = WholeNumberField(required=False, help_text="Default: the condition's.")
    min_interval_days = WholeNumberField(required=False, help_text="Default: the condition's.")
    max_interval_days = WholeNumberField(required=False, help_text="Default: the condition's.")
    assessment = pk_field(
        Assessment.objects.all(),
        required=False,
        allow_null=True,
        help_text="The assessment the course rests on; without it, the patient's latest.",
    )
    notes = TextField(required=False, allow_blank=True, max_length=TEXT_MAX)

    PLAN = ("planned_sessions", "min_interval_days", "max_interval_days")

    def validate(self, attrs):
        # The bounds of clinical.services.courses, on the plan the service would make of this one.
        plan = protocol_plan(attrs["condition"], **{name: attrs.get(name) for name in self.PLAN})
        errors = plan_errors(**plan)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


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


class CourseReviewSerializer(serializers.Serializer):
    outcome_score = WholeNumberField(
        help_text="The course's result on its condition's scale (`outcome_scale`): estimated clearance 0-100 "
        "(percent) or global aesthetic improvement 0-4."
    )
    decision = serializers.ChoiceField(choices=CourseDecision.Decision.choices)
    added_sessions = WholeNumberField(
        required=False, allow_null=True, help_text="With `add_sessions`: how many, up to the condition's maximum."
    )
    reason = TextField(required=False, allow_blank=True, max_length=REASON_MAX, help_text="Needed to stop.")


class CourseDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CourseDecision
        fields = ["id", "course", "sessions", "outcome_score", "decision", "added_sessions", "reason",
                  "decided_by", "decided_at"]  # fmt: skip
        read_only_fields = fields


class ReviewedCourseSerializer(serializers.Serializer):
    review = CourseDecisionSerializer()
    course = CourseSerializer()


@extend_schema(tags=["courses"])
class CourseViewSet(MatrixViewSet):
    abilities = {"create": "treat", "approve": "treat", "book_plan": "book", "review": "treat"}
    dermatologists = ("create", "approve", "review")  # written in a dermatologist's name, as on the pages
    queryset = TreatmentCourse.objects.select_related("patient", "condition").prefetch_related("areas")
    serializer_class = CourseSerializer

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=CourseProposeSerializer,
        responses={201: CourseSerializer, 400: PROPOSAL_REFUSED, 403: DERMATOLOGISTS_ONLY},
    )
    def create(self, request):
        """Propose a course on a dermatologist's assessment of the patient (the one named, or the
        latest) that found them a candidate for the condition, without contraindications; sessions
        and intervals not given come from the condition's protocol."""
        data = dict(valid(CourseProposeSerializer, request.data))
        assessment = assessment_for_proposal(patient=data.pop("patient"), assessment=data.pop("assessment", None))
        course = course_propose(**data, assessment=assessment, proposed_by=acting_dermatologist(request.user))
        return Response(self.get_serializer(course).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: CourseSerializer, 403: DERMATOLOGISTS_ONLY, 409: STATE_ERROR})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """A dermatologist approves a proposed course; only then can its sessions be booked."""
        course = course_approve(course=self.get_object(), by=acting_dermatologist(request.user))
        return Response(self.get_serializer(course).data)

    @extend_schema(
        parameters=[PlanQuerySerializer],
        responses={200: PlanSerializer, 400: FIELD_ERRORS, 409: STATE_ERROR},
    )
    @action(detail=True, methods=["get"])
    def plan(self, request, pk=None):
        """Proposed times for the sessions not yet booked (with `reflow`, for booked ones too)."""
        course = self.get_object()
        sessions = course_plan(course=course, **query(PlanQuerySerializer, request))
        return Response(PlanSerializer({"sessions": sessions}).data)

    @extend_schema(
        request=BookPlanSerializer,
        responses={201: BookedPlanSerializer, 400: FIELD_ERRORS, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="book-plan")
    def book_plan(self, request, pk=None):
        """Book (or move) every session of a plan, or none of them."""
        course = self.get_object()
        data = valid(BookPlanSerializer, request.data)
        appointments = course_book_plan(course=course, booked_by=request.user, **data)
        return Response(BookedPlanSerializer({"appointments": appointments}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CourseReviewSerializer,
        responses={201: ReviewedCourseSerializer, 400: FIELD_ERRORS, 403: DERMATOLOGISTS_ONLY, 409: STATE_ERROR},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """A dermatologist reviews a completed course's results: its score, and complete, add sessions
        (the course is active again for them) or stop (with a reason); once per planned sessions."""
        course = self.get_object()
        data = valid(CourseReviewSerializer, request.data)
        decision = course_decide(course=course, by=acting_dermatologist(request.user), **data)
        answer = {"review": decision, "course": course}
        return Response(ReviewedCourseSerializer(answer, context=self.get_serializer_context()).data, status=201)
