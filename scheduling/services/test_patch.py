"""The test patch before a course's first session: the one home of its rule.

A course needs a patch when its condition asks for one (`Condition.test_patch_required`) or its
assessment found a skin type in `TEST_PATCH_SKIN_TYPES` (`needs_test_patch`). Then a short visit
of kind `test_patch` (`TEST_PATCH_MINUTES`, with a laser set up for the condition) comes first,
and the course's first treatment may start no earlier than the patch's local day plus
`TEST_PATCH_WAIT_DAYS` (clinic calendar days, so a DST change between them shifts nothing), and
only while the patch's result is "no reaction", "mild" or not recorded yet; "unsuitable" stops
the course. A patch cannot move to less than the wait before a first session booked already.

Booking and rescheduling (`check_placement`, under the patient's lock), the planner and the slot
search (`first_session_earliest`), the moves' window (`patch_latest`) and the pages and API (the
same refusals, and `patch_step` for what they show) ask this module, and nothing else decides it.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.utils import formats, timezone

from clinic.errors import SchedulingError
from clinical.models import TreatmentCourse
from scheduling.availability import day_bounds
from scheduling.models import Appointment

from . import guard

SUITABLE = (Appointment.PatchResult.NO_REACTION, Appointment.PatchResult.MILD)
# A patch that did not happen (cancelled, missed, an expired hold) is no patch.
PATCH_STATUSES = (
    Appointment.Status.BOOKED, Appointment.Status.CONFIRMED, Appointment.Status.CHECKED_IN,
    Appointment.Status.COMPLETED,
)  # fmt: skip


def patch_length() -> timedelta:
    return timedelta(minutes=settings.TEST_PATCH_MINUTES)


def wait_days() -> int:
    return settings.TEST_PATCH_WAIT_DAYS


def needs_test_patch(*, condition_requires: bool, skin_type: int | None) -> bool:
    """Whether a course needs a test patch: its condition asks for one, or its assessment's
    Fitzpatrick skin type is one the clinic always patches."""
    return bool(condition_requires) or (skin_type is not None and skin_type in settings.TEST_PATCH_SKIN_TYPES)


def course_needs_patch(course_id: int) -> bool:
    """`needs_test_patch` for a course, read from its condition and its assessment."""
    requires, skin_type = (
        TreatmentCourse.objects.filter(pk=course_id).values_list(
            "condition__test_patch_required", "assessment__skin_type"
        )
    ).get()
    return needs_test_patch(condition_requires=requires, skin_type=skin_type)


def needs_test_patch_q(prefix: str = "") -> Q:
    """`needs_test_patch` as a filter on courses (`prefix` leads from the queried model to the course)."""
    return Q(**{f"{prefix}condition__test_patch_required": True}) | Q(
        **{f"{prefix}assessment__skin_type__in": list(settings.TEST_PATCH_SKIN_TYPES)}
    )


def courses_awaiting_patch():
    """Approved courses, nothing booked yet, that need a test patch and have none: reception's
    "Test patch to book", oldest approval first."""
    patches = Appointment.objects.filter(
        course=OuterRef("pk"), kind=Appointment.Kind.TEST_PATCH, status__in=PATCH_STATUSES
    )
    return (
        TreatmentCourse.objects.filter(needs_test_patch_q(), status=TreatmentCourse.Status.APPROVED)
        .exclude(Exists(patches))
        .select_related("patient", "condition")
        .order_by("approved_at", "pk")
    )


@dataclass(frozen=True)
class PatchStep:
    """Where a course stands with its test patch, read in one query (`patch_step`)."""

    needed: bool
    patch_id: int | None = None
    start: datetime | None = None
    status: str = ""
    result: str = ""
    later: bool = False  # `patch_step(before=...)`: the course has a session before that time

    @property
    def booked(self) -> bool:
        return self.patch_id is not None

    @property
    def unsuitable(self) -> bool:
        return self.result == Appointment.PatchResult.UNSUITABLE

    @property
    def ready_from(self) -> date | None:
        """The first local day a first session may take, once a patch is booked."""
        return timezone.localdate(self.start) + timedelta(days=wait_days()) if self.start else None

    @property
    def result_label(self) -> str:
        return Appointment.PatchResult(self.result).label if self.result else ""

    def blocker(self) -> str | None:
        """Why the course's first session cannot be booked at all now, or None."""
        if not self.needed:
            return None
        if not self.booked:
            return "This course needs a test patch before its first session: book the test patch first."
        if self.unsuitable:
            return (
                f"The test patch on {_day(self.start)} showed the skin is unsuitable, so this course's "
                "treatment cannot be booked."
            )
        return None


