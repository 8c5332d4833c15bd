from clinic.roles import DERMATOLOGIST, MANAGER, RECEPTION, can, user_roles


def roles(request):
    """Which staff roles the signed-in user has, and what they may do, for the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": {}}
    names = user_roles(user)
    return {
        "roles": {
            "reception": RECEPTION in names,
            "dermatologist": DERMATOLOGIST in names,
            "manager": MANAGER in names,
            "view_audit": can(user, "view_audit"),
        }
    }
