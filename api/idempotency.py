"""`Idempotency-Key`: a retried POST gets the first answer back instead of acting twice.

The key row is inserted first, in the same transaction as the work it guards. A parallel request
with the same key blocks on the unique index until that transaction ends: if it committed, the
request finds the stored answer and replays it; if it rolled back (an error, a refused request),
the key is free again and the request does the work itself. So exactly one request acts, and an
answer is stored only together with what it describes. Only successful answers are kept: a
refused request can be corrected and sent again with the same key.

A key is scoped to its owner (the token, a signed-in user, or the anonymous client address) and
is kept at least ``RETENTION``; ``purge_idempotency_keys`` removes older ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from api.authentication import token_of
from api.throttling import client_address
from incidents.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# How long a request waits for a parallel one holding the same key before answering 409.
LOCK_WAIT = "10s"
LOCK_NOT_AVAILABLE = "55P03"


class _Refused(Exception):
    """Rolls back the key row with the work, so the key stays free for a corrected retry."""

    def __init__(self, response: Response) -> None:
        self.response = response


def key_problem(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        return f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, such as a UUID."
    return ""


def owner_of(request: Request) -> str:
    token = token_of(request)
    if token is not None:
        return f"token:{token.prefix}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"anon:{client_address(request)}"


def request_hash(request: Request) -> str:
    """SHA-256 of the method, the path and the body in a canonical form (files by their digest)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(json.dumps(_canonical(request.data), sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


def _canonical(data: Any) -> Any:
    if hasattr(data, "getlist"):  # a multipart form: every key with all its values, in order
        return {key: [_canonical(value) for value in data.getlist(key)] for key in data}
    if isinstance(data, dict):
        return {str(key): _canonical(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_canonical(value) for value in data]
    if isinstance(data, UploadedFile):
        sha = hashlib.sha256()
        for chunk in data.chunks():
            sha.update(chunk)
        data.seek(0)
        return {"file": data.name, "sha256": sha.hexdigest()}
    return data


def respond_once(request: Request, key: str, handler: Callable[[], Response]) -> Response:
    """Run ``handler`` once per (owner, key); replay its stored answer to every later request."""
    owner, digest = owner_of(request), request_hash(request)
    try:
        with transaction.atomic():
            record = _claim(owner, key, digest)
            if record is not None:
                response = handler()
                if not 200 <= response.status_code < 300:
                    raise _Refused(response)
                record.response_status, record.response_body = response.status_code, response.data
                record.save(update_fields=["response_status", "response_body"])
                return response
    except _Refused as refused:
        return refused.response
    except _Busy:
        return _in_progress()
    return _replay(IdempotencyKey.objects.filter(owner=owner, key=key).first(), digest)


class _Busy(Exception):
    pass


def _claim(owner: str, key: str, digest: str) -> IdempotencyKey | None:
    """Insert the key row; None when it exists (a parallel request with the key has committed)."""
    postgres = connection.vendor == "postgresql"
    try:
        with transaction.atomic():
            if postgres:
                # Bound the wait for a parallel holder of the key, then restore the server's timeout
                # for the work that follows. (A failed insert rolls back to the savepoint, which
                # undoes the SET LOCAL too.)
                _set_lock_timeout(f"'{LOCK_WAIT}'")
            record = IdempotencyKey.objects.create(owner=owner, key=key, request_hash=digest)
            if postgres:
                _set_lock_timeout("DEFAULT")
            return record
    except IntegrityError:
        return None
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE or "locked" in str(exc):
            raise _Busy from exc  # PostgreSQL's lock_timeout, or SQLite's busy database
        raise


def _set_lock_timeout(value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = {value}")


def _replay(record: IdempotencyKey | None, digest: str) -> Response:
    if record is None or record.response_status is None:
        return _in_progress()
    if record.request_hash != digest:
        return Response(
            {
                "detail": f"This {HEADER} was already used for a different request. "
                "Send a new key with a new request; reuse a key only to retry the very same one.",
                "code": "idempotency_key_reused",
            },
            status=422,
        )
    return Response(record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"})


def _in_progress() -> Response:
    return Response(
        {
            "detail": f"A request with this {HEADER} is still being processed; retry in a few seconds.",
            "code": "idempotency_key_in_progress",
        },
        status=409,
        headers={"Retry-After": "5"},
    )


def purge_idempotency_keys(older_than: timedelta = RETENTION) -> int:
    """Delete keys older than ``older_than`` (never less than RETENTION); returns how many went."""
    cutoff = timezone.now() - max(older_than, RETENTION)
    deleted, _ = IdempotencyKey.objects.filter(created__lt=cutoff).delete()
    return deleted
