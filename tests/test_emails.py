"""Patient emails: what each kind says, its headers, and the calendar invitation it carries."""

import email
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from icalendar import Calendar

from clinical.models import Contraindication
from clinical.services.sun_exposure import sun_exposure_record
from outbox import sending as outbox
from outbox.emails import build_message
from outbox.models import Notification
from outbox.planning import plan_sign_in
from patients.models import SkinType
from patients.services import patient_account
from scheduling.models import Appointment
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule
from tests.conftest import book_treatment, local
from tests.factories import AppointmentFactory, AssessmentFactory, PatientFactory

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def planned(appointment, kind):
    return Notification.objects.get(appointment=appointment, kind=kind, appointment_version=appointment.version)


def completed_session(clinic, start):
    return AppointmentFactory(
        kind="treatment",
        patient=clinic.patient,
        course=clinic.course,
        device=clinic.device,
        practitioner=clinic.practitioner,
        room=clinic.room,
        start=start,
        status=Appointment.Status.COMPLETED,
    )


def course_row(clinic, kind, appointment=None):
    return Notification.objects.create(
        kind=kind,
        key=f"test.{kind}",
        patient=clinic.patient,
        appointment=appointment,
        course=clinic.course,
        due_at=local(1, 8),
    )


def parsed(message):
    """The message as a mail server passes it on: bytes, read back with the email package."""
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def bodies(message):
    raw = parsed(message)
    text = raw.get_body(("plain",)).get_content()
    html = raw.get_body(("html",)).get_content()
    return text, html


def invite_parts(message):
    return invite_parts_of(parsed(message))


def invite_parts_of(raw):
    return [part for part in raw.walk() if part.get_content_type() == "text/calendar"]


def event_of(part):
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    return calendar, event


def consultation(clinic, start):
    return appointment_book(
        patient=PatientFactory(), kind="consultation", start=start, practitioner=clinic.practitioner, room=clinic.room
    )


@pytest.fixture
def treatment(clinic, frozen):
    """A treatment three weeks ahead, booked through the service, so its emails are planned."""
    return book_treatment(clinic, local(22, 10))


# --- What each kind says --------------------------------------------------------------------------


def test_the_confirmation_gives_time_place_practitioner_what_to_expect_and_the_three_links(treatment):
    message = build_message(planned(treatment, Kind.CONFIRMATION))
    text, html = bodies(message)
    assert message.subject == "Your laser treatment on Monday 22 March at 10:00 is booked"
    assert message.to == [treatment.patient.email]
    assert message.from_email == "Pico Laser Clinic <clinic@localhost>"
    for body in (text, html):
        assert "Hello Ada," in body
        assert "Monday 22 March 2027" in body and "10:00" in body
        assert "Pico Laser Clinic, 1 Example Street, London" in body
        assert str(treatment.practitioner) in body
        assert "protective eyewear" in body
        assert "30 to 60 minutes" in body
        assert "slight discomfort or a feeling of warmth" in body and "not painful" not in body
        # The sun rule reaches the patient before its first day.
        assert "For at least two weeks before your treatment, from Monday 8 March" in body
        assert "out of the sun" in body and "tanning beds" in body
        assert "chemical peels, waxing or other skin treatments that irritate the skin" in body
        assert "reminder before those two weeks begin" in body
        for purpose in ("confirm", "cancel", "prep", "unsubscribe"):
            assert f"http://127.0.0.1:8000/p/{purpose}/" in body


def test_a_consultation_confirmation_says_how_long_and_has_no_prep_link(clinic, frozen):
    visit = appointment_book(
        patient=PatientFactory(first_name="Grace"),
        kind="consultation",
        start=local(3, 11),
        practitioner=clinic.practitioner,
        room=clinic.room,
    )
    message = build_message(planned(visit, Kind.CONFIRMATION))
    text, html = bodies(message)
    assert message.subject == "Your consultation on Wednesday 3 March at 11:00 is booked"
    assert "The consultation takes about 30 minutes." in text
    for body in (text, html):
        assert "a dermatologist assesses your skin" in body
        assert "bring a list of the medicines you take" in body.replace("<strong>Please bring</strong>", "bring")
        assert "tanning beds" not in body and "days to prepare" not in body
    assert "/p/confirm/" in text and "/p/prep/" not in text and "/p/prep/" not in html
    _, event = event_of(invite_parts(message)[0])
    assert str(event["SUMMARY"]) == "Consultation at Pico Laser Clinic"


