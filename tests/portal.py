"""Helpers for the patient-page tests: a patient with a course whose next session is to book."""

import re
from datetime import timedelta

from django.urls import reverse
from sesame.utils import get_token

from outbox.links import PORTAL_SCOPE
from patients.services import patient_account
from scheduling.models import Appointment
from tests.conftest import local
from tests.factories import AppointmentFactory


def sign_in_path(patient) -> str:
    """A fresh sign-in link's path for the patient, as the email carries it."""
    patient_account(patient=patient)
    patient.refresh_from_db()
    return reverse("portal:sign_in_link", args=[get_token(patient.user, scope=PORTAL_SCOPE)])


def sign_in(client, patient):
    """Sign `client` in as `patient` through their emailed link; returns the sign-in answer."""
    response = client.post(sign_in_path(patient))
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    return response


def completed_session(clinic, *, patient=None, course=None, start=None):
    """A done session of the clinic's course, on Monday 1 February 2027 unless told: the tattoo-removal
    window for the next one (6 to 8 weeks) is then 15 to 29 March, and the clock (1 March) is 14 days
    before its first day."""
    return AppointmentFactory(
        kind=Appointment.Kind.TREATMENT, patient=patient or clinic.patient, course=course or clinic.course,
        practitioner=clinic.practitioner, room=clinic.room, device=clinic.device,
        start=start or local(1, 10, month=2), status=Appointment.Status.COMPLETED,
    )  # fmt: skip


def link_in(text: str) -> str:
    """The sign-in link's path in an email's text."""
    url = next(url for url in re.findall(r"https?://\S+", text) if "/me/sign-in/" in url)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


ONE_MINUTE = timedelta(minutes=1)
