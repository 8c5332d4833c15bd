from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error


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
