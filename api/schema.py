"""The OpenAPI schema's shared parts: the answers every operation can give, said once.

Views document their own answers. ``document_shared_errors`` (a postprocessing hook, see
SPECTACULAR_SETTINGS) then adds what any operation may answer whatever the view does, so no view
can forget one: 429 from the rate limits (every API view is throttled), 401 wherever a token is
accepted (a bad token is refused before the view runs), 403 for a write through a session without
its CSRF token, and 415 wherever a request body is read. The extensions below make the schema
say what the code enforces: the exact shape of a 400, and the bounds of the list filters.
"""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse

from api.serializers import ValidationErrorSerializer

INVALID = OpenApiResponse(ValidationErrorSerializer, description="Bad input: the fields at fault and why.")

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
WRITE_METHODS = {"put", "post", "patch", "delete"}
# The DRF answer `{"detail": "…"}`; DetailErrorSerializer's component, defined here too in case no
# view names that serializer.
DETAIL_ERROR = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}


def _detail_error(description: str, headers: dict | None = None) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DetailError"}}},
    }
    if headers:
        response["headers"] = headers
    return response


THROTTLED = _detail_error(
    "Too many requests: wait the number of seconds in `Retry-After`, then try again.",
    headers={
        "Retry-After": {
            # Not required: DRF leaves it out on the rare answer where it cannot compute the wait.
            "description": "Seconds to wait before the next request.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
)
CHALLENGE = {
    "WWW-Authenticate": {
        "description": 'Always `Bearer realm="api"`.',
        "required": True,
        "schema": {"type": "string"},
    }
}
BAD_TOKEN = _detail_error(
    "The token sent is not valid (unknown, expired or revoked); send none to act as the public.", CHALLENGE
)
NOT_AUTHENTICATED = _detail_error("No valid token or session: send `Authorization: Bearer <token>`.", CHALLENGE)
CSRF_FAILED = _detail_error("Signed in through the session, but without a valid CSRF token.")
UNSUPPORTED_MEDIA_TYPE = _detail_error("The body's Content-Type is not one this operation reads.")


def document_shared_errors(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """Add the shared error answers to every operation.

    A view's own 401, 403 or 415 stands (it says more); 429 is always the rate limits' answer.
    """
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault("DetailError", DETAIL_ERROR)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation["responses"]
            security = operation.get("security", [])
            schemes = {name for requirement in security for name in requirement}
            if "bearerAuth" in schemes:
                # `{}` among the requirements means anonymous callers are served too.
                responses.setdefault("401", copy.deepcopy(BAD_TOKEN if {} in security else NOT_AUTHENTICATED))
            if method in WRITE_METHODS and "cookieAuth" in schemes:
                responses.setdefault("403", copy.deepcopy(CSRF_FAILED))
            if "requestBody" in operation:
                responses.setdefault("415", copy.deepcopy(UNSUPPORTED_MEDIA_TYPE))
            responses["429"] = copy.deepcopy(THROTTLED)
            operation["responses"] = dict(sorted(responses.items()))
    return result


class ValidationErrorSchema(OpenApiSerializerExtension):
    """A 400's keys are the request's own field names, so the object is open: any key, a list of messages."""

    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema: Any, direction: str) -> dict:
        schema = super().map_serializer(auto_schema, direction)
        schema["additionalProperties"] = {"type": "array", "items": {"type": "string"}}
        schema["minProperties"] = 1
        return schema


# Filter arguments (passed on to the form field) that bound a value, and their JSON Schema names.
FILTER_BOUNDS = {"min_value": "minimum", "max_value": "maximum", "max_length": "maxLength"}


class BoundedDjangoFilterExtension(DjangoFilterExtension):
    """django-filter's parameters, with the bounds each filter enforces (e.g. a score from 0 to 10)."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field) -> list[dict]:
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        bounds = {
            keyword: filter_field.extra[argument]
            for argument, keyword in FILTER_BOUNDS.items()
            if filter_field.extra.get(argument) is not None
        }
        for parameter in parameters:
            schema = parameter["schema"]
            schema.get("items", schema).update(bounds)
        return parameters
