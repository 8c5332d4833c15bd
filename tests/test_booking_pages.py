"""The appointment page and the booking pages: roles, slot finders, refusals shown as messages.

The clock stands at 08:00 on Monday 1 March 2027; the dermatologist works Monday to Friday 09-17.
"""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from clinical.models import TreatmentCourse
from scheduling.models import Appointment
from scheduling.services import appointment_book
from tests.conftest import local
from tests.factories import AppointmentFactory, PatientFactory, TreatmentCourseFactory, UserFactory


def book_session(clinic, start, *, patient=None, course=None):
    return appointment_book(
        patient=patient or clinic.patient,
        kind=Appointment.Kind.TREATMENT,
        course=course or clinic.course,
        start=start,
        practitioner=clinic.practitioner,
        room=clinic.room,
        device=clinic.device,
        acknowledge_short_prep=True,
    )


def slot_data(slot, **extra):
    """What a slot's Book button posts."""
    data = {
        "start": slot.start.isoformat(),
        "practitioner": slot.practitioner.pk,
        "room": slot.room.pk,
        "device": slot.device.pk if slot.device else "",
    }
    return data | extra


def texts(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def clinic_manager(db):
    """A manager by role only (the suite's `manager` persona is also a superuser, who passes every check)."""
    user = UserFactory(username="practice-manager")
    user.groups.add(Group.objects.get_or_create(name="Manager")[0])
    return user


@pytest.fixture
def reception(client, receptionist, frozen):
    client.force_login(receptionist)
    return client


@pytest.fixture
def session(clinic, frozen):
    """Session 1 of Ada's course, today at 10:00."""
    return book_session(clinic, local(1, 10))


def appointment_url(appointment, action=""):
    name = f"scheduling:appointment_{action}" if action else "scheduling:appointment"
    return reverse(name, kwargs={"pk": appointment.pk})


# Roles


def _pages(clinic, appointment):
    course = clinic.course.pk
    return {
        "appointment": (appointment_url(appointment), True),
        "reschedule": (appointment_url(appointment, "reschedule"), False),
        "course_book": (reverse("scheduling:course_book", kwargs={"pk": course}), False),
        "course_plan": (reverse("scheduling:course_plan", kwargs={"pk": course}), False),
        "book_visit": (reverse("scheduling:book_visit"), False),
    }


@pytest.mark.parametrize("page", ["appointment", "reschedule", "course_book", "course_plan", "book_visit"])
def test_pages_let_in_the_roles_that_use_them(client, clinic, session, receptionist, clinic_manager, page):
    url, managers_too = _pages(clinic, session)[page]
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    for user in (receptionist, clinic.practitioner.user):
        client.force_login(user)
        assert client.get(url).status_code == 200
    client.force_login(clinic_manager)
    assert client.get(url).status_code == (200 if managers_too else 403)
    client.force_login(UserFactory(username="outsider"))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("action", ["check_in", "cancel", "no_show"])
def test_only_reception_and_dermatologists_act_on_an_appointment(client, session, clinic_manager, action):
    url = appointment_url(session, action)
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(clinic_manager)
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(session.practitioner.user)
    assert client.get(url).status_code == 405
    session.refresh_from_db()
    assert session.status == Appointment.Status.BOOKED


def test_a_manager_sees_the_appointment_without_its_actions(client, session, clinic_manager):
    client.force_login(clinic_manager)
    page = client.get(appointment_url(session)).content.decode()
    assert "Tattoo removal 1/8" in page
    assert "Check in" not in page


# The appointment page


def test_the_appointment_page_shows_the_patient_course_and_session(reception, session):
    page = reception.get(appointment_url(session)).content.decode()
    assert f'href="/patients/{session.patient_id}/"' in page
    assert "Tattoo removal 1/8" in page
    assert "Booked" in page and "10:00" in page
    assert "inside the 14-day prep window" in page


def test_check_in_with_a_reported_contraindication_flags_the_session(reception, session):
    data = {"no_sun": "on", "clean_skin": "on", "eyewear": "on", "no_peels_or_waxing": "on", "pregnancy": "on"}
    response = reception.post(appointment_url(session, "check_in"), data, follow=True)
    session.refresh_from_db()
    assert session.status == Appointment.Status.CHECKED_IN
    assert session.notes.startswith("Flagged at check-in")
    assert "pregnancy or breastfeeding" in session.notes
    assert "flagged for the dermatologist" in texts(response)[0]
    assert "Flagged" in reception.get(reverse("scheduling:day_board")).content.decode()


def test_check_in_without_sun_ruled_out_flags_it_too_but_a_clean_screen_does_not(reception, clinic, session):
    reception.post(appointment_url(session, "check_in"), {"clean_skin": "on"}, follow=True)
    session.refresh_from_db()
    assert session.status == Appointment.Status.CHECKED_IN
    assert "sun or tanning beds" in session.notes
    visit = AppointmentFactory(start=local(1, 14), practitioner=clinic.practitioner, room=clinic.room)
    all_clear = {"no_sun": "on", "no_peels_or_waxing": "on", "clean_skin": "on", "eyewear": "on"}
    response = reception.post(appointment_url(visit, "check_in"), all_clear, follow=True)
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CHECKED_IN
    assert visit.notes == ""
    assert texts(response) == [f"{visit.patient.first_name} is checked in."]


def test_check_in_on_another_day_is_refused_and_keeps_the_ticked_boxes(reception, clinic, frozen):
    later = book_session(clinic, local(22, 10))
    response = reception.post(appointment_url(later, "check_in"), {"recent_tan": "on"})
    assert response.status_code == 200
    assert texts(response) == ["Patients are checked in on the day of their appointment."]
    assert response.context["check_in_form"]["recent_tan"].value() is True
    later.refresh_from_db()
    assert later.status == Appointment.Status.BOOKED and later.notes == ""


def test_cancelling_needs_a_reason_and_happens_once(reception, session):
    url = appointment_url(session, "cancel")
    response = reception.post(url, {"reason": ""})
    assert response.status_code == 200
    assert response.context["cancel_form"].errors["reason"]
    assert texts(response) == ["The appointment is not cancelled: give a reason of up to 200 characters."]
    response = reception.post(url, {"reason": "Patient unwell"}, follow=True)
    session.refresh_from_db()
    assert session.status == Appointment.Status.CANCELLED
    assert session.cancel_reason == "Patient unwell"
    assert "cancelled" in texts(response)[0]
    again = reception.post(url, {"reason": "Twice"})
    assert again.status_code == 200
    assert texts(again) == ["A cancelled appointment cannot be cancelled."]


def test_a_no_show_waits_for_the_start(reception, session, time_machine):
    url = appointment_url(session, "no_show")
    response = reception.post(url, follow=True)
    assert texts(response) == ["A no-show can be recorded once the appointment has started."]
    time_machine.move_to(local(1, 10, 20), tick=False)
    response = reception.post(url, follow=True)
    session.refresh_from_db()
    assert session.status == Appointment.Status.NO_SHOW
    assert "no-show" in texts(response)[0]


def test_rescheduling_lists_the_practitioners_free_times_and_moves_there(reception, clinic, frozen):
    appointment = book_session(clinic, local(22, 10))
    url = appointment_url(appointment, "reschedule")
    assert reception.get(url).context["slots"][0].start == local(22, 9)  # its own time is free to it
    response = reception.get(url, {"date": "2027-03-23"})
    slots = response.context["slots"]
    assert slots and all(s.practitioner == clinic.practitioner for s in slots)
    target = next(s for s in slots if s.start == local(23, 11))
    response = reception.post(f"{url}?date=2027-03-23", slot_data(target), follow=True)
    appointment.refresh_from_db()
    assert appointment.start == local(23, 11)
    assert texts(response)[0].startswith("Moved to Tue 23 Mar 2027 11:00")


def test_rescheduling_into_the_prep_window_needs_the_acknowledgement(reception, clinic, frozen):
    appointment = book_session(clinic, local(22, 10))
    url = appointment_url(appointment, "reschedule")
    slot = next(s for s in reception.get(url, {"date": "2027-03-03"}).context["slots"] if s.start == local(3, 9))
    assert slot.short_prep
    refused = reception.post(url, slot_data(slot))
    assert refused.status_code == 200
    assert "less than 14 days away" in texts(refused)[0]
    assert refused.context["posted"] == slot.start.isoformat()
    reception.post(url, slot_data(slot, acknowledge_short_prep="on"))
    appointment.refresh_from_db()
    assert appointment.start == local(3, 9)
    assert appointment.short_prep_acknowledged_at is not None


def test_rescheduling_onto_a_taken_time_names_the_resource(reception, clinic, frozen):
    appointment = book_session(clinic, local(22, 10))
    url = appointment_url(appointment, "reschedule")
    slot = next(s for s in reception.get(url, {"date": "2027-03-23"}).context["slots"] if s.start == local(23, 11))
    other = AppointmentFactory(start=local(23, 11), practitioner=clinic.practitioner)
    response = reception.post(url, slot_data(slot))
    assert texts(response) == ["That time is already taken for the practitioner."]
    assert f'href="/appointments/{other.pk}/"' in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.start == local(22, 10)


def test_a_past_search_day_is_refused_with_a_message(reception, clinic, frozen):
    appointment = book_session(clinic, local(22, 10))
    response = reception.get(appointment_url(appointment, "reschedule"), {"date": "2027-02-01"})
    assert response.context["search"].errors["date"] == ["Pick today or a later day."]
    assert response.context["slots"][0].start == local(22, 9)  # from the appointment's own day instead


# Booking a course's next session


def course_book_url(course, **query):
    url = reverse("scheduling:course_book", kwargs={"pk": course.pk})
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else url


def test_the_slot_finder_books_the_next_session_which_then_shows_on_the_day_board(reception, clinic):
    response = reception.get(course_book_url(clinic.course, date="2027-03-22"))
    slots = response.context["slots"]
    assert len(slots) == 10
    assert slots[0].start == local(22, 9) and not slots[0].short_prep
    response = reception.post(course_book_url(clinic.course, date="2027-03-22"), slot_data(slots[0]))
    appointment = Appointment.objects.get(course=clinic.course)
    assert response.status_code == 302
    assert response.url == appointment_url(appointment)
    assert appointment.start == local(22, 9)
    assert appointment.booked_by.username == "reception"
    board = reception.get(reverse("scheduling:day_board_date", kwargs={"day": date(2027, 3, 22)}))
    assert "Tattoo removal 1/8" in board.content.decode()
    assert [c.appointment for c in board.context["columns"][0].cards] == [appointment]


def test_a_first_session_is_searched_for_after_the_two_prep_weeks(reception, clinic):
    response = reception.get(course_book_url(clinic.course))
    assert response.context["slots"][0].start == local(15, 9)
    assert not any(slot.short_prep for slot in response.context["slots"])


def test_a_first_session_searched_mid_morning_still_leaves_fourteen_whole_days(reception, clinic, time_machine):
    time_machine.move_to(local(1, 10, 20), tick=False)
    slots = reception.get(course_book_url(clinic.course)).context["slots"]
    assert slots[0].start == local(15, 10, 30)
    assert not any(slot.short_prep for slot in slots)


def test_a_slot_inside_the_prep_window_needs_the_acknowledgement(reception, clinic):
    today = course_book_url(clinic.course, date="2027-03-01")
    response = reception.get(today)
    slot = response.context["slots"][0]
    assert slot.start == local(1, 9) and slot.short_prep
    assert "Short prep" in response.content.decode()
    refused = reception.post(today, slot_data(slot))
    assert refused.status_code == 200
    assert "less than 14 days away" in texts(refused)[0]
    assert 'class="form-check-input is-invalid"' in refused.content.decode()
    assert not Appointment.objects.exists()
    reception.post(today, slot_data(slot, acknowledge_short_prep="on"))
    assert Appointment.objects.get().short_prep_acknowledged_by.username == "reception"


def test_a_time_already_past_is_refused(reception, clinic):
    slot = reception.get(course_book_url(clinic.course)).context["slots"][0]
    response = reception.post(course_book_url(clinic.course), slot_data(slot, start=local(1, 7).isoformat()))
    assert texts(response) == ["That time has already passed."]
    assert not Appointment.objects.exists()


def test_a_slot_taken_meanwhile_is_refused_and_names_the_resource(reception, clinic):
    slot = reception.get(course_book_url(clinic.course, date="2027-03-22")).context["slots"][0]
    other = AppointmentFactory(start=slot.start, room=clinic.room)
    response = reception.post(course_book_url(clinic.course, date="2027-03-22"), slot_data(slot))
    assert texts(response) == ["That time is already taken for the room."]
    assert response.context["conflicts"][0].appointment_id == other.pk
    assert not Appointment.objects.filter(course=clinic.course).exists()
    # The finder moves on to the next free time.
    assert response.context["slots"][0].start > slot.start


def test_a_garbled_slot_is_refused_without_an_error_page(reception, clinic):
    response = reception.post(course_book_url(clinic.course), {"start": "soon", "practitioner": "x"})
    assert response.status_code == 200
    assert texts(response) == ["That slot could not be read; pick one again."]


def test_a_course_nobody_approved_offers_no_slots(reception, clinic):
    proposed = TreatmentCourseFactory(patient=clinic.patient)
    response = reception.get(course_book_url(proposed))
    assert response.context["slots"] == []
    assert "has not approved this course" in response.content.decode()


# Planning and booking a whole course


def plan_url(course, **query):
    url = reverse("scheduling:course_plan", kwargs={"pk": course.pk})
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else url


def plan_data(response, **extra):
    """What the plan page's button posts: every proposed session."""
    entries = response.context["entries"]
    data = {f"session-{k}": v for k, v in entries.management_form.initial.items()}
    for form in entries.forms:
        for name, value in form.initial.items():
            if value is None:  # an empty hidden field, as the browser posts it
                data[form.add_prefix(name)] = ""
            else:
                data[form.add_prefix(name)] = value.isoformat() if name == "start" else value.pk
    return data | extra


def test_the_plan_books_every_remaining_session_at_once(reception, clinic):
    response = reception.get(plan_url(clinic.course))
    rows = response.context["rows"]
    assert [session.sequence for session, _ in rows] == list(range(1, 9))
    assert "Short prep" not in response.content.decode()
    booked = reception.post(plan_url(clinic.course), plan_data(response), follow=True)
    sessions = Appointment.objects.filter(course=clinic.course).with_session_numbers().order_by("start")
    assert [a.session_number for a in sessions] == list(range(1, 9))
    assert [a.start for a in sessions] == [session.start for session, _ in rows]
    assert texts(booked)[0].startswith("Booked 8 sessions")
    clinic.course.refresh_from_db()
    assert clinic.course.status == TreatmentCourse.Status.ACTIVE
    again = reception.get(plan_url(clinic.course))
    assert again.context["rows"] == []


def test_a_plan_with_one_taken_time_books_nothing(reception, clinic):
    response = reception.get(plan_url(clinic.course))
    third = response.context["rows"][2][0]
    other = TreatmentCourseFactory(approved=True, patient=PatientFactory())
    book_session(clinic, third.start, patient=other.patient, course=other)
    refused = reception.post(plan_url(clinic.course), plan_data(response))
    assert refused.status_code == 200
    assert "already taken" in texts(refused)[0]
    assert not Appointment.objects.filter(course=clinic.course).exists()
    assert refused.context["rows"]  # a fresh proposal around the clash


def test_a_plan_inside_the_prep_window_needs_the_acknowledgement(reception, clinic):
    response = reception.get(plan_url(clinic.course, start="2027-03-02"))
    assert response.context["short_prep"]
    refused = reception.post(plan_url(clinic.course, start="2027-03-02"), plan_data(response))
    assert "less than 14 days away" in texts(refused)[0]
    assert not Appointment.objects.filter(course=clinic.course).exists()
    reception.post(plan_url(clinic.course, start="2027-03-02"), plan_data(response, acknowledge_short_prep="on"))
    assert Appointment.objects.filter(course=clinic.course).count() == 8


def test_a_proposed_course_has_no_plan(reception, clinic):
    proposed = TreatmentCourseFactory(patient=clinic.patient)
    response = reception.get(plan_url(proposed))
    assert texts(response) == ["Only an approved course can be planned."]
    assert response.context["rows"] == []


# Consultations and reviews


def test_a_consultation_is_booked_from_an_empty_slot_on_the_day_board(reception, clinic):
    search = reverse("scheduling:book_visit")
    start = f"start=2027-03-15T11%3A15&practitioner={clinic.practitioner.pk}"
    response = reception.get(f"{search}?{start}&q=byron")
    [(patient, link)] = response.context["patients"]
    assert patient == clinic.patient
    response = reception.get(link)
    slot = response.context["slots"][0]
    assert slot.start == local(15, 11, 15) and slot.end == local(15, 11, 45)
    booked = reception.post(link, slot_data(slot, patient=patient.pk, kind="consultation"), follow=True)
    appointment = Appointment.objects.get(kind=Appointment.Kind.CONSULTATION)
    assert appointment.start == local(15, 11, 15) and appointment.patient == clinic.patient
    assert texts(booked)[0].startswith("Consultation booked for Ada Byron")
    board = reception.get(reverse("scheduling:day_board_date", kwargs={"day": date(2027, 3, 15)}))
    assert [c.appointment for c in board.context["columns"][0].cards] == [appointment]


def test_the_visit_finder_offers_the_patients_courses_and_says_when_nobody_matches(reception, clinic):
    search = reverse("scheduling:book_visit")
    assert "No patient matches" in reception.get(search, {"q": "nobody"}).content.decode()
    response = reception.get(search, {"patient": clinic.patient.pk, "kind": "review"})
    assert response.context["kind"] == "review"
    assert [course for course, _ in response.context["courses"]] == [clinic.course]


def test_a_visit_onto_a_taken_time_names_the_resource(reception, clinic):
    link = f"{reverse('scheduling:book_visit')}?patient={clinic.patient.pk}&start=2027-03-15T11:00"
    slot = reception.get(link).context["slots"][0]
    AppointmentFactory(start=slot.start, practitioner=clinic.practitioner, room=clinic.room)
    response = reception.post(link, slot_data(slot, patient=clinic.patient.pk, kind="consultation"))
    assert texts(response) == ["That time is already taken for the practitioner and room."]
    assert not Appointment.objects.filter(patient=clinic.patient).exists()


def test_a_flagged_session_deferred_by_the_dermatologist_is_re_planned(
    clinic, dermatologist, client, frozen, time_machine
):
    from scheduling.services import appointment_check_in, course_book_plan, course_plan

    plan = course_plan(course=clinic.course)
    entries = [dict(start=p.start, practitioner=p.slot.practitioner, room=p.slot.room, device=p.slot.device)
               for p in plan[:3]]  # fmt: skip
    first, second, third = course_book_plan(course=clinic.course, sessions=entries)
    time_machine.move_to(first.start, tick=False)
    appointment_check_in(appointment=first, flags=["recent tan"])
    client.force_login(dermatologist.user)
    page = client.get(f"/appointments/{first.pk}/").content.decode()
    assert "Not today: call it off and re-plan the course" in page
    response = client.post(f"/appointments/{first.pk}/defer/")
    assert response.status_code == 302
    assert response.url == f"/courses/{clinic.course.pk}/plan/?reflow=on"
    first.refresh_from_db()
    assert first.status == "cancelled"
    replan = client.get(response.url)
    rows = replan.context["rows"]
    assert [session.appointment for session, _ in rows[:2]] == [second, third]  # the booked ones move
    client.post(response.url, plan_data(replan, acknowledge_short_prep="on"))
    second.refresh_from_db()
    assert second.version == 2  # moved by the re-planned course, not booked again
    assert clinic.course.appointments.filter(status__in=Appointment.ACTIVE_STATUSES).count() == 8
