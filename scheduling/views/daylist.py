"""The day list: one local day on paper, a list per practitioner, for the front desk and the rooms."""

from datetime import date

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from clinic.roles import ability_required
from scheduling.selectors import day_list


@ability_required("view_schedule")
def day_list_view(request, day: date):
    context = {
        "day": day,
        "practitioners": day_list(day=day),
        "board_url": reverse("scheduling:day_board_date", kwargs={"day": day}),
        "as_of": timezone.now(),  # a sheet on the desk goes stale: it says when it was printed
    }
    response = render(request, "scheduling/day_list.html", context)
    # Patients' names and phone numbers: kept by no shared cache, and by no browser cache either.
    patch_cache_control(response, private=True, no_store=True)
    return response
