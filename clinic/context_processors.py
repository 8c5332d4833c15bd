from clinic.roles import DERMATOLOGIST, MANAGER, RECEPTION, user_roles


def roles(request):
    """Which staff roles the signed-in user has, for the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": {}}
    names = user_roles(user)
    return {
        "roles": {
            "reception": RECEPTION in names,
            "dermatologist": DERMATOLOGIST in names,
            "manager": MANAGER in names,
        }
    }
