"""Booking pages: the next session of a course, a whole course plan, and consultations or reviews.

A slot finder page reads where to search from its query string and books from its POST body; the
forms post back to the same address, so a refusal re-renders the same search with the message.
"""

from datetime import timedelta

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone

from clinic.roles import ability_required
from clinical.models import TreatmentCourse
from patients.selectors import clean_query, patients_matching
from scheduling.forms import (
    CourseBookSearchForm,
    PatientSearchForm,
    PlanBookForm,
    PlanEntryFormSet,
    PlanSearchForm,
    SlotBookForm,
    VisitBookForm,
    VisitSearchForm,
)
from scheduling.models import Appointment, number_sessions
from scheduling.services import (
    PREP_WINDOW,
    SchedulingError,
    appointment_book,
    course_book_plan,
    course_plan,
    find_slots,
    session_length,
    sun,
    test_patch,
)
from scheduling.services.course_rules import takes_another_session
from scheduling.services.freecells import BOOKABLE, cell_state

from . import refuse, sun_override

SEARCH_DAYS = 28
SLOTS_SHOWN = 10
VISIT_MINUTES = 30
PATIENTS_SHOWN = 20


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "D j M Y H:i")


def _valid(form) -> dict:
    """The fields of a search form that are filled in correctly; a wrong one shows why on the page."""
    if not form.is_bound:
        return {}
    form.is_valid()
    return form.cleaned_data


def _load_course(pk: int) -> TreatmentCourse:
    return get_object_or_404(TreatmentCourse.objects.select_related("patient", "condition"), pk=pk)


@ability_required("book")
def course_book(request, pk):
    """The next free slots for the course's next session; a slot's button books it."""
    course = _load_course(pk)
    conflicts, posted, sun_refused = [], None, None
    if request.method == "POST":
        form = SlotBookForm(request.POST)
        posted = request.POST.get("start")
        # A test patch slot says so; the service decides whether the course may have it.
        kind = Appointment.Kind.TEST_PATCH if request.POST.get("kind") == "test_patch" else Appointment.Kind.TREATMENT
        if form.is_valid():
            try:
                appointment = appointment_book(
                    patient=course.patient, kind=kind, course=course, booked_by=request.user, **form.cleaned_data
                )
            except SchedulingError as error:
                conflicts = refuse(request, error)
                sun_refused = sun_override(error, form)
                course.refresh_from_db()
            else:
                if kind == Appointment.Kind.TEST_PATCH:
                    messages.success(request, f"Test patch booked for {_when(appointment.start)} with "
                                              f"{appointment.practitioner}.")  # fmt: skip
                    return redirect("scheduling:course_book", pk=course.pk)
                messages.success(
                    request,
                    f"Session {appointment.session_number} of {course.planned_sessions} booked for "
                    f"{_when(appointment.start)} with {appointment.practitioner}.",
                )
                return redirect("scheduling:appointment", pk=appointment.pk)
        else:
            messages.error(request, "That slot could not be read; pick one again.")
    sessions = list(
        course.appointments.filter(kind=Appointment.Kind.TREATMENT)
        .select_related("practitioner__user", "room", "device")
        .order_by("start", "pk")
    )
    number_sessions(sessions)  # they are all the course's sessions
    held = sum(1 for a in sessions if a.is_active)
    bookable = takes_another_session(course, held=held)
    step = test_patch.patch_step(course)
    # A course that needs a test patch and has none offers patch slots first (test_patch.py).
    patch_due = bookable and not held and step.needed and not step.booked
    kind = Appointment.Kind.TEST_PATCH if patch_due else Appointment.Kind.TREATMENT
    # A first session waits out the two sun-free weeks unless asked otherwise; a later one waits
    # for the course's interval, which the slot search keeps by itself.
    prep_ready = None if held or patch_due else timezone.now() + PREP_WINDOW
    first_day = timezone.localdate(prep_ready) if prep_ready else timezone.localdate()
    search = CourseBookSearchForm(request.GET or None, initial={"date": first_day})
    wanted = _valid(search)
    picked = wanted.get("start") if not wanted.get("date") else None  # a time clicked on the day board
    picked_refusal, slots, refused = None, [], False
    if bookable and picked:
        terms = {"course": course, "kind": kind, **_picked_resources(wanted)}
        try:
            slots = picked_slot(picked, **terms)
        except SchedulingError as error:
            refuse(request, error)
            refused = True
        else:
            if not slots:
                picked_refusal = why_not_free(picked, patient=course.patient, **terms)
                if picked_refusal == BOOKABLE:  # free, but not for this course's session
                    exposure = sun.exposure_on(course.patient_id, timezone.localdate(picked))
                    picked_refusal = sun.reason(exposure) if exposure else (
                        "it is outside the course's interval from its previous session")  # fmt: skip
    if bookable and not slots and not refused:
        try:
            slots = find_slots(
                course=course,
                kind=kind,
                start_date=wanted.get("date") or (timezone.localdate(picked) if picked else first_day),
                earliest=picked or (None if wanted.get("date") else prep_ready),
                days=SEARCH_DAYS,
                limit=SLOTS_SHOWN,
                **_picked_resources(wanted),
            )
        except SchedulingError as error:
            refuse(request, error)
    context = {
        "course": course,
        "sessions": sessions,
        "held": held,
        "bookable": bookable,
        "search": search,
        "slots": slots,
        "picked": picked,
        "picked_practitioner": wanted.get("practitioner"),
        "picked_resource": wanted.get("room") or wanted.get("device"),
        "picked_refusal": picked_refusal,
        "posted": posted,
        "conflicts": conflicts,
        "sun_refused": sun_refused,
        "patch_due": patch_due,
        "patch_words": test_patch.step_words(step),
        "slot_kind": kind if patch_due else "",
        "patch_minutes": test_patch.patch_length().seconds // 60,
    }
    return render(request, "scheduling/course_book.html", context)