def test_the_prep_reminder_gives_the_rules_and_the_conditions_own_text(treatment):
    message = build_message(planned(treatment, Kind.PREP_REMINDER))
    text, html = bodies(message)
    assert message.subject == "Preparing for your treatment on Monday 22 March"
    prep_text = treatment.course.condition.prep_text
    for body in (text, html):
        assert "out of the sun" in body and "tanning beds" in body
        assert "chemical peels, waxing" in body
        assert "/p/prep/" in body
    assert prep_text in text
    # Three weeks ahead: the two sun-free weeks start later.
    assert "For at least two weeks before your treatment, from Monday 8 March" in text
    # What belongs to the day before waits for the day-before note.
    condition = treatment.course.condition
    assert condition.day_before_text not in text and condition.day_before_text not in html
    assert "make-up" not in text and "Shave" not in text


def test_a_prep_reminder_inside_the_two_weeks_says_from_now_on(clinic, frozen):
    soon = book_treatment(clinic, local(5, 10))  # Friday, four days away
    text, html = bodies(build_message(planned(soon, Kind.PREP_REMINDER)))
    assert "From now until your appointment" in text
    assert "From now until your appointment" in html


def test_the_day_before_note_gives_the_time_and_what_to_bring(treatment):
    message = build_message(planned(treatment, Kind.DAY_BEFORE))
    text, html = bodies(message)
    assert message.subject == "Your treatment on Monday 22 March at 10:00: a few reminders"
    for body in (text, html):
        assert "Monday 22 March 2027 at 10:00" in body
        assert "clean skin" in body and "no make-up, creams" in body
        assert "protective eyewear" in body and "30 to 60 minutes" in body
    condition = treatment.course.condition
    assert "Shave the area the day before" in condition.day_before_text
    assert condition.day_before_text in text and condition.day_before_text in html
    assert condition.prep_text not in text


def test_aftercare_gives_the_general_advice_and_the_conditions_text_without_an_invitation(clinic, frozen):
    session = completed_session(clinic, local(1, 7))
    message = build_message(course_row(clinic, Kind.AFTERCARE, appointment=session))
    text, html = bodies(message)
    assert message.subject == "Caring for your skin after your treatment"
    for body in (text, html):
        assert "fade within a few hours" in body
        assert "normal activities straight away" in body
        assert "SPF 30 or higher" in body and "Avoid the sun" in body
        assert "results within days" in body and "keep improving" in body
    assert clinic.course.condition.aftercare_text in text
    assert "/p/confirm/" not in text and "/p/cancel/" not in text
    assert invite_parts(message) == []


def test_the_next_session_prompt_gives_the_courses_interval_window_and_the_phone(clinic, frozen):
    completed_session(clinic, local(26, 10, month=2))  # Friday; tattoo removal: 42 to 56 days on
    message = build_message(course_row(clinic, Kind.NEXT_SESSION))
    text, html = bodies(message)
    assert message.subject == "Time to book your next session"
    for body in (text, html):
        assert "Friday 9 April" in body and "Friday 23 April 2027" in body
        assert "020 7946 0000" in body
        assert "1 of 8" in body
    assert invite_parts(message) == []


def test_a_next_session_prompt_after_the_window_closed_just_asks_to_book(clinic, frozen):
    completed_session(clinic, local(1, 10, month=1))  # its window closed on Friday 26 February
    text, _ = bodies(build_message(course_row(clinic, Kind.NEXT_SESSION)))
    assert "Please book it soon" in text and "best between" not in text


