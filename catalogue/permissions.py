"""Is this user a dermatologist? The one rule that clinical work asks, on pages, API and admin alike.

Clinical work is recorded in the name of an active dermatologist's practitioner record; the
Dermatologist role alone (a group) says what a user may see, not in whose name work is written.
"""

from functools import wraps

from catalogue.models import Practitioner
from clinic.roles import DERMATOLOGIST, RoleRequired, ability_required


def is_dermatologist(practitioner: Practitioner | None) -> bool:
    """An active practitioner with the dermatologist's role."""
    return practitioner is not None and practitioner.active and practitioner.role == Practitioner.Role.DERMATOLOGIST


def acting_dermatologist(user) -> Practitioner | None:
    """The active dermatologist record of this user, in whose name clinical work is recorded."""
    practitioner = getattr(user, "practitioner", None)  # none for anonymous users and non-clinical staff
    return practitioner if is_dermatologist(practitioner) else None


def dermatologist_required(view):
    """The Dermatologist role and a dermatologist's practitioner record: these pages record clinical
    work in a dermatologist's name, so a manager or superuser without one gets 403."""

    @wraps(view)
    @ability_required("treat")
    def wrapped(request, *args, **kwargs):
        request.practitioner = acting_dermatologist(request.user)
        if request.practitioner is None:
            raise RoleRequired(
                (DERMATOLOGIST,),
                ability="treat",
                message="This page records clinical work in a dermatologist's name: it needs an active "
                "dermatologist's practitioner record as well as the Dermatologist role.",
            )
        return view(request, *args, **kwargs)

    return wrapped
