"""A patient's data export and erasure on request."""

import io
import json
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from outbox.models import Notification
from patients.models import Patient
from records.privacy import patient_erase, patient_export
from scheduling.models import Appointment
from scheduling.services import appointment_cancel, appointment_check_in, appointment_complete
from tests.conftest import book_treatment, local

pytestmark = pytest.mark.django_db

# Details unlikely to appear anywhere else in a database dump by chance.
GRACE = {
    "first_name": "Gwendolyn",
    "last_name": "Quarterbridge",
    "email": "gwen.quarterbridge@example.org",
    "phone": "+44 7700 983451",
    "date_of_birth": date(1961, 7, 19),
    "notes": "Prefers the Quarterbridge entrance",
}
TRACES = ["Gwendolyn", "Quarterbridge", "gwen.quarterbridge", "7700 983451", "983451", "1961-07-19"]


@pytest.fixture
def history(clinic, frozen, manager, client):
    """Grace's record after a year of care: edited on the pages (so the audit trail holds her old
    details), assessed with notes, a session done with its record, another cancelled, emails planned."""
    patient = clinic.patient
    client.force_login(manager)
    for field, value in GRACE.items():
        setattr(patient, field, value)
    patient.save()  # outside a request: an audit entry without an actor
    assessment = clinic.course.assessment  # the one her course was proposed on
    assessment.notes = "Gwendolyn mentions a tan"
    assessment.save()
    done = book_treatment(clinic, local(1, 10))
    appointment_check_in(appointment=done, flags=["recent tan"], remarks="Quarterbridge holiday in May")
    appointment_complete(
        appointment=done,
        record={"wavelength_nm": 1064, "fluence_j_cm2": "2.5", "spot_size_mm": "4", "pulses": 900,
                "skin_reaction": "mild_erythema", "notes": "Gwendolyn tolerated it well",
                "recorded_by": clinic.practitioner},
    )  # fmt: skip
    later = book_treatment(clinic, local(19, 10, month=4))
    appointment_cancel(appointment=later, reason="Gwendolyn is moving house")
    return patient


def dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def test_the_export_holds_every_record_of_the_patient_and_is_audited(history, manager):
    data = json.loads(patient_export(patient=history, by=manager))
    assert data["patient"]["email"] == GRACE["email"] and data["patient"]["date_of_birth"] == "1961-07-19"
    assert [a["notes"] for a in data["assessments"]] == ["Gwendolyn mentions a tan"]
    assert [a["status"] for a in data["appointments"]] == ["completed", "cancelled"]
    assert data["appointments"][0]["session_record"]["pulses"] == 900
    assert data["appointments"][1]["session_record"] is None
    assert {e["kind"] for e in data["emails"]} >= {"confirmation", "aftercare"}
    assert data["courses"][0]["condition"] == "Tattoo removal"
    entry = LogEntry.objects.get_for_object(history).filter(action=LogEntry.Action.ACCESS).get()
    assert (entry.actor, entry.additional_data) == (manager, {"event": "data export"})


def test_erasure_leaves_no_name_email_phone_or_birth_date_anywhere_in_the_database(history, manager):
    assert all(trace in dump() for trace in TRACES)  # they are there before
    patient_erase(patient=history, by=manager, reason="Written request of 1 March 2027")
    everything = dump()
    for trace in TRACES:
        assert trace not in everything


def test_erasure_keeps_the_anonymous_history_and_records_itself(history, manager):
    patient = patient_erase(patient=history, by=manager, reason="Written request of 1 March 2027")
    assert str(patient) == f"Erased patient {patient.pk}"
    assert (patient.email, patient.phone, patient.date_of_birth, patient.email_consent) == ("", "", None, False)
    assert Appointment.objects.filter(patient=patient).count() == 2
    assert patient.assessments.get().skin_type  # clinical facts stay, free text goes
    assert patient.assessments.get().notes == ""
    record = Appointment.objects.get(patient=patient, status="completed").session_record
    assert (record.pulses, record.notes) == (900, "")
    assert not Notification.objects.filter(patient=patient, status__in=["pending", "queued"]).exists()
    last = LogEntry.objects.get_for_object(patient).order_by("pk").last()
    assert last.actor == manager
    assert last.additional_data == {"event": "erasure on request", "reason": "Written request of 1 March 2027"}


def test_erasure_waits_for_visits_still_to_come_and_happens_once(clinic, frozen, manager):
    upcoming = book_treatment(clinic, local(22, 10))
    with pytest.raises(ValidationError, match="1 visit still to come"):
        patient_erase(patient=clinic.patient, by=manager, reason="Request")
    appointment_cancel(appointment=upcoming, reason="Leaving the clinic")
    patient_erase(patient=clinic.patient, by=manager, reason="Request")
    with pytest.raises(ValidationError, match="already erased"):
        patient_erase(patient=clinic.patient, by=manager, reason="Request")


def test_a_manager_exports_and_erases_from_the_patient_page(client, history, manager):
    client.force_login(manager)
    page = client.get(reverse("patients:detail", args=[history.pk])).content.decode()
    assert "Export all data" in page and "Erase on request" in page
    download = client.post(reverse("patients:export", args=[history.pk]))
    assert download["Content-Type"] == "application/json"
    assert download["Content-Disposition"] == f'attachment; filename="patient-{history.pk}-2027-03-01.json"'
    assert json.loads(download.content)["patient"]["last_name"] == "Quarterbridge"

    erase = reverse("patients:erase", args=[history.pk])
    wrong = client.post(erase, {"confirm": history.pk + 1, "reason": "Request"})
    assert "not this patient&#x27;s record number" in wrong.content.decode()
    assert Patient.objects.get(pk=history.pk).erased_at is None
    done = client.post(erase, {"confirm": history.pk, "reason": "Request of 1 March"}, follow=True)
    assert "personal details are erased" in done.content.decode()
    assert "details erased" in done.content.decode()
    assert Patient.objects.get(pk=history.pk).erased_at is not None


def test_nobody_else_sees_the_buttons(client, clinic, receptionist, dermatologist):
    for user in (receptionist, dermatologist.user):
        client.force_login(user)
        page = client.get(reverse("patients:detail", args=[clinic.patient.pk])).content.decode()
        assert "Export all data" not in page and "Erase on request" not in page


def test_an_erased_patient_cannot_be_booked_or_edited(clinic, frozen, manager):
    from patients.services import patient_update
    from scheduling.services import SchedulingError

    patient_erase(patient=clinic.patient, by=manager, reason="Request")
    clinic.patient.refresh_from_db()
    with pytest.raises(SchedulingError, match="erased on request"):
        book_treatment(clinic, local(22, 10))
    with pytest.raises(ValidationError, match="erased on request"):
        patient_update(patient=clinic.patient, phone="+44 7700 900000")