def patch_step(course, *, before: datetime | None = None, exclude_id: int | None = None) -> PatchStep:
    """The course's need for a patch and its latest patch that happened or is to come, and with
    `before` whether a session of the course (other than `exclude_id`) starts before then: one query."""
    patches = Appointment.objects.filter(
        course=OuterRef("pk"), kind=Appointment.Kind.TEST_PATCH, status__in=PATCH_STATUSES
    ).order_by("-start", "-pk")
    earlier = Value(False)
    if before is not None:
        earlier = Exists(Appointment.objects.sessions().filter(course=OuterRef("pk"), start__lt=before)
                         .exclude(pk=exclude_id))  # fmt: skip
    row = (
        TreatmentCourse.objects.filter(pk=course.pk)
        .annotate(
            earlier=earlier,
            patch_id=Subquery(patches.values("pk")[:1]),
            patch_start=Subquery(patches.values("start")[:1]),
            patch_status=Subquery(patches.values("status")[:1]),
            patch_result=Subquery(patches.values("patch_result")[:1]),
        )
        .values_list(
            "condition__test_patch_required",
            "assessment__skin_type",
            "patch_id",
            "patch_start",
            "patch_status",
            "patch_result",
            "earlier",
        )  # fmt: skip
        .get()
    )
    requires, skin_type, patch_id, start, status, result, later = row
    return PatchStep(
        needed=needs_test_patch(condition_requires=requires, skin_type=skin_type),
        patch_id=patch_id,
        start=start,
        status=status or "",
        result=result or "",
        later=bool(later),
    )


def step_among(*, condition_requires: bool, skin_type: int | None, patches) -> PatchStep:
    """`patch_step`'s answer from rows read already (a patient page's): `patches` are the course's
    test patch appointments, any status."""
    held = [a for a in patches if a.status in PATCH_STATUSES]
    latest = max(held, key=lambda a: (a.start, a.pk), default=None)
    needed = needs_test_patch(condition_requires=condition_requires, skin_type=skin_type)
    if latest is None:
        return PatchStep(needed=needed)
    return PatchStep(needed, latest.pk, latest.start, latest.status, latest.patch_result)


def first_session_earliest(course, *, step: PatchStep | None = None) -> datetime | None:
    """The earliest instant the course's first session may start (the midnight beginning its
    patch's local day plus the wait), None when it needs no patch; SchedulingError when it cannot
    be booked at all (no patch booked, or an unsuitable one)."""
    step = step or patch_step(course)
    if not step.needed:
        return None
    reason = step.blocker()
    if reason:
        raise SchedulingError(reason, field="start")
    return day_bounds(step.ready_from, timezone.get_default_timezone())[0]


def check_placement(appointment: Appointment, *, start: datetime) -> None:
    """Refuse a booking or move that the patch rule forbids (called by the booking service under
    the patient's lock, which every booking and move of the course's visits takes).

    A treatment that would be its course's first session needs a patch booked at least the wait
    before it whose result is not "unsuitable". A patch needs a course, is the course's only one
    (a second is refused while one stands), and keeps the wait before a first session booked.
    """
    if not appointment.course_id:
        if appointment.kind == Appointment.Kind.TEST_PATCH:
            raise SchedulingError("A test patch is booked on a course.", field="course")
        return
    if appointment.kind == Appointment.Kind.TREATMENT:
        if not course_needs_patch(appointment.course_id):
            return  # most courses: two columns read instead of `patch_step`'s query, a booking's dearest
        step = patch_step(appointment.course, before=start, exclude_id=appointment.pk)
        if step.later:
            return  # not the first session: the patch came before the first
        earliest = first_session_earliest(appointment.course, step=step)
        if earliest is not None and start < earliest:
            raise SchedulingError(
                f"The first session must wait {wait_days()} days after the test patch on {_day(step.start)}: "
                f"book it on {_day_of(step.ready_from)} or later.",
                field="start",
            )
    elif appointment.kind == Appointment.Kind.TEST_PATCH:
        _check_patch(appointment, start=start)