def test_the_reschedule_notice_gives_the_new_time_and_fresh_links(treatment):
    moved = appointment_reschedule(appointment=treatment, start=local(23, 14))
    message = build_message(planned(moved, Kind.RESCHEDULED))
    text, html = bodies(message)
    assert message.subject == "Your laser treatment has moved to Tuesday 23 March at 14:00"
    for body in (text, html):
        assert "Tuesday 23 March 2027" in body and "14:00" in body
        assert "/p/confirm/" in body and "/p/cancel/" in body
    assert "Monday 22 March" not in text


def test_the_cancellation_notice_gives_the_cancelled_time_and_how_to_rebook(treatment):
    appointment_cancel(appointment=treatment)
    message = build_message(Notification.objects.get(appointment=treatment, kind=Kind.CANCELLED))
    text, html = bodies(message)
    assert message.subject == "Your laser treatment on Monday 22 March at 10:00 is cancelled"
    for body in (text, html):
        assert "is cancelled" in body and "Monday 22 March 2027" in body
        assert "call us on" in body and "020 7946 0000" in body
        assert "/p/confirm/" not in body and "/p/cancel/" not in body and "/p/prep/" not in body


def test_no_email_carries_clinical_details_or_more_than_the_first_name(clinic, frozen):
    patient = clinic.patient
    patient.skin_type, patient.notes = 5, "Keloid history on the left arm"
    patient.save()
    AssessmentFactory(patient=patient, skin_type=5, contraindications=["isotretinoin", "keloid_tendency"])
    appointment = book_treatment(clinic, local(22, 10))
    rows = list(Notification.objects.filter(appointment=appointment))
    completed_session(clinic, local(26, 10, month=2))
    rows += [course_row(clinic, Kind.AFTERCARE, appointment=appointment), course_row(clinic, Kind.NEXT_SESSION)]
    forbidden = [patient.last_name, patient.phone, "skin type", "Fitzpatrick", "Keloid", "wavelength", "fluence"]
    forbidden += [label for _, label in SkinType.choices] + [label for _, label in Contraindication.choices]
    assert len(rows) == 5
    for row in rows:
        message = build_message(row)
        raw = message.message().as_bytes().decode()
        text, html = bodies(message)
        for secret in forbidden:
            assert secret.lower() not in (message.subject + text + html + raw).lower(), (row.kind, secret)


def test_subjects_and_calendar_entries_name_no_condition(clinic, frozen):
    """A subject shows on a locked phone's screen and a calendar entry on a shared calendar."""
    appointment = book_treatment(clinic, local(22, 10))
    for row in Notification.objects.filter(appointment=appointment):
        message = build_message(row)
        calendars = [part for part in message.message().walk() if part.get_content_type() == "text/calendar"]
        seen = message.subject + "".join(part.get_payload(decode=True).decode() for part in calendars)
        assert "tattoo" not in seen.lower(), row.kind
        assert "treatment" in seen.lower()
        assert "laser treatment" in seen.lower() or not calendars


def test_plain_text_is_not_html_escaped_and_html_is(clinic, frozen):
    clinic.patient.first_name = "Siobhán <O'Neill>"
    clinic.patient.save()
    text, html = bodies(build_message(planned(book_treatment(clinic, local(22, 10)), Kind.CONFIRMATION)))
    assert "Hello Siobhán <O'Neill>," in text
    assert "Hello Siobhán &lt;O&#x27;Neill&gt;," in html


def test_times_are_shown_in_clinic_time_across_the_clock_change(clinic, frozen):
    summer = book_treatment(clinic, local(29, 10))  # the day after clocks go forward: 10:00 BST is 09:00 UTC
    message = build_message(planned(summer, Kind.CONFIRMATION))
    text, _ = bodies(message)
    assert "Monday 29 March 2027, 10:00 to 10:30" in text
    _, event = event_of(invite_parts(message)[0])
    assert event.decoded("DTSTART") == datetime(2027, 3, 29, 9, tzinfo=UTC)
    assert "DTSTART:20270329T090000Z" in event.to_ical().decode()


