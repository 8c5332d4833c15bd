"""Every staff page passes axe-core (bundled by axe-playwright-python, so no network) in Chromium,
with realistic data on it, for every role that can reach it: no violation of impact "serious" or
"critical". The pages come from the URL conf: each named pattern is visited here or listed in
`NOT_PAGES` with the reason, so a new staff page cannot be forgotten."""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import get_resolver, reverse
from django.utils import timezone

from aftercare.models import SkinCheck
from clinic.roles import ABILITIES, DERMATOLOGIST, MANAGER, RECEPTION
from clinical.models import ConsentText, SunExposure, TreatmentCourse
from clinical.services.consent import consent_sign
from outbox.models import Notification
from scheduling.models import Appointment
from tests.browser import log_in, settle
from tests.conftest import MONDAY_MORNING, book_treatment, local
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    SessionRecordFactory,
    TreatmentCourseFactory,
    UserFactory,
    area,
)
from tests.test_permissions import ROUTES, _named_routes

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BLOCKING = ("serious", "critical")
# No preload: to read style sheets through the CSSOM axe-core injects <style> elements, which the
# Content Security Policy rightly refuses (and the `page` fixture fails on). The one rule that needs
# it, css-orientation-lock, has nothing to find: no style sheet of ours has an orientation query.
AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False}
ANONYMOUS = "anonymous"
USERNAMES = {RECEPTION: "reception", DERMATOLOGIST: "dr.derm", MANAGER: "manager"}


@dataclass(frozen=True)
class Visit:
    """One page to check: a URL name (or None for a page no pattern names, such as the 404), its
    arguments as keys of the data set, a query string, and an optional form on it to submit empty
    (the browser's own validation switched off) so that the server's error messages are checked too."""

    name: str | None
    kwargs: dict = field(default_factory=dict)
    query: str = ""
    submit: str | None = None
    roles: tuple | None = None  # None: every role the permission matrix lets in
    path: str | None = None
    status: int = 200
    search: str | None = None  # typed into the navigation bar's patient search, to check its results

    def url(self, data) -> str:
        if self.path:
            return self.path
        kwargs = {key: data[value] if isinstance(value, str) else value for key, value in self.kwargs.items()}
        return reverse(self.name, kwargs=kwargs) + (f"?{self.query.format(**data)}" if self.query else "")


