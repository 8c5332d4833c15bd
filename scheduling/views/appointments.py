"""The appointment page and its actions: check-in, reschedule, cancel, no-show, completing a visit."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_http_methods, require_POST

from catalogue.permissions import acting_dermatologist
from clinic.roles import ability_required, can
from clinical.services.consent import unsigned_texts
from clinical.services.courses import proposable_conditions
from scheduling.forms import CancelForm, CheckInForm, MoveSearchForm, SlotBookForm
from scheduling.models import Appointment
from scheduling.services import (
    MOVABLE_STATUSES,
    IllegalTransition,
    SchedulingError,
    Slot,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_no_show,
    appointment_reschedule,
    find_move_slots,
    move_window,
    test_patch,
)
from scheduling.services.booking import check_in_day, no_show_due
from scheduling.services.check_in import appointment_defer, check_in_flags, defer_blocker, unconfirmed_prep
from scheduling.services.consent_gate import WHAT_TO_DO, check_in_consent_missing
from scheduling.services.course_rules import takes_another_session
from scheduling.services.sun import sun_exposure_confirm

from . import refuse, sun_override

logger = logging.getLogger(__name__)

RESCHEDULE_DAYS = 7


def _load(pk: int) -> Appointment:
    related = (
        "patient",
        "course__condition",
        "practitioner__user",
        "room",
        "device",
        "booked_by",
        "short_prep_acknowledged_by",
        "patch_result_by__user",
    )
    return get_object_or_404(Appointment.objects.select_related(*related).with_session_numbers(), pk=pk)


def _next_steps(request, appointment) -> dict:
    """Which next steps the page offers: each for a role that may take it, and only when possible now
    (by the same rules the services refuse by)."""
    now = timezone.now()
    books = can(request.user, "book")
    movable = books and appointment.status in MOVABLE_STATUSES
    treats = acting_dermatologist(request.user) is not None
    course = appointment.course if appointment.course_id else None
    assesses = (
        treats
        and appointment.kind == Appointment.Kind.CONSULTATION
        and appointment.status in Appointment.ACTIVE_STATUSES
        and not appointment.patient.erased_at
    )
    latest = appointment.patient.assessments.order_by("-assessed_at", "-pk").first() if assesses else None
    checks_in = movable and check_in_day(appointment, now=now)
    return {
        "can_check_in": checks_in,
        # What the patient has to sign, for the tablet; the consent check-in needs (the service's rule).
        "to_sign": unsigned_texts(patient=appointment.patient, now=now) if checks_in else [],
        "consent_missing": check_in_consent_missing(appointment, now=now) if checks_in else None,
        "consent_what_to_do": WHAT_TO_DO,
        "can_no_show": movable and no_show_due(appointment, now=now),
        "can_record": treats
        and appointment.kind == Appointment.Kind.TREATMENT
        and appointment.status == Appointment.Status.CHECKED_IN,
        # A consultation or review is done when the dermatologist says so (a treatment, when its
        # session is recorded).
        "can_complete": treats
        and appointment.kind != Appointment.Kind.TREATMENT
        and appointment.status == Appointment.Status.CHECKED_IN,
        "can_assess": assesses,
        # A test patch's result, once the patch has begun (test_patch.patch_result_record's rule).
        "can_record_patch": treats
        and appointment.kind == Appointment.Kind.TEST_PATCH
        and appointment.status in test_patch.PATCH_STATUSES
        and appointment.start <= now,
        # The consultation's outcome, once recorded, leads on to its course proposal.
        "latest_assessment": latest,
        "proposable": proposable_conditions(latest) if latest else [],
        "can_book_visit": books and not appointment.patient.erased_at,
        "can_book_next": books
        and course is not None
        and takes_another_session(course, held=course.appointments.sessions().count()),
    }


def _detail(request, appointment, *, check_in_form=None, cancel_form=None):
    context = {
        "appointment": appointment,
        "can_act": can(request.user, "book"),
        "movable": appointment.status in MOVABLE_STATUSES,
        "is_treatment": appointment.kind == Appointment.Kind.TREATMENT,
        **_next_steps(request, appointment),
        "check_in_form": check_in_form or CheckInForm(),
        "cancel_form": cancel_form or CancelForm(),
        "board_url": reverse("scheduling:day_board_date", kwargs={"day": timezone.localdate(appointment.start)}),
    }
    return render(request, "scheduling/appointment_detail.html", context)


@ability_required("view_schedule")
def appointment_detail(request, pk):
    return _detail(request, _load(pk))


@ability_required("book")
@require_POST
def appointment_check_in_view(request, pk):
    appointment = _load(pk)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The patient is not checked in yet: see the check-in form.")
        return _detail(request, appointment, check_in_form=form)
    flags = check_in_flags(kind=appointment.kind, answers=form.answers())
    try:
        appointment_check_in(
            appointment=appointment, flags=flags, remarks=form.cleaned_data["remarks"], by=request.user
        )
    except SchedulingError as error:
        refuse(request, error)
        return _detail(request, _load(pk), check_in_form=form)
    name = appointment.patient.first_name
    if flags:
        logger.info("appointment %s flagged at check-in", appointment.pk)
        messages.warning(request, f"{name} is checked in and flagged for the dermatologist: {'; '.join(flags)}.")
    else:
        messages.success(request, f"{name} is checked in.")
    unconfirmed = unconfirmed_prep(kind=appointment.kind, answers=form.answers())
    if unconfirmed:
        messages.info(request, f"Not confirmed at the desk: {', '.join(unconfirmed).lower()}.")
    return redirect("scheduling:appointment", pk=appointment.pk)


@ability_required("book")
@require_POST
def appointment_cancel_view(request, pk):
    appointment = _load(pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The appointment is not cancelled: give a reason of up to 200 characters.")
        return _detail(request, appointment, cancel_form=form)
    try:
        appointment_cancel(appointment=appointment, reason=form.cleaned_data["reason"])
    except SchedulingError as error:
        refuse(request, error)
        return _detail(request, _load(pk), cancel_form=form)
    messages.success(request, f"The {appointment.get_kind_display().lower()} is cancelled; the patient will be told.")
    return redirect("scheduling:appointment", pk=appointment.pk)


@ability_required("book")
@require_POST
def appointment_no_show_view(request, pk):
    appointment = _load(pk)
    try:
        appointment_no_show(appointment=appointment)
    except IllegalTransition as error:
        refuse(request, error)
    else:
        messages.success(request, f"{appointment.patient.first_name} is recorded as a no-show.")
    return redirect("scheduling:appointment", pk=appointment.pk)


@ability_required("treat")
@require_POST
def appointment_complete_view(request, pk):
    """A checked-in consultation or review is over (a treatment completes with its session record)."""
    appointment = _load(pk)
    try:  # the service refuses a treatment without its session record
        appointment_complete(appointment=appointment)
    except SchedulingError as error:
        refuse(request, error)
    else:
        messages.success(request, f"The {appointment.get_kind_display().lower()} is recorded as completed.")
    return redirect("scheduling:appointment", pk=appointment.pk)


@ability_required("book")
@require_POST
def sun_exposure_confirm_view(request, pk):
    """Reception's queue: keep a session that planned sun exposure now touches (the dermatologist agrees)."""
    appointment = _load(pk)
    try:
        sun_exposure_confirm(appointment=appointment, by=request.user)
    except SchedulingError as error:
        refuse(request, error)
    else:
        messages.success(request, "The session stays where it is; the sun exposure is acknowledged.")
    return redirect(reverse("queues:index") + "#sun-exposure")


