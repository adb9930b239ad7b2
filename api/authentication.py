"""`Authorization: Bearer <token>` for API clients; the browsable API uses the session instead."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from incidents.models import ApiToken
from incidents.tokens import verify_token

KEYWORD = b"bearer"


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticates as the token's user; ``request.auth`` is the ApiToken."""

    def authenticate(self, request: Request) -> tuple | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None  # no token: anonymous, or another scheme's business
        if len(parts) != 2:
            raise AuthenticationFailed("Send the token as `Authorization: Bearer <token>`, with nothing else.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("This token is not valid.") from None
        token = verify_token(raw)
        if token is None:
            # One answer for unknown, wrong, expired and revoked tokens: nothing to probe.
            raise AuthenticationFailed("This token is not valid: it is unknown, expired or revoked.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with this challenge) rather than 403 to unauthenticated callers.
        return 'Bearer realm="api"'


def token_of(request: Request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`ow_…`), created on the account page or with "
            "`manage.py create_api_token`. Without one you act as the public.",
        }