DAY = MONDAY_MORNING.date()
BOOKERS = (RECEPTION, DERMATOLOGIST)
VISITS = [
    Visit("home", search="Byron"),
    Visit("scheduling:day_board"),
    Visit("scheduling:day_board_date", {"day": DAY}),
    Visit("scheduling:day_board_date", {"day": DAY}, query="by=room"),
    Visit("scheduling:day_board_date", {"day": DAY}, query="by=device"),
    Visit("scheduling:day_board_date", {"day": DAY}, query="kind=treatment"),
    Visit("scheduling:day_list", {"day": DAY}),
    Visit("scheduling:week_board"),
    Visit("scheduling:week_board_date", {"day": DAY}),
    Visit("scheduling:week_board_date", {"day": DAY}, query="by=room"),
    Visit("scheduling:week_board_date", {"day": DAY}, query="by=device"),
    Visit("scheduling:appointment", {"pk": "booked"}),
    # A refusal at the desk: a cancellation without a reason (no-show is not offered before the visit).
    Visit("scheduling:appointment", {"pk": "booked"}, roles=BOOKERS, submit="main form[action$='/cancel/']"),
    Visit("scheduling:appointment", {"pk": "checked_in"}),
    Visit("scheduling:appointment", {"pk": "completed"}),
    Visit("scheduling:appointment", {"pk": "cancelled"}),
    Visit("scheduling:appointment_reschedule", {"pk": "booked"}),
    # The clinic's tablet at check-in (Ada has the treatment consent to sign), and a signature's record.
    Visit("scheduling:consent_tablet", {"pk": "booked"}, submit="main form[method=post]"),
    Visit("patients:consent_record", {"patient_id": "patient", "pk": "consent_signature"}),
    Visit("scheduling:course_book", {"pk": "course"}),
    Visit("scheduling:course_plan", {"pk": "unbooked"}),
    Visit("scheduling:book_visit", query="q=Byron"),
    Visit("scheduling:book_visit", query="patient={patient}"),
    Visit("queues:index"),
    Visit("queues:waitlist"),
    Visit("queues:skin"),
    Visit("waitlist:join", {"patient_id": "patient"}, submit="main form[method=post]"),
    Visit("patients:search", query="q=Byron"),
    Visit("patients:create", submit="main form[method=post]"),
    Visit("patients:detail", {"patient_id": "patient"}),
    Visit("patients:edit", {"patient_id": "patient"}),
    Visit("patients:erase", {"patient_id": "other_patient"}),
    Visit("patients:sun_exposure_add", {"patient_id": "patient"}, submit="main form[method=post]"),
    Visit("patients:sun_exposure_edit", {"patient_id": "patient", "pk": "sun_exposure"}),
    Visit("clinical:assess", {"patient_id": "patient"}, submit="main form[method=post]"),
    Visit("clinical:propose", {"assessment_id": "assessment"}),
    Visit("clinical:review"),
    Visit("clinical:results"),
    Visit("clinical:change", {"course_id": "proposed"}),
    Visit("clinical:record", {"appointment_id": "checked_in"}, submit="main form[method=post]"),
    Visit("clinical:photos_upload", {"appointment_id": "checked_in"}),  # no photo consent: the refusal
    Visit("clinical:course_photos", {"course_id": "course"}),
    Visit("clinical:teaching_photos"),
    Visit("clinical:course", {"course_id": "course"}),
    # A completed course awaiting its results review: the chart, and the review's form refused empty.
    Visit("clinical:course", {"course_id": "finished"}, submit="main form[method=post]"),
    Visit("scheduling:appointment", {"pk": "patch"}),
    Visit("clinical:patch_result", {"appointment_id": "patch"}, submit="main form[method=post]"),
    # The confirmation pages before "not today" and approving a course.
    Visit("scheduling:appointment_defer", {"pk": "checked_in"}, roles=(DERMATOLOGIST,)),
    Visit("clinical:approve", {"course_id": "proposed"}, roles=(DERMATOLOGIST,)),
    Visit("admin:index", roles=(MANAGER,)),
    Visit("admin:catalogue_room_changelist", roles=(MANAGER,)),
    Visit("admin:catalogue_room_change", {"object_id": "room"}, roles=(MANAGER,)),
    Visit("admin:catalogue_workinghours_add", roles=(MANAGER,), submit="#workinghours_form"),
    Visit("login", roles=(ANONYMOUS,), submit="main form[method=post]"),
    Visit(None, path="/no-such-page/", roles=(ANONYMOUS, RECEPTION, DERMATOLOGIST, MANAGER), status=404),
    # The 403 page: a receptionist opening the dermatologists' queue.
    Visit("clinical:review", roles=(RECEPTION,), status=403),
]

