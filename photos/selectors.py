"""Reads for the photo pages: a session's photos, one view compared across a course, and the
photos whose patients let them be used for teaching or marketing."""

from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery

from clinical.services.consent import standing_photo_consents
from photos.models import SessionPhoto
from photos.services import TAKES_PHOTOS, views_for
from scheduling.models import Appointment


@dataclass
class SessionColumn:
    appointment: Appointment
    record: object  # the SessionRecord, or None before the session is recorded
    before: list[SessionPhoto] = field(default_factory=list)
    after: list[SessionPhoto] = field(default_factory=list)

    @property
    def photos(self):
        return [*self.before, *self.after]

    @property
    def earliest(self):
        """The photo a comparison starts from: the first before the treatment, else the first after."""
        return (self.before or self.after or [None])[0]

    @property
    def latest(self):
        """The photo a comparison ends on: the last after the treatment, else the last before."""
        return (self.after or self.before or [None])[-1]


@dataclass
class Comparison:
    views: tuple[str, ...]
    view: str
    columns: list[SessionColumn]
    first: SessionColumn | None  # the two sessions of the toggle
    second: SessionColumn | None

    @property
    def view_options(self):
        return [(value, SessionPhoto.View(value).label) for value in self.views]

    @property
    def view_label(self):
        return SessionPhoto.View(self.view).label


def course_comparison(*, course, view: str | None, first: int | None = None, second: int | None = None) -> Comparison:
    """The course's treatment sessions (checked in or completed, in time order) with their settings
    and their photos of one view; two chosen sessions (appointment ids) for the toggle, by default
    the first and the last that have photos of that view. Three queries whatever the course's length."""
    views = views_for(course.areas.all())
    view = view if view in views else views[0]
    sessions = (
        Appointment.objects.filter(course=course, kind=Appointment.Kind.TREATMENT, status__in=TAKES_PHOTOS)
        .select_related("session_record")
        .with_session_numbers()
        .order_by("start", "pk")
    )
    columns = {a.pk: SessionColumn(appointment=a, record=getattr(a, "session_record", None)) for a in sessions}
    for photo in SessionPhoto.objects.filter(appointment_id__in=columns, view=view).order_by("uploaded_at", "pk"):
        column = columns[photo.appointment_id]
        (column.before if photo.phase == SessionPhoto.Phase.BEFORE else column.after).append(photo)
    with_photos = [c for c in columns.values() if c.photos]
    chosen_first = columns.get(first) or (with_photos[0] if with_photos else None)
    chosen_second = columns.get(second) or (with_photos[-1] if len(with_photos) > 1 else None)
    return Comparison(views=views, view=view, columns=list(columns.values()), first=chosen_first, second=chosen_second)


def session_photos(*, appointment) -> list[SessionPhoto]:
    return list(SessionPhoto.objects.filter(appointment=appointment).order_by("phase", "view", "uploaded_at", "pk"))


TEACHING_SHOWN = 200


def teaching_photos(*, limit: int = TEACHING_SHOWN) -> list[SessionPhoto]:
    """Photos whose patient's standing photo consent gives teaching and marketing use (the consent
    `photo_scopes` reads, as a subquery, so a withdrawal hides them at once), of patients not
    erased, newest first, with what a teaching slide says of them: the condition, the areas and
    the session. One query."""
    standing = standing_photo_consents(OuterRef("appointment__patient"))
    return list(
        SessionPhoto.objects.annotate(marketing=Subquery(standing.values("photo_marketing")[:1]))
        .filter(marketing=True, appointment__patient__erased_at=None)
        .select_related("appointment__course__condition")
        .order_by("-uploaded_at", "-pk")[:limit]
    )
