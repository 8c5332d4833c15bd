"""What every resource of the JSON API shares: the exception handler, permissions, pagination, the
strict input fields and the documented refusals.

Each resource module (api/appointments.py, api/courses.py, ...) checks its input with its own
serializers, calls one service and renders the result. Service refusals become answers in one
place, `exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]): a clash or a wrong state is 409,
any other refusal is 400 with a message per field.
"""

import re
from datetime import UTC, date, datetime
from functools import cache

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, router
from django.db.models.query import ModelIterable
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from catalogue.permissions import acting_dermatologist
from clinic.errors import BookingConflict, IllegalTransition, PlanError, SchedulingError
from clinic.roles import can
from clinic.sql import converted, converters

# Dates outside these years are refused as input: they are typing mistakes, and date arithmetic
# near the ends of the calendar overflows. How far ahead a booking may go is not decided here.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
TEXT_MAX = 5000


# Answers


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


FIELD_ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description="Refused: a list of messages per input field.")
STATE_ERROR = OpenApiResponse(ErrorSerializer, description="Not possible in the current state.")
DERMATOLOGISTS_ONLY = OpenApiResponse(
    ErrorSerializer,
    description="Not allowed: only a dermatologist (the Dermatologist role and an active dermatologist's record).",
)
CONFLICT = OpenApiResponse(
    ConflictSerializer,
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


# Input


def valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def query(serializer_class, request) -> dict:
    """The query string, checked. It is read as plain values, not as an HTML form would be: there an
    empty value means "not given", so `?status=` would silently list every status."""
    return valid(serializer_class, request.query_params.dict())


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


# A whole number as text (a form or a query string): ASCII digits, nothing around them. Python's
# int() would also read " 1", "+1", "1_000" and other scripts' digits such as "１２".
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def _whole_number(data) -> bool:
    if isinstance(data, bool):
        return False
    return isinstance(data, int) or (isinstance(data, str) and _WHOLE_NUMBER.fullmatch(data) is not None)


class WholeNumberField(serializers.IntegerField):
    """A whole number as typed: a JSON integer, or ASCII digits as text. 7.9, 7.0, true, " 1" and
    "１２" are refused, not rounded or read."""

    def to_internal_value(self, data):
        if not _whole_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdField(serializers.PrimaryKeyRelatedField):
    """The id of a record, as strict as WholeNumberField: a JSON integer or ASCII digits."""

    default_error_messages = {"not_an_id": "Give the id as a whole number."}

    def __deepcopy__(self, memo):
        # DRF copies every declared field for each serializer it makes, and with it the queryset:
        # most of the cost of reading a request's ids. A field never evaluates its queryset in place
        # (it reads `queryset.all()`), so the copies share it.
        queryset = self._kwargs.get("queryset")
        memo.setdefault(id(queryset), queryset)
        return super().__deepcopy__(memo)

    def to_internal_value(self, data):
        if not _whole_number(data):
            self.fail("not_an_id")
        pk = int(data)
        model = self._plain_model_for(pk)
        if model is None:  # the ORM's path, range checks and all
            return super().to_internal_value(data)
        read = _sibling_rows(self.parent)
        found = read[(model, pk)] if (model, pk) in read else row_by_pk(model, pk)
        if found is None:
            self.fail("does_not_exist", pk_value=data)
        return found

    def _plain_model_for(self, pk: int):
        """The model when the row can be read by `row_by_pk`, else None."""
        model = _plain_model(self.queryset)
        return model if model is not None and 0 < pk < _SMALLEST_ID_RANGE else None


# Ids below this fit every integer primary key on every database; others take the ORM's path.
_SMALLEST_ID_RANGE = 2**31


def _sibling_rows(serializer) -> dict:
    """The rows every id field of `serializer`'s input names, by (model, id), read together the
    first time one of its fields asks (a booking names five: one round trip on PostgreSQL, not
    five); kept on the serializer, which lives for one request. Empty for a nested serializer,
    whose input is not its `initial_data`: its fields read their rows one by one."""
    if serializer is None or serializer.parent is not None or not hasattr(serializer, "initial_data"):
        return {}
    read = serializer.__dict__.get("_rows_by_pk")
    if read is None:
        wanted = []
        for field in serializer._writable_fields:
            if not isinstance(field, IdField):
                continue
            value = field.get_value(serializer.initial_data)
            if not _whole_number(value):
                continue
            model = field._plain_model_for(int(value))
            if model is not None and (model, int(value)) not in wanted:
                wanted.append((model, int(value)))
        read = serializer._rows_by_pk = dict(zip(wanted, rows_by_pk(wanted), strict=True))
    return read


def _plain_model(queryset):
    """The model, when `queryset` reads its rows as `Model._base_manager.all()` does (no filter,
    join, annotation, deferral, prefetch or other database), so that one row by its primary key is
    what `queryset.get(pk=...)` gives; otherwise None."""
    if queryset is None:
        return None
    known = _plain_models.get(id(queryset))
    if known is None or known[0] is not queryset:
        known = _plain_models[id(queryset)] = _plainness(queryset)
    return known[1]


_plain_models: dict[int, tuple] = {}  # id(queryset): (queryset, model or None); the querysets live with their classes


def _plainness(queryset) -> tuple:
    model = queryset.model
    plain = (
        queryset._iterable_class is ModelIterable
        and not queryset._prefetch_related_lookups
        and queryset._db is None
        and str(queryset.query) == str(model._base_manager.all().query)
    )
    return queryset, (model if plain else None)


def row_by_pk(model, pk: int):
    """The model's row with this primary key as an instance, or None: what the ORM's `get(pk=...)`
    builds, in a statement written once. A request's input names up to five records by id, and
    building each lookup through the ORM cost more CPU than reading the row."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    sql, names = _row_by_pk_statement(alias, model)
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    return model.from_db(alias, names, converted(connection, row, converters(alias, model, names)))


def rows_by_pk(wanted: list[tuple]) -> list:
    """`row_by_pk` for each (model, pk) of `wanted`, in its order: on PostgreSQL in one round trip
    (the statements joined, each result read in turn), one by one on any other database."""
    aliases = {router.db_for_read(model) for model, _ in wanted}
    if len(wanted) < 2 or len(aliases) != 1 or connections[next(iter(aliases))].vendor != "postgresql":
        return [row_by_pk(model, pk) for model, pk in wanted]
    alias = aliases.pop()
    connection = connections[alias]
    statements = [_row_by_pk_statement(alias, model) for model, _ in wanted]
    with connection.cursor() as cursor:  # psycopg binds the parameters on the client
        cursor.execute(";".join(sql for sql, _ in statements), [pk for _, pk in wanted])
        rows = [cursor.fetchone()]
        while cursor.nextset():
            rows.append(cursor.fetchone())
    return [
        None
        if row is None
        else model.from_db(alias, names, converted(connection, row, converters(alias, model, names)))
        for (model, _), (_, names), row in zip(wanted, statements, rows, strict=True)
    ]


@cache
def _row_by_pk_statement(alias, model) -> tuple[str, tuple[str, ...]]:
    """The row's SELECT and its fields' names, in the model's field order (`from_db` takes them so)."""
    quote = connections[alias].ops.quote_name
    fields = model._meta.concrete_fields
    sql = _ROW_BY_PK_SQL.format(
        columns=", ".join(quote(field.column) for field in fields),
        table=quote(model._meta.db_table),
        pk=quote(model._meta.pk.column),
    )
    return sql, tuple(field.attname for field in fields)


_ROW_BY_PK_SQL = "SELECT {columns} FROM {table} WHERE {pk} = %s"


def pk_field(queryset, **kwargs) -> serializers.PrimaryKeyRelatedField:
    return IdField(queryset=queryset, **kwargs)


def day_field(**kwargs) -> serializers.DateField:
    """A calendar date (YYYY-MM-DD) within FIRST_DAY .. LAST_DAY."""
    validators = [MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)]
    return serializers.DateField(validators=validators, **kwargs)


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