@ability_required("book")
def course_plan_view(request, pk):
    """Every session still to book, proposed by `course_plan`; one button books them all or none."""
    course = _load_course(pk)
    search = PlanSearchForm(request.GET or None)
    confirm = PlanBookForm(request.POST or None)
    conflicts = []
    if request.method == "POST":
        entries = PlanEntryFormSet(request.POST, prefix="session")
        if entries.is_valid() and confirm.is_valid():
            try:
                booked = course_book_plan(
                    course=course,
                    sessions=[entry.cleaned_data for entry in entries],
                    acknowledge_short_prep=confirm.cleaned_data["acknowledge_short_prep"],
                    booked_by=request.user,
                )
            except SchedulingError as error:
                conflicts = refuse(request, error)
                course.refresh_from_db()
            else:
                messages.success(
                    request,
                    f"Booked {len(booked)} session{'s' if len(booked) != 1 else ''}, "
                    f"from {_when(booked[0].start)} to {_when(booked[-1].start)}.",
                )
                return redirect("scheduling:course_book", pk=course.pk)
        else:
            messages.error(request, "The plan could not be read; here is a fresh one.")
    plan = []
    try:
        terms = _valid(search)
        plan = course_plan(course=course, start_date=terms.get("start"), reflow=bool(terms.get("reflow")))
    except SchedulingError as error:
        refuse(request, error)
    entries = PlanEntryFormSet(
        prefix="session",
        initial=[
            {
                "start": s.start,
                "practitioner": s.slot.practitioner,
                "room": s.slot.room,
                "device": s.slot.device,
                "appointment": s.appointment,
            }
            for s in plan
        ],
    )
    context = {
        "course": course,
        "search": search,
        "confirm": confirm,
        "entries": entries,
        "rows": list(zip(plan, entries.forms, strict=False)),  # an empty formset still has its min_num form
        "short_prep": any(s.slot.short_prep for s in plan),
        "conflicts": conflicts,
    }
    return render(request, "scheduling/course_plan.html", context)


