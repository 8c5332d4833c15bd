"""The races of tests/test_lock_order.py over HTTP, against a live server on PostgreSQL: the plan page
and the API answer a booking, or a clear conflict (the page's message, a 409), never a 500."""

import html
import re

import pytest
import requests
from django.db import connection
from django.urls import reverse
from rest_framework.authtoken.models import Token

from scheduling.models import Appointment
from tests.conftest import local
from tests.test_concurrency import run_in_threads
from tests.test_lock_order import Clinic, assert_course_consistent, lock_key, no_overlap, race

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers and locks"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def crossed_plans(clinic, b_days):
    """Plan A: X on the 22nd, then Y on the 29th; plan B: Y then X on `b_days` (as in test_lock_order)."""

    def session(day, practitioner, room, device):
        return dict(start=local(day, 10).isoformat(), practitioner=practitioner.pk, room=room.pk, device=device.pk)

    first, then = b_days
    plan_a = [session(22, clinic.x, clinic.r1, clinic.d1), session(29, clinic.y, clinic.r1, clinic.d1)]
    plan_b = [session(first, clinic.y, clinic.r2, clinic.d2), session(then, clinic.x, clinic.r2, clinic.d2)]
    return plan_a, plan_b


def check_courses(courses):
    assert no_overlap()
    for course in courses:
        assert_course_consistent(course)
        assert course.appointments.count() in (0, 2)  # a plan books whole or not at all


@pytest.fixture
def api_post(live_server, receptionist):
    """POST JSON to the API as the receptionist, with their token."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {Token.objects.create(user=receptionist).key}"
    return lambda path, data: session.post(live_server.url + path, json=data, timeout=60)


@pytest.fixture
def api(api_post):
    return lambda course, sessions: api_post(reverse("api:course-book-plan", args=[course.pk]), {"sessions": sessions})


def status(response):
    return response.status_code if isinstance(response, requests.Response) else response


def api_round(api, b_days):
    clinic = Clinic()
    courses = clinic.course(), clinic.course()
    plans = crossed_plans(clinic, b_days)
    responses = run_in_threads([lambda c=c, p=p: api(c, p) for c, p in zip(courses, plans, strict=True)])
    statuses = sorted(status(r) for r in responses)
    problems = [s for s in statuses if s not in (201, 409)]
    if problems:
        return problems
    for response in responses:
        if response.status_code == 409:
            assert response.json()["detail"].startswith("That time is already taken for the practitioner")
    check_courses(courses)
    return [statuses]


def test_crossed_plans_over_the_api_both_book(frozen, api):
    race(lambda: [s for s in api_round(api, (22, 29)) if s != [201, 201]])


def test_crossed_plans_on_the_same_time_over_the_api_one_books_one_is_told_409(frozen, api):
    race(lambda: [s for s in api_round(api, (15, 22)) if s != [201, 409]])


@pytest.fixture
def page_post(live_server, receptionist):
    """POST a form to a staff page as the receptionist, logged in over HTTP; redirects not followed."""
    browser = requests.Session()
    login = live_server.url + reverse("login")
    token = TOKEN.search(browser.get(login, timeout=60).text).group(1)
    answer = browser.post(login, {"username": "reception", "password": "correct-horse-battery",
                                  "csrfmiddlewaretoken": token}, timeout=60)  # fmt: skip
    assert answer.url == f"{live_server.url}/", answer.url
    token = {}

    def post(path, form):
        if not token:  # the session's token, read from a form on the page (one per login)
            token["value"] = TOKEN.search(browser.get(live_server.url + path, timeout=60).text).group(1)
        return browser.post(live_server.url + path, form | {"csrfmiddlewaretoken": token["value"]},
                            allow_redirects=False, timeout=60)  # fmt: skip

    return post


@pytest.fixture
def plan_page(page_post):
    """Post a plan on the course's plan page."""

    def post(course, sessions):
        form = {"session-TOTAL_FORMS": len(sessions), "session-INITIAL_FORMS": 0, "session-MIN_NUM_FORMS": 1,
                "session-MAX_NUM_FORMS": 30}  # fmt: skip
        for index, entry in enumerate(sessions):
            form |= {f"session-{index}-{name}": value for name, value in entry.items()}
        return page_post(reverse("scheduling:course_plan", args=[course.pk]), form)

    return post


