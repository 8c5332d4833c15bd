from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from clinic.roles import ABILITY_NAMES, RoleRequired, user_roles


@login_required
def home(request):
    practitioner = getattr(request.user, "practitioner", None)
    return render(request, "home.html", {"practitioner": practitioner, "groups": request.user.groups.all()})


def not_found(request, exception):
    """No URL matched (e.g. `/api/v1/appointments/1.5/`): API clients get JSON like every other API
    answer, people the usual page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form refused by Django's CSRF check gets the clinic's page, saying what
    to do, instead of Django's bare one. The reason is for the log (django.security.csrf has it),
    not the page."""
    return render(request, "403_csrf.html", status=403)


def permission_denied(request, exception):
    """A refused page in the app's own layout, saying which roles may do it (API clients get JSON)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    roles = getattr(exception, "roles", ())
    ability = getattr(exception, "ability", None)
    message = str(exception) if exception else ""
    if roles and message == RoleRequired.GENERIC:
        message = ""  # the roles that may use the page say it better
    context = {
        "message": message or ("" if roles else "You cannot use this page."),
        "allowed_roles": roles,
        "what": ABILITY_NAMES.get(ability, ""),
        "your_roles": sorted(user_roles(request.user)) if hasattr(request, "user") else [],
    }
    return render(request, "403.html", context, status=403)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    """A request that cannot be read (too large, a bad header): JSON under /api/, the clinic's page
    elsewhere, each saying what went wrong; nothing of it was saved."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        message = f"The request is too large: the clinic reads up to {limit:.1f} MB at a time. Nothing was saved."
    else:
        message = "The request could not be read. Nothing was saved."
    if _is_api(request):
        return JsonResponse({"detail": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)


def server_error(request):
    """An error of ours: API clients get JSON like every other API answer (and no detail of it),
    people the usual page."""
    if _is_api(request):
        return JsonResponse({"detail": "A server error occurred. It has been reported; please try again."}, status=500)
    return django_server_error(request)