@ability_required("book")
def book_visit(request):
    """Consultations and reviews: find the patient, then a free 30-minute slot, and book it.

    The day board links here with `start` and `practitioner` when an empty slot is clicked."""
    query = request.GET.copy()
    # A treatment cell of the day board: find the patient here, then book on their course.
    treatment = query.get("kind") == Appointment.Kind.TREATMENT
    if treatment:
        query.pop("kind")
    search = VisitSearchForm(query or None)
    wanted = _valid(search)
    patient = wanted.get("patient")
    conflicts, posted = [], None
    if request.method == "POST":
        form = VisitBookForm(request.POST)
        posted = request.POST.get("start")
        if form.is_valid():
            try:
                appointment = appointment_book(
                    duration_minutes=VISIT_MINUTES, booked_by=request.user, **form.cleaned_data
                )
            except SchedulingError as error:
                conflicts = refuse(request, error)
            else:
                messages.success(
                    request,
                    f"{appointment.get_kind_display()} booked for {appointment.patient.first_name} "
                    f"{appointment.patient.last_name} on {_when(appointment.start)} with {appointment.practitioner}.",
                )
                return redirect("scheduling:appointment", pk=appointment.pk)
        else:
            messages.error(request, "That slot could not be read; pick one again.")
    start = wanted.get("start")
    picked = start if start and not wanted.get("date") else None  # a time clicked on the day board
    context = {
        "search": search,
        "patient": patient,
        "kind": wanted.get("kind", Appointment.Kind.CONSULTATION),
        "start": start,
        "picked": picked,
        "picked_practitioner": wanted.get("practitioner"),
        "picked_resource": wanted.get("room") or wanted.get("device"),
        "treatment": treatment,
        "conflicts": conflicts,
        "posted": posted,
    }
    if patient is None:
        context.update(_patient_search(request))
    else:
        first_day = wanted.get("date") or (timezone.localdate(start) if start else timezone.localdate())
        terms = dict(
            kind=context["kind"],
            length=timedelta(minutes=VISIT_MINUTES),
            practitioner=wanted.get("practitioner"),
            room=wanted.get("room"),
            patient=patient,
        )
        exact = []
        if picked and not treatment:
            exact = picked_slot(picked, **terms)
            if not exact:
                context["picked_refusal"] = why_not_free(picked, **terms)
        context["slots"] = exact or find_slots(
            start_date=first_day, days=SEARCH_DAYS, earliest=picked, limit=SLOTS_SHOWN, **terms
        )
        context["courses"] = _course_links(request, patient, first_day, wanted, picked)
        context["change_patient_url"] = _here(request, patient=None)
    return render(request, "scheduling/book_visit.html", context)


def picked_slot(picked, **terms) -> list:
    """The one slot at exactly `picked` (a time clicked on the day board), or none."""
    return find_slots(
        start_date=timezone.localdate(picked),
        days=1,
        earliest=picked,
        latest_start=picked + timedelta(seconds=1),
        limit=1,
        **terms,
    )


# What a day board cell's link may carry into the booking pages.
PICKED_TERMS = ("start", "practitioner", "room", "device", "kind")


def _picked_resources(wanted: dict) -> dict:
    """The practitioner, room and laser a search is kept to (any, where none was picked)."""
    return {name: wanted.get(name) for name in ("practitioner", "room", "device")}


def why_not_free(picked, *, kind, practitioner=None, room=None, device=None, patient=None, course=None, **_terms):
    """What is missing at `picked`, in the board's words ("no room free")."""
    return cell_state(
        start=picked,
        practitioner_id=practitioner.pk if practitioner else None,
        room_id=room.pk if room else None,
        device_id=device.pk if device else None,
        kind=kind,
        patient=patient,
        condition=course.condition_id if course else None,
        length=session_length(course) if course else None,
    )


def _here(request, **changes) -> str:
    """This page's address with some query parameters changed (None drops one)."""
    query = request.GET.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = value
    return f"{request.path}?{query.urlencode()}" if query else request.path


def _patient_search(request) -> dict:
    finder = PatientSearchForm(request.GET or None)
    query = clean_query(_valid(finder).get("q", ""))
    patients = [(p, _here(request, patient=p.pk, q=None)) for p in patients_matching(query)[:PATIENTS_SHOWN]]
    keep = {name: request.GET[name] for name in PICKED_TERMS if request.GET.get(name)}
    return {"finder": finder, "searched": bool(query), "patients": patients, "keep": keep}


def _course_links(request, patient, day, wanted: dict, picked=None) -> list:
    """The patient's courses that take bookings, with their booking pages at the same day (at the
    time, and with the practitioner, room or laser, picked on the day board, when one was)."""
    query = QueryDict(mutable=True)
    if picked is not None:
        query["start"] = timezone.localtime(picked).strftime("%Y-%m-%dT%H:%M")
    else:
        query["date"] = day.isoformat()
    for name in ("practitioner", "room", "device"):
        if wanted.get(name) is not None:
            query[name] = wanted[name].pk
    courses = patient.courses.filter(status__in=TreatmentCourse.BOOKABLE_STATUSES).select_related("condition")
    return [(c, f"{reverse('scheduling:course_book', kwargs={'pk': c.pk})}?{query.urlencode()}") for c in courses]
