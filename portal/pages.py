"""The signed-in patient's pages: their visits, courses and emails; booking a course's next
session; moving or cancelling a visit. Every page takes the patient from `patient_required` and
reads records through `portal.selectors`' own_* functions, which answer 404 for anyone else's."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.errors import SchedulingError
from clinical.services.consent import unsigned_texts
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule
from scheduling.services.patient_requests import appointment_request_cancellation

from . import booking, selectors
from .forms import BookForm, SlotForm, patient_message, slot_value
from .session import patient_required
from .views import form_status, portal_page

SUN_PROMISE = "Confirmed online by the patient: no sun or tanning beds for the two weeks before."


@patient_required
def home(request, patient):
    return portal_page(
        request, "home.html", patient=patient, to_sign=unsigned_texts(patient=patient), **selectors.overview(patient)
    )


@patient_required
def visit(request, patient, appointment_id):
    appointment = selectors.own_appointment(patient, appointment_id)
    moves = booking.moves_by_patient(patient, [appointment.pk]).get(appointment.pk, 0)
    return portal_page(
        request, "visit.html", patient=patient, visit=selectors.visit(appointment, moves=moves, now=timezone.now()),
        call_us=booking.call_us(),
    )  # fmt: skip


@patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def book_next(request, patient, course_id):
    now = timezone.now()
    course = selectors.own_course(patient, course_id)
    plan = course.next
    form = BookForm(request.POST or None)
    if request.method == "POST" and plan is not None and form.is_valid():
        chosen = form.cleaned_data["slot"]
        slot = booking.next_session_slot_at(plan, now=now, **chosen)
        if slot is None:
            form.add_error("slot", "That time is no longer offered. Please choose another.")
        else:
            try:
                appointment = appointment_book(
                    patient=patient, kind="treatment", course=course.course, start=slot.start,
                    practitioner=slot.practitioner, room=slot.room, device=slot.device, booked_by=patient.user,
                    notes=SUN_PROMISE, now=now,
                )  # fmt: skip
            except SchedulingError as error:
                form.add_error(None, patient_message(error))
            else:
                messages.success(request, "Your session is booked. We have emailed you the details.")
                return redirect("portal:visit", appointment_id=appointment.pk)
    slots = booking.next_session_slots(plan, now=now) if plan is not None else []
    return portal_page(
        request, "book.html", patient=patient, course=course, plan=plan, form=form, call_us=booking.call_us(),
        slots=[(slot_value(slot), slot) for slot in slots], status=form_status(request, form, asked=plan is not None),
    )  # fmt: skip


@patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def move(request, patient, appointment_id):
    now = timezone.now()
    appointment = selectors.own_appointment(patient, appointment_id)
    moves = booking.moves_by_patient(patient, [appointment.pk]).get(appointment.pk, 0)
    refusal = booking.move_refusal(appointment, moves=moves, now=now)
    form = SlotForm(request.POST or None)
    if request.method == "POST" and not refusal and form.is_valid():
        slot = booking.move_slot_at(appointment, now=now, **form.cleaned_data["slot"])
        if slot is None:
            form.add_error("slot", "That time is no longer offered. Please choose another.")
        else:
            try:
                appointment_reschedule(
                    appointment=appointment, start=slot.start, practitioner=slot.practitioner, room=slot.room,
                    device=slot.device, by=patient.user, now=now,
                    caller_rule=booking.online_move_rule(patient, now=now),  # counted under the move's locks
                )  # fmt: skip
            except SchedulingError as error:
                form.add_error(None, patient_message(error))
            else:
                messages.success(request, "Your visit has moved. We have emailed you the new time.")
                return redirect("portal:visit", appointment_id=appointment.pk)
    slots = [] if refusal else booking.move_slots(appointment, now=now)
    return portal_page(
        request, "move.html", patient=patient, visit=selectors.visit(appointment, moves=moves, now=now),
        refusal=refusal, form=form, slots=[(slot_value(slot), slot) for slot in slots], call_us=booking.call_us(),
        status=form_status(request, form, asked=not refusal),
    )  # fmt: skip


@patient_required
@require_POST
def cancel(request, patient, appointment_id):
    appointment = selectors.own_appointment(patient, appointment_id)
    refusal = booking.change_refusal(appointment, now=timezone.now())
    if refusal:
        messages.error(request, f"{refusal} You can ask us to cancel it instead, or call us.")
        return redirect("portal:visit", appointment_id=appointment.pk)
    try:
        appointment_cancel(appointment=appointment, reason="Cancelled by the patient online")
    except SchedulingError as error:
        messages.error(request, patient_message(error))
    else:
        messages.success(request, "Your visit is cancelled. We have emailed you to confirm.")
    return redirect("portal:visit", appointment_id=appointment.pk)


@patient_required
@require_POST
def ask_to_cancel(request, patient, appointment_id):
    appointment = selectors.own_appointment(patient, appointment_id)
    try:
        appointment_request_cancellation(appointment=appointment)
    except SchedulingError as error:
        messages.error(request, patient_message(error))
    else:
        messages.success(request, "We have your request. Reception will cancel the visit and contact you to confirm.")
    return redirect("portal:visit", appointment_id=appointment.pk)
