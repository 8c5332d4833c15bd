"""Request middleware of our own."""

from auditlog.middleware import AuditlogMiddleware as BaseAuditlogMiddleware
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .client import client_address
from .second_factor import session_owes


class AuditlogMiddleware(BaseAuditlogMiddleware):
    """django-auditlog's middleware, with the actor read when an entry is written rather than when
    the request arrives: the API authenticates its tokens inside the view, after this runs; and the
    address the login lockout uses (its own would believe a client's X-Forwarded-For). A signed-in
    patient, who is no `request.user`, is the actor through `request.audit_actor` (portal.session)."""

    @staticmethod
    def _get_remote_addr(request):
        return client_address(request)

    @staticmethod
    def _get_actor(request):
        def actor():
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                return user
            return getattr(request, "audit_actor", None)

        return SimpleLazyObject(actor)


class IdleSessionMiddleware:
    """Staff sessions end SESSION_COOKIE_AGE after the last request, not after the login.

    The session is saved (which pushes its expiry on) at most every few minutes rather than on
    every request, so reading pages does not turn into a database write each time."""

    TOUCH_EVERY_SECONDS = 300

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "not_activity", False):
            return None  # a page asking by itself, not a person at the desk
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = _epoch()
            if now - request.session.get(LAST_SEEN, 0) >= self.TOUCH_EVERY_SECONDS:
                request.session[LAST_SEEN] = now
        return None


def not_activity(view):
    """Mark a view that a page calls by itself (a board's poll every few seconds): its requests do
    not keep an idle session alive, so a board left open still logs out."""
    view.not_activity = True
    return view


LAST_SEEN = "last_seen"


def _epoch() -> int:
    return int(timezone.now().timestamp())


def session_started(sender, request, user, **kwargs):
    """A login saves the session anyway: start its idle clock there."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = _epoch()


class HealthCheckMiddleware:
    """Answers GET /healthz/ first, for the container's health check: before the host check and
    the HTTPS redirect, which a probe from inside the container (plain http, its own address)
    would not pass in production. It says whether the database answers, and nothing else."""

    PATH = "/healthz/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != self.PATH:
            return self.get_response(request)
        try:
            connection.ensure_connection()
        except DatabaseError:
            return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
        return HttpResponse("ok\n", content_type="text/plain")


class SecondFactorMiddleware:
    """The second factor's one gate for pages: a signed-in user who still owes the code step, or
    enrolment (clinic.second_factor.second_factor_due), is sent there from every page, the admin's
    included, and comes back afterwards. Open: logging in and out, the code step and enrolment, and
    the patients' links. The API is DRF's, whose session login asks the same question
    (api.authentication.VerifiedSessionAuthentication) and whose tokens are left as they are."""

    OPEN_VIEWS = frozenset({"login", "logout", "admin:logout", "second_factor:verify", "second_factor:enrol"})
    OPEN_NAMESPACES = frozenset({"patient_links"})
    API_VIEWS = frozenset({"api-schema", "api-docs"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.view_name in self.API_VIEWS or "api" in match.namespaces:
            return None  # DRF's views: their session login asks (api.authentication)
        if match.view_name in self.OPEN_VIEWS or set(match.namespaces) & self.OPEN_NAMESPACES:
            return None
        due = session_owes(request)
        if due is None:
            return None
        return redirect_to_login(request.get_full_path(), reverse(f"second_factor:{due}"))
