"""The catalogue: conditions, treatment areas, practitioners, rooms and lasers, as short lists."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers

from api.common import MatrixViewSet
from catalogue.models import Condition, LaserDevice, Practitioner, Room, TreatmentArea


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
            "outcome_scale",
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


class _Catalogue(mixins.ListModelMixin, mixins.RetrieveModelMixin, MatrixViewSet):
    """Short reference lists, returned whole."""

    pagination_class = None


@extend_schema(tags=["catalogue"])
class ConditionViewSet(_Catalogue):
    queryset = Condition.objects.all()
    serializer_class = ConditionSerializer


@extend_schema(tags=["catalogue"])
class TreatmentAreaViewSet(_Catalogue):
    queryset = TreatmentArea.objects.all()
    serializer_class = TreatmentAreaSerializer


@extend_schema(tags=["catalogue"])
class PractitionerViewSet(_Catalogue):
    queryset = Practitioner.objects.select_related("user")
    serializer_class = PractitionerSerializer


@extend_schema(tags=["catalogue"])
class RoomViewSet(_Catalogue):
    queryset = Room.objects.all()
    serializer_class = RoomSerializer


@extend_schema(tags=["catalogue"])
class LaserDeviceViewSet(_Catalogue):
    queryset = LaserDevice.objects.prefetch_related("conditions")
    serializer_class = LaserDeviceSerializer