# Who may do what


def allows(ability: str) -> type[BasePermission]:
    """A DRF permission for one ability of the permission matrix (clinic.roles.ABILITIES)."""

    class Allows(BasePermission):
        message = "Your role cannot do this."

        def has_permission(self, request, view):
            return can(request.user, ability)

    return Allows


class IsDermatologist(BasePermission):
    """An active dermatologist's practitioner record (catalogue.permissions), as the pages need:
    clinical work is written in a dermatologist's name."""

    message = "Only a dermatologist can do this."

    def has_permission(self, request, view):
        return acting_dermatologist(request.user) is not None


class MatrixViewSet(viewsets.GenericViewSet):
    """A viewset whose actions each need an ability of the permission matrix: `abilities` maps an
    action to its ability, `default` covers the rest. Login comes first, so strangers get 401."""

    abilities: dict[str, str] = {}
    default: str = "view_schedule"
    # A record's id in the path, as typed: the router's own `[^/.]+` would hand " 7", "+7" and "７"
    # to int(), which reads them all as 7. Anything else matches no URL: a 404, in JSON.
    lookup_value_regex = "[0-9]+"
    # Actions that also need an active dermatologist's record: they write clinical work in one's name.
    dermatologists: tuple[str, ...] = ()

    def get_permissions(self):
        ability = self.abilities.get(self.action, self.default)
        extra = [IsDermatologist()] if self.action in self.dermatologists else []
        return [*super().get_permissions(), allows(ability)(), *extra]


# Pages


class PageQuerySerializer(serializers.Serializer):
    MAX_PAGE_SIZE = 200

    page = WholeNumberField(required=False, min_value=1)
    page_size = WholeNumberField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


class Pages(PageNumberPagination):
    """Pages of 50, or `page_size` up to 200. A page number or size that is not a whole number in range
    is refused (400) rather than replaced by the default; a page past the end is 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = PageQuerySerializer.MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self.query = query(PageQuerySerializer, request)
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