def test_crossed_plans_on_the_plan_page_both_book(frozen, plan_page):
    def one_round():
        clinic = Clinic()
        courses = clinic.course(), clinic.course()
        plans = crossed_plans(clinic, (22, 29))
        responses = run_in_threads([lambda c=c, p=p: plan_page(c, p) for c, p in zip(courses, plans, strict=True)])
        wrong = [status(r) for r in responses]
        if wrong != [302, 302]:
            return [wrong]
        pages = [reverse("scheduling:course_book", args=[c.pk]) for c in courses]
        assert [r.headers["Location"] for r in responses] == pages
        check_courses(courses)
        return []

    race(one_round)


def test_crossed_plans_on_the_same_time_on_the_plan_page_one_books_one_is_told(frozen, plan_page):
    def one_round():
        clinic = Clinic()
        courses = clinic.course(), clinic.course()
        plans = crossed_plans(clinic, (15, 22))
        responses = run_in_threads([lambda c=c, p=p: plan_page(c, p) for c, p in zip(courses, plans, strict=True)])
        statuses = sorted(status(r) for r in responses)
        if statuses != [200, 302]:
            return [statuses]
        refused = next(r for r in responses if r.status_code == 200)
        assert "That time is already taken for the practitioner" in html.unescape(refused.text)
        check_courses(courses)
        assert Appointment.objects.filter(course__in=courses).count() == 2
        return []

    race(one_round)


def slot(day, practitioner, room, device):
    return dict(start=local(day, 11).isoformat(), practitioner=practitioner.pk, room=room.pk, device=device.pk)


def test_two_sessions_of_one_course_moved_over_the_api_at_once_both_move(frozen, api_post):
    def one_round():
        clinic = Clinic()
        course = clinic.course()
        first = clinic.book(course, 22, clinic.x, clinic.r1, clinic.d1)
        second = clinic.book(course, 29, clinic.y, clinic.r2, clinic.d2)
        moves = [(first, slot(23, clinic.y, clinic.r2, clinic.d2)), (second, slot(30, clinic.x, clinic.r1, clinic.d1))]
        responses = run_in_threads(
            [lambda a=a, to=to: api_post(reverse("api:appointment-reschedule", args=[a.pk]), to) for a, to in moves]
        )
        if [status(r) for r in responses] != [200, 200]:
            return [[status(r) for r in responses]]
        assert sorted(course.appointments.values_list("start", flat=True)) == [local(23, 11), local(30, 11)]
        assert no_overlap()
        assert_course_consistent(course)
        return []

    race(one_round)


def test_a_session_booked_on_its_page_while_another_is_moved_on_the_reschedule_page(frozen, page_post):
    def one_round():
        clinic = Clinic()
        course = clinic.course()
        first = clinic.book(course, 22, clinic.x, clinic.r1, clinic.d1)
        responses = run_in_threads(
            [
                lambda: page_post(reverse("scheduling:appointment_reschedule", args=[first.pk]),
                                  slot(23, clinic.y, clinic.r2, clinic.d2)),
                lambda: page_post(reverse("scheduling:course_book", args=[course.pk]),
                                  slot(29, clinic.x, clinic.r1, clinic.d1)),
            ]
        )  # fmt: skip
        if [status(r) for r in responses] != [302, 302]:
            return [[status(r) for r in responses]]
        assert course.appointments.filter(status="booked").count() == 2
        assert no_overlap()
        assert_course_consistent(course)
        return []

    race(one_round)


@pytest.fixture
def patient_locked_elsewhere():
    """Hold a patient's advisory lock in another session while the server's new connections wait for
    a lock at most 100 ms (lock_timeout, a contention state that `retrying` runs again)."""
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    holder = connection.copy()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER DATABASE {database} SET lock_timeout = '100ms'")
    holding = []

    def hold(patient):
        holder.ensure_connection()
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key("patient", patient.pk)])
        holding.append(patient)

    try:
        yield hold
    finally:
        holder.close()  # the session's lock goes with it
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER DATABASE {database} RESET lock_timeout")


def test_contention_that_outlasts_the_retries_is_a_409_and_the_pages_message(frozen, api, plan_page,
                                                                             patient_locked_elsewhere):  # fmt: skip
    clinic = Clinic()
    course = clinic.course()
    patient_locked_elsewhere(course.patient)
    plan, _ = crossed_plans(clinic, (22, 29))
    response = api(course, plan)
    assert response.status_code == 409, response.text
    assert response.json() == {
        "detail": "Another change to these bookings was being saved at the same moment, so nothing was saved. "
        "Please try again.",
        "conflicts": [],
    }
    page = plan_page(course, plan)
    assert page.status_code == 200
    assert "was being saved at the same moment, so nothing was saved" in html.unescape(page.text)
    assert not course.appointments.exists()