# Named patterns that are not pages a person reads, with the reason.
NOT_PAGES = {
    "logout": "POST only: the button in the navigation bar",
    "scheduling:appointment_check_in": "POST only: the form on the appointment page",
    "scheduling:appointment_cancel": "POST only: the form on the appointment page",
    "scheduling:appointment_no_show": "POST only: the form on the appointment page",
    "scheduling:appointment_complete": "POST only: the form on the appointment page",
    "clinical:course_decision": "POST only: the results review's form on the course page",
    "scheduling:appointment_move": "POST only: a card dropped on a board (static/js/board-dnd.js), answers JSON",
    "scheduling:board_changes": "a board's poll: 204 with no body, or a header telling it to fetch itself again",
    "patients:export": "POST only, and a JSON download, not a page",
    "clinical:photo_file": "a photo's bytes, not a page (tests/test_photos_browser.py checks the pages showing them)",
    "clinical:photo_remove": "POST only: the form under each photo on the session's photos page",
    "patients:sun_exposure_remove": "POST only: the form on the sun exposure page",
    "scheduling:sun_exposure_confirm": "POST only: the form in the work queues",
    "second_factor:renew_recovery_codes": "POST only: the button on the second-factor page",
    "second_factor:manage": "checked in tests/test_second_factor_browser.py, with an app set up",
    "second_factor:verify": "checked in tests/test_second_factor_browser.py: it needs a sign-in half done",
    "second_factor:enrol": "checked in tests/test_second_factor_browser.py",
    "second_factor:recovery_codes": "checked in tests/test_second_factor_browser.py: shown once, after enrolment",
    "api-schema": "the OpenAPI document, a download",
    "api-docs": "the API's Swagger UI for developers, its markup is the vendor's",
    "patient_links:confirm": "a patient's page (signed link), not a staff page",
    "patient_links:cancel": "a patient's page (signed link), not a staff page",
    "patient_links:prep": "a patient's page (signed link), not a staff page",
    "patient_links:unsubscribe": "a patient's page (signed link), not a staff page",
    "consultation:book": "the public booking page: axe-core in tests/test_portal_consultation_browser.py",
    "consultation:held": "the public booking page: axe-core in tests/test_portal_consultation_browser.py",
    "consultation:confirm": "the public booking page: axe-core in tests/test_portal_consultation_browser.py",
    "waitlist:leave": "POST only: the button on the patient's waitlist page",
    "waitlist_links:offer": "a patient's page (signed link), not a staff page: tests/test_waitlist_browser.py",
    "aftercare_links:answer": "a patient's page (signed link), not a staff page: tests/test_skin_check_browser.py",
    "queues:skin_handled": "POST only: the button in the skin-check queue",
}
NOT_PAGE_NAMESPACES = {
    "api": "the JSON API: data, not pages",
    "portal": "the patients' own pages, checked signed in as a patient by tests/test_portal_browser.py",
    "admin": "Django's admin: its index, a list, a change and an add form are visited above; the other "
    "models' pages are the same templates",
}


def _abilities():
    """The ability each page needs, from the permission matrix's table of routes."""
    return {name: ability for name, _, method, ability in ROUTES if method == "get"}


def roles_for(visit) -> tuple:
    if visit.roles is not None:
        return visit.roles
    abilities = _abilities()
    assert visit.name in abilities, f"{visit.name} is not in tests/test_permissions.py's ROUTES: give it an ability"
    ability = abilities[visit.name]
    if ability not in ABILITIES:  # any signed-in user
        return (RECEPTION, DERMATOLOGIST, MANAGER)
    return ABILITIES[ability]


def test_every_named_staff_url_is_checked_or_said_not_to_be_a_page():
    names = set(_named_routes(get_resolver().url_patterns)) | {"admin:index"}
    visited = {visit.name for visit in VISITS if visit.name}
    left = {
        name
        for name in names - visited - set(NOT_PAGES)
        if name.split(":", 1)[0] not in NOT_PAGE_NAMESPACES or ":" not in name
    }
    assert left == set(), f"pages neither checked by axe-core nor listed in NOT_PAGES: {sorted(left)}"
    assert visited & set(NOT_PAGES) == set()
    assert set(NOT_PAGES) <= names, "NOT_PAGES names a pattern that no longer exists"


