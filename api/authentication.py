"""The API's token check: DRF's TokenAuthentication, in one statement that also reads the roles."""

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from clinic.roles import ROLES, remember_roles
from clinic.second_factor import session_owes
from clinic.sql import converted, converters

# The token, its user's row, and one of the user's groups that is a role (or NULL): a row per group.
# The tables are django.contrib.auth's and DRF's own (the project keeps Django's user model).
_USER_AND_ROLES_SQL = """
SELECT t.created AS token_created, u.*, g.name AS role
FROM authtoken_token t
JOIN auth_user u ON u.id = t.user_id
LEFT JOIN auth_user_groups m ON m.user_id = u.id
LEFT JOIN auth_group g ON g.id = m.group_id AND g.name IN ({roles})
WHERE t.key = %s
"""
# A placeholder per role of clinic.roles.ROLES, then the key.
USER_AND_ROLES_BY_KEY = _USER_AND_ROLES_SQL.format(roles=", ".join(["%s"] * len(ROLES)))


class TokenAuthentication(authentication.TokenAuthentication):
    """The token, its user and the user's roles in one SQL statement. DRF's own check reads the
    token and user through the ORM, and the permission matrix then reads the roles (clinic.roles):
    two queries on every API request, which cost the worker more CPU compiling them and building
    their objects than PostgreSQL spent running them (figures in README, "Benchmarks"). Its
    answers are DRF's: an unknown token or an inactive user is refused (401)."""

    def authenticate_credentials(self, key):
        alias = router.db_for_read(Token)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(USER_AND_ROLES_BY_KEY, [*ROLES, key])
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user_model = get_user_model()
        user = user_model.from_db(alias, *_as_fields(connection, user_model, dict(zip(names, rows[0], strict=True))))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token.from_db(alias, *_as_fields(connection, Token, {"key": key, "user_id": user.pk,
                                                                      "created": rows[0][0]}))  # fmt: skip
        token.user = user
        remember_roles(user, [row[-1] for row in rows if row[-1] is not None])
        return user, token


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """DRF's session login (the browser's, as on the pages), refused while the session still owes
    its second factor (clinic.second_factor). API clients' tokens are their own credential and are
    not asked for one."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None and session_owes(request._request) is not None:
            raise exceptions.AuthenticationFailed(
                _("This session has not passed the second factor: sign in with your code on the staff pages first.")
            )
        return found


def _as_fields(connection, model, row: dict) -> tuple[list[str], list]:
    """The model's field names and the row's values for them, converted as the ORM converts what it
    reads (on SQLite, for one, a stored time comes back without its zone)."""
    names = tuple(field.attname for field in model._meta.concrete_fields)
    columns = [model._meta.get_field(name).column for name in names]
    values = converted(connection, [row[column] for column in columns], converters(connection.alias, model, names))
    return list(names), values