# --- Headers ------------------------------------------------------------------------------------


def test_headers_name_the_row_and_offer_one_click_unsubscribe(treatment):
    row = planned(treatment, Kind.CONFIRMATION)
    first, again = parsed(build_message(row)), parsed(build_message(row))
    assert first["Message-ID"] == again["Message-ID"] == row.message_id
    # A long header is folded onto a continuation line; unfolded, it is the one URL in angle brackets.
    assert re.fullmatch(r"<http://127\.0\.0\.1:8000/p/unsubscribe/[^/>]+/>", first["List-Unsubscribe"].strip())
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["To"] == treatment.patient.email
    other = parsed(build_message(planned(treatment, Kind.DAY_BEFORE)))
    assert other["Message-ID"] != first["Message-ID"]


def test_each_message_draws_boundaries_of_its_own_that_separate_its_parts(treatment):
    row = planned(treatment, Kind.CONFIRMATION)
    first, again = parsed(build_message(row)), parsed(build_message(row))
    boundaries = [part.get_boundary() for message in (first, again) for part in message.walk() if part.is_multipart()]
    assert len(boundaries) == len(set(boundaries)) == 4  # mixed and alternative, twice
    assert [part.get_content_type() for part in first.walk() if not part.is_multipart()] == [
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]


def test_links_follow_the_clinics_base_url_and_ids_survive_a_change_of_host(clinic, treatment, settings):
    row = planned(treatment, Kind.CONFIRMATION)
    before = parsed(build_message(row))
    settings.CLINIC_BASE_URL = "https://booking.example-clinic.co.uk"
    after = parsed(build_message(row))
    assert after["List-Unsubscribe"].strip().startswith("<https://booking.example-clinic.co.uk/p/unsubscribe/")
    assert after["Message-ID"] == before["Message-ID"]
    [(_, old)], [(_, new)] = map(event_of, invite_parts_of(before)), map(event_of, invite_parts_of(after))
    assert str(new["UID"]) == str(old["UID"]) == str(treatment.calendar_uid)
    # A row planned under the new host names it.
    later = consultation(clinic, local(24, 10))
    assert planned(later, Kind.CONFIRMATION).message_id.endswith("@booking.example-clinic.co.uk>")


def test_every_link_in_every_email_is_absolute_on_the_clinics_base_url(clinic, frozen, settings):
    settings.CLINIC_BASE_URL = "https://booking.example-clinic.co.uk"
    appointment = book_treatment(clinic, local(22, 10))
    rows = list(Notification.objects.filter(appointment=appointment))
    visit = appointment_book(
        patient=clinic.patient, kind="consultation", start=local(3, 11), practitioner=clinic.practitioner,
        room=clinic.room,
    )  # fmt: skip
    moved = appointment_reschedule(appointment=visit, start=local(4, 14))
    rows.append(planned(moved, Kind.RESCHEDULED))
    appointment_cancel(appointment=moved)
    rows.append(Notification.objects.get(appointment=moved, kind=Kind.CANCELLED))
    session = completed_session(clinic, local(26, 10, month=2))
    rows += [course_row(clinic, Kind.AFTERCARE, appointment=session), course_row(clinic, Kind.NEXT_SESSION)]
    rows.append(course_row(clinic, Kind.SKIN_CHECK, appointment=session))
    patient_account(patient=clinic.patient)
    rows.append(plan_sign_in(clinic.patient, now=frozen))
    sun_exposure_record(patient=clinic.patient, first_day=date(2027, 3, 10), last_day=date(2027, 3, 12), what="skiing")
    rows.append(planned(appointment, Kind.SUN_EXPOSURE))
    held = appointment_book(
        patient=PatientFactory(), kind="consultation", start=local(5, 11), practitioner=clinic.practitioner,
        room=clinic.room, hold_until=frozen + timedelta(minutes=30),
    )  # fmt: skip
    rows.append(planned(held, Kind.HOLD))
    # The waitlist's offer is checked the same way in tests/test_waitlist.py.
    assert {row.kind for row in rows} == set(Kind.values) - {Kind.WAITLIST_OFFER}
    for row in rows:
        message = build_message(row)
        text, html = bodies(message)
        links = re.findall(r'(?:href|src)="([^"]*)"', html) + re.findall(r"(?:https?://|/)[^\s<>\"]*/[^\s<>\"]*", text)
        links = [link for link in links if not link.startswith("mailto:")]
        assert links, row.kind
        for link in links:
            assert link.startswith("https://booking.example-clinic.co.uk/"), (row.kind, link)


