"""Rate limits: per token (or signed-in user) and per anonymous client address.

Counts live in the default cache, which is Redis in production (CACHE_URL), so every web process
shares them. Over the limit, DRF answers 429 with ``Retry-After``.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api.authentication import token_of

# Used when REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] does not name the scope.
DEFAULT_RATES = {"anon": "120/min", "user": "600/min", "submit": "20/hour"}


class _ConfiguredRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # Read at call time (DRF reads once at import), so a changed setting applies at once.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or DEFAULT_RATES[self.scope]


class ClientRateThrottle(_ConfiguredRateThrottle):
    """Each token has its own budget; a signed-in session shares its user's."""

    scope = "user"

    def get_cache_key(self, request: Request, view) -> str | None:
        token = token_of(request)
        if token is not None:
            ident = f"token:{token.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(_ConfiguredRateThrottle):
    """Anonymous callers, by client address (X-Forwarded-For is trusted only as far as NUM_PROXIES says)."""

    scope = "anon"

    def get_cache_key(self, request: Request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AnonymousSubmitThrottle(AnonymousRateThrottle):
    """Filing incidents without a token: a much smaller budget per address."""

    scope = "submit"


def client_address(request: Request) -> str:
    return AnonymousRateThrottle().get_ident(request)
