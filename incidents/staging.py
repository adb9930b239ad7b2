"""Uploads kept on the server while the report form is shown again.

A page that comes back (a preview, a score, a field to fix) cannot hold the file the reporter chose: browsers
never fill a file input. So a file that was read is written to private storage under ``staging/`` with an
unguessable name, and the page carries a signed token naming it, with its original name, size and SHA-256. The
next post uses those exact bytes. Staged files are deleted once a report is filed with them, when they are
replaced or removed, and by ``purge`` once no token can name them any more.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core import signing
from django.core.files.base import File
from django.core.files.storage import default_storage

from incidents.submission import fingerprint

PREFIX = "staging/"
SALT = "incidents.staging"
MAX_AGE = timedelta(hours=24)
# Files are purged a little after their token expires, so a post that checked its token just in time still
# finds the file.
RETENTION = MAX_AGE + timedelta(hours=1)
EXPIRED = "Your uploaded file has expired; choose it again."


class StagingError(Exception):
    """The token is not ours, has expired, or names a file that is gone or changed."""

    def __init__(self) -> None:
        super().__init__(EXPIRED)


@dataclass(frozen=True)
class StagedUpload:
    name: str  # in the default storage, under PREFIX
    filename: str  # as the reporter's browser named it
    size: int
    sha256: str
    # Kept as first signed, never signed again: a token lives no longer than its file.
    token: str = field(default="", compare=False)

    def open(self) -> File:
        """The staged bytes, checked against the token: exactly the file that was read before."""
        try:
            file = default_storage.open(self.name, "rb")
        except FileNotFoundError:
            raise StagingError from None
        if fingerprint(file) != (self.sha256, self.size):
            file.close()
            raise StagingError
        file.seek(0)
        return file


def stage(upload: File, filename: str) -> StagedUpload:
    """Write the upload to staging, streamed by the storage (it may be a temporary file on disk)."""
    sha256, size = fingerprint(upload)
    name = default_storage.save(f"{PREFIX}{secrets.token_hex(16)}", upload)
    fields = {"name": name, "filename": filename, "size": size, "sha256": sha256}
    return StagedUpload(**fields, token=signing.dumps(fields, salt=SALT))


def load(token: str) -> StagedUpload:
    try:
        return StagedUpload(**signing.loads(token, salt=SALT, max_age=MAX_AGE), token=token)
    except (signing.BadSignature, TypeError):  # SignatureExpired is a BadSignature; TypeError: another shape
        raise StagingError from None


def discard(token: str) -> None:
    """Delete the file a token names, if the token is still valid (an expired one's file is left to ``purge``)."""
    try:
        staged = load(token)
    except StagingError:
        return
    default_storage.delete(staged.name)


def purge(now: datetime) -> int:
    """Delete staged files that no token can name any more; returns how many."""
    try:
        _, names = default_storage.listdir(PREFIX)
    except FileNotFoundError:
        return 0  # nothing was ever staged here
    cutoff, deleted = now - RETENTION, 0
    for basename in names:
        name = PREFIX + basename
        try:
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                deleted += 1
        except FileNotFoundError:
            continue  # filed or replaced meanwhile
    return deleted