@ability_required("book")
def appointment_reschedule_view(request, pk):
    """Where the appointment can move, a week from a chosen day (at first its own) with anyone or
    one practitioner, by day, its present time shown in its place; a time's button moves it there."""
    appointment = _load(pk)
    search = MoveSearchForm(request.GET or None)
    conflicts, posted, sun_refused = [], None, None
    if request.method == "POST":
        form = SlotBookForm(request.POST)
        posted = request.POST.get("start")
        if form.is_valid():
            try:
                appointment_reschedule(appointment=appointment, by=request.user, **form.cleaned_data)
            except SchedulingError as error:
                conflicts = refuse(request, error)
                sun_refused = sun_override(error, form)
                appointment = _load(pk)  # the failed move left its new time on the object
            else:
                when = formats.date_format(timezone.localtime(appointment.start), "D j M Y H:i")
                messages.success(
                    request,
                    f"Moved to {when} with {appointment.practitioner}. The patient will be asked to confirm again.",
                )
                return redirect("scheduling:appointment", pk=appointment.pk)
        else:
            messages.error(request, "That slot could not be read; pick one again.")
    if search.is_bound:
        search.is_valid()  # a wrong field shows why on the page; the right ones still count
    wanted = search.cleaned_data if search.is_bound else {}
    around = wanted.get("date") or max(timezone.localdate(appointment.start), timezone.localdate())
    window = move_window(appointment)
    slots = find_move_slots(
        appointment=appointment,
        start_date=around,
        days=RESCHEDULE_DAYS,
        practitioner=wanted.get("practitioner"),
        spacing=appointment.end - appointment.start,  # a practitioner's times a visit apart: whole days fit
        window=window,
    )
    context = {
        "appointment": appointment,
        "movable": appointment.status in MOVABLE_STATUSES,
        "search": search if search.is_bound else MoveSearchForm(initial={"date": around}),
        "around": around,
        "with_practitioner": wanted.get("practitioner"),
        "window": window,
        "window_from": max(timezone.localdate(window.earliest or timezone.now()), timezone.localdate()),
        "slots": slots,
        "days": _by_day(slots, appointment, first=around, last=around + timedelta(days=RESCHEDULE_DAYS - 1)),
        "posted": posted,
        "conflicts": conflicts,
        "sun_refused": sun_refused,
    }
    return render(request, "scheduling/appointment_reschedule.html", context)