def test_the_patterns_said_to_be_post_only_refuse_a_get(client):
    """So that NOT_PAGES cannot go stale: a pattern that starts to answer GET is a page to check.
    Any id will do: a POST-only view refuses a GET before it looks the record up."""
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    arguments = {name: kwargs for name, kwargs, *_ in ROUTES}
    for name, reason in NOT_PAGES.items():
        if reason.startswith("POST only"):
            url = reverse(
                name, kwargs={key: 1 if key != "key" else uuid.UUID(int=1) for key in arguments.get(name, {})}
            )
            assert client.get(url).status_code == 405, f"{name} answers GET: check it for axe-core in VISITS"


@pytest.fixture
def clinic_day(clinic, receptionist, manager, time_machine):
    """A Monday with one of each kind of card on the board, a patient with courses, sessions,
    assessments and emails, and an entry in each work queue."""
    time_machine.move_to(MONDAY_MORNING, tick=True)
    derm, room, device, ada = clinic.practitioner, clinic.room, clinic.device, clinic.patient
    treatment = dict(
        kind=Appointment.Kind.TREATMENT, patient=ada, course=clinic.course, practitioner=derm, room=room, device=device
    )
    past = dict(treatment, start=local(1, 10) - timedelta(days=49))
    completed = AppointmentFactory(**past, status=Appointment.Status.COMPLETED)
    SessionRecordFactory(appointment=completed, outcome_score=30)
    SkinCheck.objects.create(appointment=completed, answer="other", text="itchy", answered_at=timezone.now())
    booked = book_treatment(clinic, local(1, 10))
    today = dict(practitioner=derm, room=room)
    grace = TreatmentCourseFactory(approved=True, patient=PatientFactory(first_name="Grace"), areas=[area()])
    checked_in = AppointmentFactory(
        **dict(treatment, patient=grace.patient, course=grace), start=local(1, 9), status=Appointment.Status.CHECKED_IN
    )
    done_today = AppointmentFactory(
        **today, patient=PatientFactory(first_name="Mary"), start=local(1, 11), status=Appointment.Status.COMPLETED
    )
    AppointmentFactory(
        **today, patient=PatientFactory(first_name="Alan"), start=local(1, 12), status=Appointment.Status.CONFIRMED
    )
    cancelled = AppointmentFactory(
        **today, patient=PatientFactory(first_name="Emmy"), start=local(1, 13), status=Appointment.Status.CANCELLED
    )
    AppointmentFactory(
        **today, patient=PatientFactory(first_name="Kurt"), start=local(1, 14), status=Appointment.Status.NO_SHOW
    )
    AppointmentFactory(
        **today, patient=PatientFactory(first_name="Hedy"), start=local(2, 15), cancel_requested_at=timezone.now()
    )
    unbooked = TreatmentCourseFactory(approved=True, patient=PatientFactory(first_name="Ida"), areas=[area()])
    # Ida's test patch last Friday, its result still to record.
    patch_start = local(1, 9) - timedelta(days=3)
    patch = AppointmentFactory(**dict(treatment, kind=Appointment.Kind.TEST_PATCH, patient=unbooked.patient,
                                      course=unbooked, start=patch_start, end=patch_start + timedelta(minutes=15)),
                               status=Appointment.Status.COMPLETED)  # fmt: skip
    proposed = TreatmentCourseFactory(patient=ada, planned_sessions=3)
    finished = TreatmentCourseFactory(
        approved=True, patient=PatientFactory(first_name="Rosalind"), status=TreatmentCourse.Status.COMPLETED
    )
    for weeks, score in ((14, 20), (8, None), (4, 45)):
        done = AppointmentFactory(
            **dict(treatment, patient=finished.patient, course=finished, start=local(1, 9) - timedelta(weeks=weeks)),
            status=Appointment.Status.COMPLETED,
        )
        SessionRecordFactory(appointment=done, outcome_score=score)
    Notification.objects.create(
        patient=ada,
        appointment=booked,
        kind=Notification.Kind.DAY_BEFORE,
        key=f"failed-{booked.pk}",
        due_at=timezone.now() - timedelta(hours=1),
        status=Notification.Status.FAILED,
        attempts=5,
        last_error="SMTP 451: try again later",
    )
    # Ada's beach holiday from today keeps her treatment this morning off: the queue's "move or confirm".
    holiday = SunExposure.objects.create(patient=ada, first_day=DAY, last_day=DAY + timedelta(days=2), what="beach")
    # Ada answered the photo consent on the tablet; the course's treatment consent is still to sign.
    published = timezone.now() - timedelta(days=30)
    ConsentText.objects.create(kind="treatment", condition=clinic.course.condition, version=1, title="Tattoo consent",
                               body="Redness and swelling.\n\nNo sun.", published_at=published)  # fmt: skip
    photo = ConsentText.objects.create(kind="photo", version=1, title="Photo consent", body="Photos.",
                                       published_at=published)  # fmt: skip
    signature = consent_sign(patient=ada, text=photo, typed_name=ada.full_name, channel="tablet",
                             client_address="10.0.0.9", photo_clinical=True, photo_marketing=False,
                             witnessed_by=receptionist)  # fmt: skip
    return {
        "consent_signature": signature.pk,
        "sun_exposure": holiday.pk,
        "patient": ada.pk,
        "other_patient": done_today.patient.pk,
        "course": clinic.course.pk,
        "unbooked": unbooked.pk,
        "finished": finished.pk,
        "proposed": proposed.pk,
        "assessment": clinic.course.assessment.pk,
        "booked": booked.pk,
        "checked_in": checked_in.pk,
        "completed": completed.pk,
        "cancelled": cancelled.pk,
        "room": room.pk,
        "patch": patch.pk,
    }


