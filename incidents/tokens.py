"""API tokens: issued to a user for themselves, shown once, stored only as an HMAC with a visible prefix.

A token reads ``ow_<prefix>_<secret>``. The prefix is unique and stored in clear, so a token is found
with one indexed lookup and people can tell their tokens apart; the whole token is hashed with
HMAC-SHA256 keyed by ``SECRET_KEY`` and compared in constant time. Rotating ``SECRET_KEY``
therefore invalidates every token, as it does sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from incidents import access
from incidents.models import ApiToken

SCHEME = "ow"
PREFIX_BYTES = 5  # 10 hex characters: collisions are retried, guessing one reveals nothing
SECRET_BYTES = 32
# Recording every use would write a row per request; a minute is precise enough to spot an idle token.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_ACTIVE_TOKENS = 25
MAX_EXPIRY_DAYS = 3650
# Machine reporters (monitors, guardrails, eval pipelines) are users in this group.
REPORTERS = "Reporters"


class TokenError(ValueError):
    """A token that cannot be issued as asked; nothing was created."""


def may_hold_tokens(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Staff, vendor members, analysts and machine reporters create tokens for themselves."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if access.is_staff(user) or access.vendor_of(user) is not None:
        return True
    return user.groups.filter(name__in=[access.ANALYSTS, REPORTERS]).exists()


def hash_token(raw: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()


def active_tokens(user: AbstractBaseUser):
    now = timezone.now()
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def issue_token(user: AbstractBaseUser, *, name: str, expires_in: timedelta | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the token itself, which is never available again."""
    name = name.strip()
    if not name:
        raise TokenError("Give the token a name, so you can tell it apart later.")
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise TokenError("Keep the name under 100 characters.")
    if expires_in is not None and not timedelta(0) < expires_in <= timedelta(days=MAX_EXPIRY_DAYS):
        raise TokenError(f"A token expires after 1 to {MAX_EXPIRY_DAYS} days, or never.")
    if not user.is_active:
        raise TokenError("This account is not active.")
    if active_tokens(user).count() >= MAX_ACTIVE_TOKENS:
        raise TokenError(f"You already have {MAX_ACTIVE_TOKENS} active tokens; revoke one you no longer use.")
    now = timezone.now()
    for _ in range(5):
        prefix = secrets.token_hex(PREFIX_BYTES)
        raw = f"{SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    name=name,
                    prefix=prefix,
                    key_hash=hash_token(raw),
                    created=now,
                    expires_at=now + expires_in if expires_in is not None else None,
                )
        except IntegrityError:
            continue  # the prefix was taken: draw another
        return token, raw
    raise TokenError("Could not issue a token just now; try again.")


def _split(raw: str) -> str | None:
    """The prefix of a well-formed token, else None (and no database query)."""
    scheme, _, rest = raw.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != SCHEME or len(prefix) != 2 * PREFIX_BYTES or not secret or len(raw) > 200:
        return None
    if any(c not in "0123456789abcdef" for c in prefix):
        return None
    return prefix


def verify_token(raw: str) -> ApiToken | None:
    """The live token that ``raw`` is, with its user (and vendor) joined; None when it is not one."""
    prefix = _split(raw)
    if prefix is None:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__vendor_membership__vendor")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, hash_token(raw)):
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    touch(token, now)
    return token


def touch(token: ApiToken, now) -> None:
    """Record the use, at most once per LAST_USED_PRECISION: a conditional UPDATE that usually matches nothing."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    token.last_used_at = now


def revoke_token(token: ApiToken) -> bool:
    """Revoke at once; revoking twice changes nothing. True when this call revoked it."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
    return bool(revoked)


def token_state(token: ApiToken) -> str:
    """The token's state for lists: active, expired or revoked."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return "expired"
    return "active"
