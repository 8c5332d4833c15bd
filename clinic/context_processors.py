from clinic.roles import DERMATOLOGIST, MANAGER, RECEPTION


def roles(request):
    """Which staff roles the signed-in user has, for the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": {}}
    names = set(user.groups.values_list("name", flat=True))
    everything = user.is_superuser
    return {
        "roles": {
            "reception": everything or RECEPTION in names,
            "dermatologist": everything or DERMATOLOGIST in names,
            "manager": everything or MANAGER in names,
        }
    }
