"""Staff roles: the Django groups Reception, Dermatologist and Manager, and the checks pages use.

Groups and their model permissions are (re)made after every `migrate`, so a fresh database and
`seed_demo` always find them. A page names the roles that may use it; anonymous users go to the
login page, staff in another role get 403.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

RECEPTION = "Reception"
DERMATOLOGIST = "Dermatologist"
MANAGER = "Manager"
ROLES = (RECEPTION, DERMATOLOGIST, MANAGER)

# Model permissions per role ("app_label.codename"); the pages check roles, the admin these.
PERMISSIONS = {
    RECEPTION: [
        "patients.view_patient", "patients.add_patient", "patients.change_patient", "catalogue.view_condition",
        "scheduling.view_appointment", "clinical.view_treatmentcourse", "outbox.view_notification",
        "catalogue.view_practitioner", "catalogue.view_room", "catalogue.view_laserdevice",
        "clinical.view_consenttext", "clinical.view_consentsignature",
    ],
    DERMATOLOGIST: [
        "patients.view_patient", "patients.change_patient", "catalogue.view_condition", "clinical.view_assessment",
        "clinical.add_assessment", "clinical.change_assessment", "scheduling.view_appointment",
        "clinical.view_treatmentcourse", "clinical.add_treatmentcourse", "clinical.change_treatmentcourse",
        "scheduling.view_sessionrecord", "scheduling.add_sessionrecord", "outbox.view_notification",
        "clinical.view_consenttext", "clinical.add_consenttext", "clinical.change_consenttext",
        "clinical.view_consentsignature",
    ],
    MANAGER: [
        "patients.view_patient", "catalogue.view_condition", "catalogue.add_condition", "catalogue.change_condition",
        "scheduling.view_appointment", "clinical.view_treatmentcourse", "outbox.view_notification",
        "catalogue.view_practitioner", "catalogue.change_practitioner", "catalogue.view_workinghours",
        "catalogue.add_workinghours", "catalogue.change_workinghours", "catalogue.delete_workinghours",
        "catalogue.view_timeoff", "catalogue.add_timeoff", "catalogue.change_timeoff", "catalogue.delete_timeoff",
        "catalogue.view_clinicclosure", "catalogue.add_clinicclosure", "catalogue.change_clinicclosure",
        "catalogue.view_room", "catalogue.add_room", "catalogue.change_room", "catalogue.view_laserdevice",
        "catalogue.add_laserdevice", "catalogue.change_laserdevice", "catalogue.view_treatmentarea",
        "catalogue.add_treatmentarea", "catalogue.change_treatmentarea", "auditlog.view_logentry",
        "otp_totp.view_totpdevice", "otp_totp.delete_totpdevice",  # reset a lost phone (clinic/admin.py)
        "clinical.view_consenttext", "clinical.add_consenttext", "clinical.change_consenttext",
        "clinical.view_consentsignature",
    ],
}  # fmt: skip


def ensure_groups(**kwargs) -> None:
    """Create the role groups and give them their permissions (idempotent; runs after migrate)."""
    from django.contrib.auth.models import Group, Permission

    for role, names in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


# The permission matrix: what each role may do. Every page and API endpoint names one of these
# abilities, and the README's table is this dict (a test keeps them equal).
ABILITIES = {
    "view_schedule": (RECEPTION, DERMATOLOGIST, MANAGER),  # day board, appointments, work queues, catalogue
    "book": (RECEPTION, DERMATOLOGIST),  # book, plan, reschedule, cancel, check in, no-show
    "view_patients": (RECEPTION, DERMATOLOGIST, MANAGER),  # search, contact details, courses, communication log
    "edit_patients": (RECEPTION, DERMATOLOGIST),  # register and edit patients
    "view_clinical": (DERMATOLOGIST,),  # assessments and session records; each opening is audited
    "treat": (DERMATOLOGIST,),  # assess, propose, change and approve courses, record sessions
    "oversee_courses": (DERMATOLOGIST, MANAGER),  # courses awaiting approval or a results review
    "view_audit": (MANAGER,),  # the audit trail, on the patient page and in the admin
    "manage_data": (MANAGER,),  # a patient's data export and erasure on request
    "edit_catalogue": (MANAGER,),  # conditions, areas, rooms, lasers, hours, closures (admin)
}


# What each ability lets a person do, in words, for the page that refuses it.
ABILITY_NAMES = {
    "view_schedule": "see the day board, appointments and work queues",
    "book": "book, move, cancel and check in appointments",
    "view_patients": "see patients' records",
    "edit_patients": "register patients and edit their details",
    "view_clinical": "see assessments and session records",
    "treat": "assess patients, propose and approve courses and record sessions",
    "oversee_courses": "oversee courses awaiting approval or a results review",
    "view_audit": "see the audit trail",
    "manage_data": "export or erase a patient's data",
    "edit_catalogue": "change the clinic's catalogue",
}


class RoleRequired(PermissionDenied):
    """A page refused for the user's role; it names the roles that may use it, for the 403 page."""

    GENERIC = "Your role cannot use this page."

    def __init__(self, roles, *, ability: str | None = None, message: str = GENERIC):
        super().__init__(message)
        self.roles = tuple(roles)
        self.ability = ability


def user_roles(user) -> frozenset[str]:
    """The user's roles, read once per request (a superuser has them all)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_clinic_roles", None)
    if cached is None:
        names = () if user.is_superuser else user.groups.filter(name__in=ROLES).values_list("name", flat=True)
        cached = remember_roles(user, names)
    return cached


def remember_roles(user, group_names) -> frozenset[str]:
    """Keep the roles among `group_names`, the user's groups read along with the user (the API's
    token check reads them in its own statement), so `user_roles` need not read them again."""
    user._clinic_roles = frozenset(ROLES) if user.is_superuser else frozenset(group_names) & frozenset(ROLES)
    return user._clinic_roles


def can(user, ability: str) -> bool:
    """Whether the user's roles include one that the matrix allows `ability`."""
    return bool(user_roles(user) & set(ABILITIES[ability]))


def ability_required(ability: str):
    """Page decorator: log in first, then a role with `ability`, or 403 naming the roles that may."""
    return role_required(*ABILITIES[ability], ability=ability)


def has_role(user, *roles) -> bool:
    """Superusers have every role; others have the roles of their groups."""
    return bool(user_roles(user) & set(roles))


def role_required(*roles, ability: str | None = None):
    """Page decorator: log in first, then one of `roles`, or 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise RoleRequired(roles, ability=ability)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
