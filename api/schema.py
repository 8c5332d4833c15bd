"""The OpenAPI schema's view of the API: drf-spectacular's, plus the refusals every endpoint can give.

drf-spectacular documents what a view says it answers. The answers that come from DRF itself
(not logged in, not allowed, no such record, a page past the end, a body that is not JSON or form
data) are the same everywhere, so they are added here rather than repeated on every view.
"""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from api.common import ErrorSerializer

BODY_METHODS = {"POST", "PUT", "PATCH"}


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        refusals = {"401": _error("Not logged in."), "403": _error("Not allowed for this user.")}
        if self.method in BODY_METHODS or self.get_override_parameters():  # a service or a serializer may refuse
            refusals["400"] = OpenApiResponse(
                OpenApiTypes.OBJECT, description="Refused: a list of messages per input field."
            )
        if "{" in self.path:
            refusals["404"] = _error("No such record.")
        elif self._is_list_view() and self._get_paginator():
            refusals["404"] = _error("No such page.")
        if self.method in BODY_METHODS and self.get_request_serializer() is not None:
            refusals["415"] = _error("The body is neither JSON nor form data.")
        for code, response in refusals.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return dict(sorted(responses.items()))


class VerifiedSessionScheme(SessionScheme):
    """The session login (api.authentication.VerifiedSessionAuthentication) is DRF's cookie login,
    which also wants the second factor where it is due."""

    target_class = "api.authentication.VerifiedSessionAuthentication"