def _check_patch(appointment: Appointment, *, start: datetime) -> None:
    others = appointment.course.appointments.filter(kind=Appointment.Kind.TEST_PATCH, status__in=PATCH_STATUSES)
    other = others.exclude(pk=appointment.pk).order_by("-start").first()
    if other is not None:
        if other.patch_result == Appointment.PatchResult.UNSUITABLE:
            raise SchedulingError(
                f"The test patch on {_day(other.start)} showed the skin is unsuitable, so this course's "
                "treatment cannot go ahead.",
                field="course",
            )
        raise SchedulingError(
            f"This course has a test patch already, on {_day(other.start)}; move that one instead.", field="course"
        )
    latest = patch_latest(appointment.course)
    if latest is not None and start >= latest:
        first = first_session_start(appointment.course)
        raise SchedulingError(
            f"The test patch must be at least {wait_days()} days before the first session on {_day(first)}: "
            f"book it on {_day_of(timezone.localdate(latest) - timedelta(days=1))} or earlier.",
            field="start",
        )


def first_session_start(course) -> datetime | None:
    return course.appointments.sessions().order_by("start").values_list("start", flat=True).first()


def patch_latest(course) -> datetime | None:
    """The instant before which the course's patch must start (the midnight after the last local
    day that keeps the wait before its first session booked), or None with no session booked."""
    first = first_session_start(course)
    if first is None:
        return None
    last_day = timezone.localdate(first) - timedelta(days=wait_days())
    return day_bounds(last_day, timezone.get_default_timezone())[1]


def check_in_allowed(appointment: Appointment) -> None:
    """A course's first treatment is checked in only once its patch showed the skin suitable."""
    if appointment.kind != Appointment.Kind.TREATMENT or not appointment.course_id:
        return
    step = patch_step(appointment.course, before=appointment.start, exclude_id=appointment.pk)
    if step.needed and not step.later and step.result not in SUITABLE:
        reason = step.blocker() or "The test patch's result is not recorded yet; a dermatologist records it first."
        raise SchedulingError(reason, field="status")


@guard.retrying
@transaction.atomic
def patch_result_record(*, appointment: Appointment, result: str, notes: str = "", by, now: datetime | None = None):
    """A dermatologist records a test patch's result (no reaction, mild, unsuitable), once the
    patch has begun; `by` is their Practitioner. The audit trail keeps every change.

    It takes the patient's lock first (the order of locks, guard.py), as a booking of the course's
    first session does, so that a booking never reads a result this one is changing."""
    now = now or timezone.now()
    guard.lock_resources(patients=[appointment.patient_id])
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.kind != Appointment.Kind.TEST_PATCH:
        raise SchedulingError("Only a test patch has a patch result.", field="result")
    if appointment.status not in PATCH_STATUSES:
        raise SchedulingError(f"This test patch is {appointment.get_status_display().lower()}.", field="result")
    if appointment.start > now:
        raise SchedulingError("The result is recorded once the test patch has been done.", field="result")
    if result not in Appointment.PatchResult.values:
        raise SchedulingError("Choose no reaction, mild reaction or unsuitable.", field="result")
    appointment.patch_result, appointment.patch_result_notes = result, notes.strip()
    appointment.patch_result_by, appointment.patch_result_at = by, now
    appointment.save(update_fields=["patch_result", "patch_result_notes", "patch_result_by", "patch_result_at",
                                    "updated_at"])  # fmt: skip
    return appointment


def step_words(step: PatchStep) -> str:
    """What the patient page, the portal and the course pages say of the step."""
    if not step.needed:
        return ""
    if not step.booked:
        return "Test patch to book"
    if step.unsuitable:
        return f"Test patch on {_day(step.start)}: unsuitable, no treatment"
    if step.result:
        return f"Test patch result: {step.result_label.lower()}, first session from {_day_of(step.ready_from)}"
    return f"Test patch booked for {_when(step.start)}; first session from {_day_of(step.ready_from)}"


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "D j M Y H:i")


def _day(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "D j M Y")


def _day_of(day: date) -> str:
    return formats.date_format(day, "D j M Y")
