"""Which address a login attempt (and an audit entry) is counted under, with and without the TLS
proxy in front: the proxy appends the address it saw to X-Forwarded-For, so only that entry (the
right-most it added) is the client's; what the client wrote itself further left chooses nothing."""

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.core.checks import run_checks
from django.test import RequestFactory, override_settings

from clinic.client import client_address
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
LOGIN = "/accounts/login/"
PROXY = "10.0.0.1"  # the proxy's own address, as gunicorn sees every request behind it
behind_proxy = override_settings(BEHIND_TLS_PROXY=True, TRUSTED_PROXY_COUNT=1)


def attempt(client, password, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client.post(LOGIN, {"username": "reception", "password": password}, REMOTE_ADDR=PROXY, **headers)


@behind_proxy
def test_behind_the_proxy_clients_at_different_addresses_are_counted_apart(client):
    UserFactory(username="reception")
    for _ in range(5):
        attempt(client, "wrong-password", forwarded="203.0.113.9")
    assert attempt(client, "wrong-password", forwarded="203.0.113.9").status_code == 429
    assert AccessAttempt.objects.get().ip_address == "203.0.113.9"
    # Reception, at the clinic's own address, still logs in through the same proxy.
    assert attempt(client, PASSWORD, forwarded="198.51.100.20").status_code == 302


@behind_proxy
def test_behind_the_proxy_a_forged_leftmost_address_does_not_choose(client):
    UserFactory(username="reception")
    for n in range(5):  # a new forged address each time, the same real client
        attempt(client, "wrong-password", forwarded=f"198.51.100.{n}, 203.0.113.9")
    assert attempt(client, "wrong-password", forwarded="198.51.100.20, 203.0.113.9").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    # Nor can the forger lock reception's own address out by writing it in.
    assert attempt(client, PASSWORD, forwarded="198.51.100.20").status_code == 302


def test_without_the_proxy_x_forwarded_for_is_ignored(client):
    UserFactory(username="reception")
    for n in range(5):
        attempt(client, "wrong-password", forwarded=f"203.0.113.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}
    assert attempt(client, PASSWORD, forwarded="198.51.100.20").status_code == 429


@pytest.mark.parametrize(
    ("behind", "count", "forwarded", "expected"),
    [
        (True, 1, "203.0.113.9", "203.0.113.9"),
        (True, 1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (True, 1, " 6.6.6.6 ,203.0.113.9 ", "203.0.113.9"),
        (True, 2, "6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),  # a CDN, then our proxy
        (True, 1, "2001:db8::1", "2001:db8::1"),
        (True, 2, "203.0.113.9", PROXY),  # fewer entries than proxies: not a client's address
        (True, 1, "not-an-address", PROXY),
        (True, 1, "", PROXY),
        (True, 1, None, PROXY),
        (False, 1, "203.0.113.9", PROXY),
    ],
)
def test_the_client_address_is_the_entry_the_trusted_proxies_added(behind, count, forwarded, expected):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, **headers)
    with override_settings(BEHIND_TLS_PROXY=behind, TRUSTED_PROXY_COUNT=count):
        assert client_address(request) == expected


def test_the_audit_trail_records_the_same_address_not_a_forged_one(client, receptionist):
    client.force_login(receptionist)
    patient = PatientFactory()
    form = {"first_name": "Ada", "last_name": "Byron", "date_of_birth": "1990-05-17", "email": "", "phone": ""}
    client.post(f"/patients/{patient.pk}/edit/", form, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6")
    entry = LogEntry.objects.get_for_object(patient).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.remote_addr == PROXY


@pytest.mark.parametrize("count", [0, -1, "1", None])
def test_a_proxy_count_that_is_not_a_positive_whole_number_is_refused_at_start_up(count):
    with override_settings(BEHIND_TLS_PROXY=True, TRUSTED_PROXY_COUNT=count):
        assert "clinic.E009" in [error.id for error in run_checks(tags=["clinic"])]
    with override_settings(BEHIND_TLS_PROXY=True, TRUSTED_PROXY_COUNT=2):
        assert "clinic.E009" not in [error.id for error in run_checks(tags=["clinic"])]