# --- The calendar invitation --------------------------------------------------------------------


def test_the_confirmation_carries_a_request_invitation(treatment):
    [part] = invite_parts(build_message(planned(treatment, Kind.CONFIRMATION)))
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    calendar, event = event_of(part)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == str(treatment.calendar_uid)
    assert str(event["CLASS"]) == "PRIVATE"
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == treatment.start and event.decoded("DTEND") == treatment.end
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert str(event["SUMMARY"]) == "Laser treatment at Pico Laser Clinic"
    assert str(event["LOCATION"]) == "Pico Laser Clinic, 1 Example Street, London"
    assert str(event["ORGANIZER"]) == "mailto:clinic@localhost"
    assert str(event["ATTENDEE"]) == f"mailto:{treatment.patient.email}"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "DTSTAMP" in event


def test_a_rescheduled_appointments_invitation_keeps_its_uid_and_raises_the_sequence(treatment):
    [before] = invite_parts(build_message(planned(treatment, Kind.CONFIRMATION)))
    moved = appointment_reschedule(appointment=treatment, start=local(23, 14))
    [after] = invite_parts(build_message(planned(moved, Kind.RESCHEDULED)))
    (_, old), (calendar, new) = event_of(before), event_of(after)
    assert str(new["UID"]) == str(old["UID"])
    assert (int(old["SEQUENCE"]), int(new["SEQUENCE"])) == (1, 2)
    assert str(calendar["METHOD"]) == after.get_param("method") == "REQUEST"
    assert new.decoded("DTSTART") == local(23, 14)


def test_a_cancellation_carries_a_cancel_invitation(treatment):
    appointment_cancel(appointment=treatment)
    [part] = invite_parts(build_message(Notification.objects.get(appointment=treatment, kind=Kind.CANCELLED)))
    assert part.get_param("method") == "CANCEL"
    calendar, event = event_of(part)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == str(treatment.calendar_uid)
    assert int(event["SEQUENCE"]) == 2


def test_building_a_message_asks_the_database_nothing_more_than_the_senders_load(treatment, django_assert_num_queries):
    row = Notification.objects.select_related(
        "patient", "course__condition", "appointment__course__condition", "appointment__practitioner__user",
        "appointment__room",
    ).get(pk=planned(treatment, Kind.CONFIRMATION).pk)  # fmt: skip
    with django_assert_num_queries(0):
        build_message(row).message().as_bytes()


# --- Through the outbox ---------------------------------------------------------------------------


def test_sending_a_due_row_puts_this_message_in_the_outbox(treatment):
    row = planned(treatment, Kind.CONFIRMATION)
    assert outbox.claim_due() == [row.pk]
    assert outbox.send(row.pk) == "sent"
    [sent] = mail.outbox
    assert sent.subject == "Your laser treatment on Monday 22 March at 10:00 is booked"
    assert sent.extra_headers["Message-ID"] == row.message_id
    assert len(invite_parts(sent)) == 1


# --- Where calendars and mail clients look ----------------------------------------------------------


