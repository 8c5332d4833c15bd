"""Patients: search, register, read and edit, by the rules of patients.services."""

from django.db import models
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.common import (
    FIELD_ERRORS,
    TEXT_MAX,
    EmailTextField,
    FlagField,
    MatrixViewSet,
    Pages,
    TextField,
    day_field,
    query,
    valid,
)
from clinical.models import SunExposure
from patients import services as patient_services
from patients.models import Patient
from patients.selectors import clean_query, patients_matching


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


class SunExposureSerializer(serializers.ModelSerializer):
    """Planned sun exposure: no treatment on its days or in the 14 days after them."""

    class Meta:
        model = SunExposure
        fields = ["id", "first_day", "last_day", "what"]
        read_only_fields = fields


class PatientSearchSerializer(serializers.Serializer):
    q = TextField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text=(
            "Name words, part of the email, the phone number (spaces, dashes and a leading +44 or 0 ignored) "
            "or the date of birth (YYYY-MM-DD or DD/MM/YYYY)."
        ),
    )


@extend_schema(tags=["patients"])
class PatientViewSet(mixins.RetrieveModelMixin, MatrixViewSet):
    abilities = {"create": "edit_patients", "partial_update": "edit_patients"}
    default = "view_patients"
    queryset = Patient.objects.all()
    serializer_class = PatientSerializer
    pagination_class = Pages

    @extend_schema(request=PatientSerializer, responses={201: PatientSerializer, 400: FIELD_ERRORS})
    def create(self, request):
        """Register a patient; the same rules as the staff pages (patients.services)."""
        patient = patient_services.patient_create(**valid(PatientSerializer, request.data))
        return Response(self.get_serializer(patient).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[PatientSearchSerializer])
    def list(self, request):
        """Patients matching `q` as the staff search finds them (name words, email, phone without its
        separators or a leading +44/0, date of birth); every patient without it."""
        text = query(PatientSearchSerializer, request).get("q", "")
        patients = patients_matching(text) if clean_query(text) else self.get_queryset()
        page = self.paginate_queryset(patients)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={200: SunExposureSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="sun-exposure", pagination_class=None)
    def sun_exposure(self, request, pk=None):
        """The patient's planned sun exposure, earliest first (recorded on the staff pages)."""
        exposures = SunExposure.objects.filter(patient=self.get_object())
        return Response(SunExposureSerializer(exposures, many=True).data)

    @extend_schema(request=PatientSerializer, responses={200: PatientSerializer, 400: FIELD_ERRORS})
    def partial_update(self, request, pk=None):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient = patient_services.patient_update(patient=serializer.instance, **serializer.validated_data)
        return Response(self.get_serializer(patient).data)
