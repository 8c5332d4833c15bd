"""The address a request came from, for the login lockout (django-axes) and the audit trail.

Behind the TLS proxy every connection comes from the proxy, and the client's address is in
X-Forwarded-For. A client may send that header itself; each proxy appends the address it saw, so
the client's own entries sit on the left and only the entries the trusted proxies added, counted
from the right, are believed. Without the proxy the header is the client's own words and ignored.
"""

from ipaddress import ip_address

from django.conf import settings


def client_address(request) -> str | None:
    """The client's address: with `BEHIND_TLS_PROXY`, the `TRUSTED_PROXY_COUNT`-th entry of
    X-Forwarded-For from the right (the one the outermost trusted proxy added); else, or when that
    entry is missing or not an address, the connection's own (REMOTE_ADDR)."""
    connection = request.META.get("REMOTE_ADDR")
    if not getattr(settings, "BEHIND_TLS_PROXY", False):
        return connection
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 1)  # a whole number >= 1 (system check clinic.E009)
    if not isinstance(count, int) or count < 1 or len(entries) < count:
        return connection
    try:
        return str(ip_address(entries[-count]))
    except ValueError:
        return connection