def test_the_invitation_is_an_alternative_of_the_message_where_outlook_reads_a_meeting_request(treatment):
    raw = parsed(build_message(planned(treatment, Kind.CONFIRMATION)))
    assert raw.get_content_type() == "multipart/mixed"
    [alternative] = [part for part in raw.walk() if part.get_content_type() == "multipart/alternative"]
    parts = list(alternative.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html", "text/calendar"]
    calendar_part = parts[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_disposition() is None  # inline, not an attachment
    [attachment] = [part for part in raw.iter_attachments()]
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == calendar_part.get_payload(decode=True)
    _, event = event_of(attachment)
    assert str(event["UID"]) == str(treatment.calendar_uid)


def test_reminders_carry_no_invitation_so_a_short_prep_booking_gets_one_request(clinic, frozen, time_machine):
    time_machine.move_to(local(1, 12))  # after the day-before note's hour: all three are due at once
    soon = book_treatment(clinic, local(2, 10))
    rows = Notification.objects.filter(appointment=soon, due_at__lte=local(1, 12))
    assert {row.kind for row in rows} == {Kind.CONFIRMATION, Kind.PREP_REMINDER, Kind.DAY_BEFORE}
    requests = {}
    for row in rows:
        raw = parsed(build_message(row))
        requests[row.kind] = len(invite_parts_of(raw)) + len(list(raw.iter_attachments()))
    assert requests == {Kind.CONFIRMATION: 2, Kind.PREP_REMINDER: 0, Kind.DAY_BEFORE: 0}  # the part and its file


def test_message_ids_and_calendar_uids_are_random_not_the_row_id(clinic, frozen):
    first, second = book_treatment(clinic, local(22, 10)), consultation(clinic, local(24, 10))
    assert first.calendar_uid != second.calendar_uid
    rows = list(Notification.objects.filter(appointment__in=(first, second)))
    ids = [parsed(build_message(row))["Message-ID"] for row in rows]
    assert len(set(ids)) == len(rows) == 4
    for row, message_id in zip(rows, ids, strict=True):
        assert re.fullmatch(r"<[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}@127\.0\.0\.1>", message_id)
        assert f"-{row.pk}@" not in message_id
    _, event = event_of(invite_parts(build_message(planned(first, Kind.CONFIRMATION)))[0])
    assert str(event["UID"]) == str(first.calendar_uid) and str(first.pk) not in str(event["UID"]).split("-")


def test_the_date_header_is_utc_with_plus_zero_and_the_event_is_private(treatment, frozen):
    raw = parsed(build_message(planned(treatment, Kind.CONFIRMATION)))
    assert raw["Date"] == "Mon, 01 Mar 2027 08:00:00 +0000"
    assert raw["Date"].datetime == frozen
    calendar, event = event_of(invite_parts_of(raw)[0])
    assert "CLASS:PRIVATE" in calendar.to_ical().decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrating_gives_existing_rows_ids_of_their_own(clinic):
    """The data steps of outbox 0002 and scheduling 0009, run on rows made before them. (Its flush
    afterwards must not re-create the groups and content types under new ids: the next test restores
    the database as it was.)"""
    book_treatment(clinic, local(22, 10))
    consultation(clinic, local(24, 10))
    before = ("scheduling", "0008_appointment_session_number_derived"), ("outbox", "0001_initial")
    after = ("scheduling", "0009_appointment_calendar_uid"), ("outbox", "0002_notification_message_id")
    MigrationExecutor(connection).migrate(list(before))
    with connection.cursor() as cursor:
        columns = [
            column.name for column in connection.introspection.get_table_description(cursor, "scheduling_appointment")
        ]
    assert "calendar_uid" not in columns
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(after))
    uids = list(Appointment.objects.values_list("calendar_uid", flat=True))
    message_ids = list(Notification.objects.values_list("message_id", flat=True))
    assert len(uids) == len(set(uids)) == 2 and all(uid.version == 4 for uid in uids)
    assert len(message_ids) == len(set(message_ids)) == 4
    assert all(re.fullmatch(r"<[0-9a-f-]{36}@127\.0\.0\.1>", message_id) for message_id in message_ids)
    # Back to the latest of every app, so the tests after this one find every table (the waitlist's
    # depend on a later outbox migration than `after`).
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


# --- What the emails say, against the treatment's sequence --------------------------------------------


def test_a_booking_inside_the_two_weeks_says_how_many_days_of_prep_remain_and_asks_about_sun(clinic, frozen):
    soon = book_treatment(clinic, local(5, 10))  # booked on Monday for Friday
    for kind in (Kind.CONFIRMATION, Kind.PREP_REMINDER):
        text, html = bodies(build_message(planned(soon, kind)))
        for body in (text, html):
            assert "Your treatment is in 4 days, so you have 4 days to prepare instead of the usual two weeks" in body
            assert "if the area has been in the sun or on a tanning bed in the past two weeks" in body
            assert "020 7946 0000" in body
            assert "From now until your appointment" in body
            assert "For at least two weeks" not in body


def test_a_move_earlier_after_the_prep_reminder_went_says_how_many_days_remain(clinic, frozen, time_machine):
    appointment = book_treatment(clinic, local(29, 10))
    Notification.objects.filter(appointment=appointment).update(status=Notification.Status.SENT)
    time_machine.move_to(local(15, 9))  # the prep reminder went on 13 March
    moved = appointment_reschedule(appointment=appointment, start=local(19, 10), acknowledge_short_prep=True)
    assert not Notification.objects.filter(appointment=moved, kind=Kind.PREP_REMINDER, appointment_version=2)
    text, html = bodies(build_message(planned(moved, Kind.RESCHEDULED), now=local(15, 9)))
    for body in (text, html):
        assert "Your treatment is in 4 days, so you have 4 days to prepare instead of the usual two weeks" in body
        assert "in the sun or on a tanning bed in the past two weeks" in body


def test_a_move_that_keeps_two_weeks_gives_the_new_first_day_of_prep(treatment):
    moved = appointment_reschedule(appointment=treatment, start=local(29, 14))
    text, _ = bodies(build_message(planned(moved, Kind.RESCHEDULED)))
    assert "For at least two weeks before your treatment, from Monday 15 March" in text
    assert "days to prepare" not in text


def test_a_treatment_today_says_there_is_no_time_left_to_prepare(clinic, frozen):
    today = book_treatment(clinic, local(1, 15))
    text, _ = bodies(build_message(planned(today, Kind.CONFIRMATION)))
    assert "Your treatment is today, so there is no time left to prepare for it." in text


def test_the_prompt_near_the_windows_end_says_it_closes_on_its_date(clinic, time_machine):
    time_machine.move_to(local(12, 10, month=4), tick=False)  # the second prompt's time
    completed_session(clinic, local(1, 10))  # tattoo removal: the window closes on Monday 26 April
    message = build_message(course_row(clinic, Kind.NEXT_SESSION))
    text, html = bodies(message)
    assert message.subject == "Book your next session by Monday 26 April"
    for body in (text, html):
        assert "closes on" in body and "Monday 26 April 2027" in body
        assert "on or before that day" in body


def test_the_first_prompt_gives_the_window_without_saying_it_closes(clinic, time_machine):
    time_machine.move_to(local(3, 10), tick=False)
    completed_session(clinic, local(1, 10))
    message = build_message(course_row(clinic, Kind.NEXT_SESSION))
    assert message.subject == "Time to book your next session"
    assert "closes on" not in bodies(message)[0]


def test_aftercare_after_the_last_planned_session_says_follow_ups_may_come_after_the_results_review(clinic, frozen):
    clinic.course.planned_sessions = 2
    clinic.course.save()
    first = completed_session(clinic, local(1, 10, month=1))
    last = completed_session(clinic, local(26, 10, month=2))
    for session, finished in ((first, False), (last, True)):
        Notification.objects.filter(kind=Kind.AFTERCARE).delete()
        text, html = bodies(build_message(course_row(clinic, Kind.AFTERCARE, appointment=session)))
        for body in (text, html):
            assert ("last planned session" in body) is finished
            assert ("follow-up sessions may be recommended" in body) is finished
            assert ("results review" in body) is finished
