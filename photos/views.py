"""The photo pages: adding a session's photos, serving one photo, comparing a view across a course."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from catalogue.permissions import dermatologist_required
from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from clinic.roles import ability_required, can
from clinical.models import TreatmentCourse
from patients.audit import record_clinical_access
from photos.forms import PhotoUploadForm
from photos.models import SessionPhoto
from photos.selectors import TEACHING_SHOWN, course_comparison, session_photos, teaching_photos
from photos.services import (
    DEFAULT_VIEWS,
    REMOVAL_REASON_MAX,
    may_show,
    photo_bytes,
    photo_remove,
    photos_upload,
    record_photo_view,
    upload_blocker,
    views_for,
)
from scheduling.models import Appointment


@require_http_methods(["GET", "HEAD", "POST"])
@dermatologist_required
def upload(request, appointment_id):
    appointment = get_object_or_404(
        Appointment.objects.select_related("patient", "course__condition").with_session_numbers(),
        pk=appointment_id,
        kind=Appointment.Kind.TREATMENT,
    )
    views = views_for(appointment.course.areas.all()) if appointment.course_id else DEFAULT_VIEWS
    blocker = upload_blocker(appointment=appointment)
    form = PhotoUploadForm(request.POST or None, request.FILES or None, views=views)
    refused = []
    if request.method == "POST" and not blocker and form.is_valid():
        try:
            result = photos_upload(
                appointment=appointment, phase=form.cleaned_data["phase"], files_by_view=form.files_by_view(),
                by=request.user,
            )  # fmt: skip
        except SchedulingError as error:
            add_service_error(form, error)
        else:
            if result.stored:
                count = len(result.stored)
                messages.success(request, f"{count} photo{'s' if count != 1 else ''} added.")
            if not result.refused:
                return redirect("clinical:photos_upload", appointment_id=appointment.pk)
            refused = result.refused
            form = PhotoUploadForm(initial={"phase": form.cleaned_data["phase"]}, views=views)
    elif request.method != "POST":
        record_clinical_access(patient=appointment.patient, by=request.user, what="session photos")
    context = {
        "appointment": appointment,
        "course": appointment.course,
        "form": form,
        "blocker": blocker,
        "refused": refused,
        "photos": session_photos(appointment=appointment),
        "reason_max": REMOVAL_REASON_MAX,
        "patient_url": reverse("patients:detail", args=[appointment.patient_id]),
    }
    status = 400 if refused or form.errors or (blocker and request.method == "POST") else 200
    return render(request, "photos/upload.html", context, status=status)


@require_POST
@dermatologist_required
def photo_remove_view(request, key):
    """Remove one of a session's photos, with the reason; back to the session's photos either way."""
    photo = get_object_or_404(SessionPhoto.objects.select_related("appointment"), key=key)
    try:
        photo_remove(photo=photo, by=request.user, reason=request.POST.get("reason", ""))
    except SchedulingError as error:
        messages.error(request, f"{error.message} Nothing was removed.")
    else:
        messages.success(request, f"Removed: {photo.get_phase_display().lower()}, {photo.get_view_display().lower()}.")
    return redirect("clinical:photos_upload", appointment_id=photo.appointment_id)


@require_safe
@ability_required("view_clinical")
def photo_file(request, key, size):
    """One photo's bytes, for someone who may see clinical records; each look is in the audit trail."""
    if size not in ("display", "thumbnail"):
        raise Http404
    photo = get_object_or_404(SessionPhoto.objects.select_related("appointment__patient"), key=key)
    if not may_show(photo=photo):
        raise Http404
    record_photo_view(photo=photo, by=request.user, size=size)
    response = HttpResponse(photo_bytes(photo=photo, size=size), content_type=photo.content_type)
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = f'inline; filename="{photo.key.hex}.jpg"'
    return response


@require_safe
@ability_required("view_clinical")
def course_photos(request, course_id):
    course = get_object_or_404(TreatmentCourse.objects.select_related("patient", "condition"), pk=course_id)
    comparison = course_comparison(
        course=course, view=request.GET.get("view"), first=_id(request.GET.get("a")), second=_id(request.GET.get("b"))
    )
    record_clinical_access(patient=course.patient, by=request.user, what="course photos")
    context = {
        "course": course,
        "comparison": comparison,
        "can_treat": can(request.user, "treat"),
        "patient_url": reverse("patients:detail", args=[course.patient_id]),
    }
    response = render(request, "photos/course.html", context)
    response["Cache-Control"] = "no-store, private"
    return response


@require_safe
@ability_required("view_clinical")
def teaching(request):
    """The photos patients let the clinic use for teaching and marketing, without their names."""
    photos = teaching_photos()
    response = render(request, "photos/teaching.html", {"photos": photos, "shown": TEACHING_SHOWN})
    response["Cache-Control"] = "no-store, private"
    return response


def _id(value):
    return int(value) if value and value.isdigit() and len(value) < 10 else None
