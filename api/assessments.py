"""Assessments: a dermatologist records a consultation's outcome (clinical.services.assessments), and
staff read a patient's. A course is proposed on one (api/courses.py).

Like the patient page, every role that sees patients sees that an assessment was made, when and
whether it found a candidate; its clinical details (who assessed, skin type, conditions,
contraindications, notes) are for roles with `view_clinical` only, and each opening is audited."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from api.common import (
    DERMATOLOGISTS_ONLY,
    FIELD_ERRORS,
    TEXT_MAX,
    FlagField,
    MatrixViewSet,
    Pages,
    TextField,
    pk_field,
    query,
    valid,
)
from catalogue.models import Condition
from catalogue.permissions import acting_dermatologist
from clinic.roles import can
from clinical.models import Assessment, Contraindication
from clinical.services.assessments import assessment_record
from patients.audit import record_clinical_access
from patients.models import Patient, SkinType


def _clinical(serializer) -> bool:
    request = serializer.context.get("request")
    return request is not None and can(request.user, "view_clinical")


# Output


class AssessmentSerializer(serializers.ModelSerializer):
    dermatologist = serializers.SerializerMethodField(help_text="Null for a role that may not see clinical records.")
    skin_type = serializers.SerializerMethodField(help_text="Fitzpatrick I-VI; null without clinical access.")
    conditions = serializers.SerializerMethodField(help_text="The conditions found; null without clinical access.")
    contraindications = serializers.SerializerMethodField(help_text="Codes found; null without clinical access.")
    notes = serializers.SerializerMethodField(help_text="Null for a role that may not see clinical records.")

    class Meta:
        model = Assessment
        fields = [
            "id",
            "patient",
            "assessed_at",
            "candidate",
            "dermatologist",
            "skin_type",
            "conditions",
            "contraindications",
            "notes",
        ]
        read_only_fields = fields

    def get_dermatologist(self, assessment) -> int | None:
        return assessment.dermatologist_id if _clinical(self) else None

    @extend_schema_field(serializers.ChoiceField(choices=SkinType.choices, allow_null=True))
    def get_skin_type(self, assessment):
        return assessment.skin_type if _clinical(self) else None

    def get_conditions(self, assessment) -> list[int] | None:
        return [condition.pk for condition in assessment.conditions.all()] if _clinical(self) else None

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=Contraindication.choices), allow_null=True)
    )
    def get_contraindications(self, assessment):
        return list(assessment.contraindications) if _clinical(self) else None

    def get_notes(self, assessment) -> str | None:
        return assessment.notes if _clinical(self) else None


# Input


class AssessmentRecordSerializer(serializers.Serializer):
    patient = pk_field(Patient.objects.all())
    skin_type = serializers.ChoiceField(choices=SkinType.choices, help_text="Fitzpatrick skin type, 1 to 6.")
    conditions = pk_field(
        Condition.objects.all(), many=True, required=False, help_text="The conditions found (none: nothing to treat)."
    )
    contraindications = serializers.ListField(
        child=serializers.ChoiceField(choices=Contraindication.choices),
        required=False,
        max_length=len(Contraindication.choices),
        help_text="Any found blocks proposing a course on this assessment.",
    )
    candidate = FlagField(help_text="A good candidate for pico-laser treatment.")
    notes = TextField(required=False, allow_blank=True, max_length=TEXT_MAX)


class AssessmentListQuerySerializer(serializers.Serializer):
    patient = pk_field(Patient.objects.all(), help_text="The patient whose assessments to list, latest first.")


@extend_schema(tags=["assessments"])
class AssessmentViewSet(mixins.RetrieveModelMixin, MatrixViewSet):
    abilities = {"create": "treat"}
    default = "view_patients"
    dermatologists = ("create",)  # recorded in a dermatologist's name, as on the pages
    queryset = Assessment.objects.select_related("patient").prefetch_related("conditions")
    serializer_class = AssessmentSerializer
    pagination_class = Pages

    @extend_schema(parameters=[AssessmentListQuerySerializer], responses={200: AssessmentSerializer(many=True)})
    def list(self, request):
        """A patient's assessments, latest first."""
        patient = query(AssessmentListQuerySerializer, request)["patient"]
        page = self.paginate_queryset(self.get_queryset().filter(patient=patient).order_by("-assessed_at", "-pk"))
        self._audit(patient, "assessments (API)")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        assessment = self.get_object()
        self._audit(assessment.patient, "assessment (API)")
        return Response(self.get_serializer(assessment).data)

    @extend_schema(
        request=AssessmentRecordSerializer,
        responses={201: AssessmentSerializer, 400: FIELD_ERRORS, 403: DERMATOLOGISTS_ONLY},
    )
    def create(self, request):
        """Record a consultation's outcome; its skin type goes onto the patient's file."""
        data = valid(AssessmentRecordSerializer, request.data)
        assessment = assessment_record(**data, dermatologist=acting_dermatologist(request.user))
        return Response(self.get_serializer(assessment).data, status=status.HTTP_201_CREATED)

    def _audit(self, patient, what):
        """Opening clinical details is written in the audit trail, as on the pages."""
        if can(self.request.user, "view_clinical"):
            record_clinical_access(patient=patient, by=self.request.user, what=what)