@dataclass(frozen=True)
class MoveRow:
    """A line of the reschedule page: a time, the free slots to move to then (one a practitioner),
    and whether the appointment is there now (`current`)."""

    start: datetime
    end: datetime
    slots: list[Slot] = field(default_factory=list)
    current: bool = False


def _by_day(slots, appointment, *, first, last) -> list[tuple[date, list[MoveRow]]]:
    """The slots by local day and time, the appointment's present time among its day's."""
    times: dict[datetime, list[Slot]] = {}
    for slot in slots:
        times.setdefault(slot.start, []).append(slot)
    if first <= timezone.localdate(appointment.start) <= last:
        times.setdefault(appointment.start, [])
    rows = [
        MoveRow(start, start + (appointment.end - appointment.start), group, current=start == appointment.start)
        for start, group in sorted(times.items())
    ]
    days: dict[date, list[MoveRow]] = {}
    for row in rows:
        days.setdefault(timezone.localdate(row.start), []).append(row)
    return list(days.items())


@ability_required("treat")
@require_http_methods(["GET", "HEAD", "POST"])
def appointment_defer_view(request, pk):
    """The dermatologist does not treat a flagged session today: after a confirmation page, it is
    called off and the rest of the course is re-planned from the plan page."""
    appointment = _load(pk)
    if request.method != "POST":
        blocker = defer_blocker(appointment)
        if blocker:
            messages.error(request, blocker)
            return redirect("scheduling:appointment", pk=appointment.pk)
        return render(request, "scheduling/appointment_defer.html", {"appointment": appointment})
    try:
        appointment_defer(appointment=appointment)
    except SchedulingError as error:
        refuse(request, error)
        return redirect("scheduling:appointment", pk=appointment.pk)
    messages.warning(request, "The session is called off; re-plan the sessions still to come below.")
    return redirect(f"{reverse('scheduling:course_plan', kwargs={'pk': appointment.course_id})}?reflow=on")
