"""The patient's own waitlist: ask for a consultation, a course's next session or an earlier time
for a booked visit, and leave it again. The rules are `waitlist.services.entries`', the same the
reception's page calls; an offer arrives by email, with its own link."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.errors import SchedulingError
from clinic.forms import add_service_error
from waitlist import selectors
from waitlist.forms import JoinForm
from waitlist.models import WaitlistEntry
from waitlist.services.entries import waitlist_join, waitlist_leave

from .session import patient_required
from .views import form_status, portal_page


@patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def waitlist(request, patient):
    now = timezone.now()
    form = JoinForm(request.POST or None, patient=patient, now=now)
    if request.method == "POST" and form.is_valid():
        try:
            waitlist_join(
                patient=patient, by=patient.user, source=WaitlistEntry.Source.PATIENT, now=now,
                **form.service_arguments(),
            )  # fmt: skip
        except SchedulingError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "You are on the waitlist. We will email you when a time comes free.")
            return redirect("portal:waitlist")
    entries = selectors.waiting_entries(patient_id=patient.pk)
    return portal_page(
        request, "waitlist.html", patient=patient, form=form, entries=entries, status=form_status(request, form)
    )


@patient_required
@require_POST
def waitlist_cancel(request, patient, entry_id):
    entry = get_object_or_404(WaitlistEntry, pk=entry_id, patient=patient)  # anyone else's: 404
    waitlist_leave(entry=entry, by=patient.user)
    messages.success(request, "You are off the waitlist.")
    return redirect("portal:waitlist")