def _blocking(results, url) -> list[str]:
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            for node in violation["nodes"]:
                target = " ".join(str(part) for part in node["target"])
                summary = " ".join(node.get("failureSummary", "").split())
                lines.append(f"{url}: {violation['id']} ({violation['impact']}) at {target}: {summary}")
    return lines


def _check(page, axe, url) -> list[str]:
    settle(page)
    return _blocking(axe.run(page, options=AXE_OPTIONS), url)


@pytest.mark.parametrize("role", [ANONYMOUS, RECEPTION, DERMATOLOGIST, MANAGER])
def test_every_page_of_each_role_passes_axe_core(live_server, page, clinic_day, role):
    outside = []

    def offline(route):
        if urlsplit(route.request.url).netloc != urlsplit(live_server.url).netloc:
            outside.append(route.request.url)
            return route.abort()
        return route.continue_()

    page.context.route("**/*", offline)
    if role != ANONYMOUS:
        log_in(page, live_server, USERNAMES[role])
    axe = Axe()
    found, checked = [], 0
    for visit in VISITS:
        if role not in roles_for(visit):
            continue
        url = visit.url(clinic_day)
        response = page.goto(f"{live_server.url}{url}")
        # A page the role cannot open would only check the 403 page, a redirect the next page.
        assert response.status == visit.status and page.url == f"{live_server.url}{url}", (role, url, page.url)
        found += _check(page, axe, url)
        checked += 1
        if visit.search:
            page.fill("nav input[name=q]", visit.search)
            page.locator("#patient-search-results a").first.wait_for()
            found += _check(page, axe, f"{url} (patient search results)")
            checked += 1
        if visit.submit:
            form = page.locator(visit.submit).first
            form.evaluate("form => { form.noValidate = true; }")
            with page.expect_navigation():
                form.locator("[type=submit]").first.click()
            assert page.locator(".is-invalid, .errorlist, .alert-danger, .invalid-feedback").count(), (
                f"{url}: the empty form showed no error"
            )
            found += _check(page, axe, f"{url} (invalid submission)")
            checked += 1
    assert checked > 1
    assert outside == [], f"axe-core or a page reached outside the clinic: {outside}"
    assert found == [], f"{len(found)} serious or critical axe-core violations:\n" + "\n".join(found)
