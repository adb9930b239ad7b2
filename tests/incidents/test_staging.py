import hashlib
import os
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.utils import timezone

from incidents import staging, tasks

RAW = b'{"role": "user", "content": "keep it"}\n{"role": "assistant", "content": "deleted it"}\n'


@pytest.fixture
def uploads(settings, tmp_path):
    """A private storage of this test's own, so staged files can be listed and aged."""
    default = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def signed_in_the_past(fields: dict, monkeypatch, *, hours: float) -> str:
    """A token as ``stage`` would have signed it ``hours`` ago."""
    then = int(time.time() - hours * 3600)
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(then))
        return signing.dumps(fields, salt=staging.SALT)


def fields_of(staged: staging.StagedUpload) -> dict:
    return {"name": staged.name, "filename": staged.filename, "size": staged.size, "sha256": staged.sha256}


def test_it_stages_a_temporary_upload_byte_for_byte_under_an_unguessable_name(uploads):
    upload = TemporaryUploadedFile("session.jsonl", "application/jsonl", len(RAW), None)
    upload.write(RAW)
    staged = staging.stage(upload, "session.jsonl")

    assert staged.name.startswith("staging/")
    assert len(staged.name.removeprefix("staging/")) == 32
    assert (uploads / staged.name).read_bytes() == RAW
    assert (staged.filename, staged.size, staged.sha256) == ("session.jsonl", len(RAW), hashlib.sha256(RAW).hexdigest())
    assert staging.load(staged.token) == staged
    with staged.open() as file:
        assert file.read() == RAW


def test_it_stages_the_same_file_twice_under_different_names(uploads):
    first = staging.stage(ContentFile(RAW), "a.jsonl")
    second = staging.stage(ContentFile(RAW), "a.jsonl")
    assert first.name != second.name


def test_it_refuses_a_tampered_token(uploads):
    staged = staging.stage(ContentFile(RAW), "a.jsonl")
    value, signature = staged.token.rsplit(":", 1)
    forged = signing.dumps({**fields_of(staged), "name": "transcripts/2026/05/someone-else.raw"})
    for token in (f"{value}:{signature[::-1]}", forged, "not a token", ""):
        with pytest.raises(staging.StagingError, match=r"^Your uploaded file has expired; choose it again\.$"):
            staging.load(token)


def test_it_refuses_an_expired_token_and_accepts_one_just_in_time(uploads, monkeypatch):
    staged = staging.stage(ContentFile(RAW), "a.jsonl")
    with pytest.raises(staging.StagingError):
        staging.load(signed_in_the_past(fields_of(staged), monkeypatch, hours=24.01))
    assert staging.load(signed_in_the_past(fields_of(staged), monkeypatch, hours=23.99)).name == staged.name


def test_it_refuses_a_staged_file_that_is_gone_or_changed(uploads):
    gone = staging.stage(ContentFile(RAW), "a.jsonl")
    (uploads / gone.name).unlink()
    changed = staging.stage(ContentFile(RAW), "b.jsonl")
    (uploads / changed.name).write_bytes(RAW.replace(b"deleted", b"kept it"))
    for staged in (gone, changed):
        with pytest.raises(staging.StagingError):
            staged.open()


def test_it_discards_only_the_file_a_valid_token_names(uploads):
    kept = staging.stage(ContentFile(RAW), "a.jsonl")
    discarded = staging.stage(ContentFile(RAW), "b.jsonl")
    staging.discard(discarded.token)
    staging.discard(kept.token[:-1] + ("A" if kept.token[-1] != "A" else "B"))
    assert not (uploads / discarded.name).exists()
    assert (uploads / kept.name).exists()


def age(path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_it_purges_old_staged_files_only(uploads):
    old = staging.stage(ContentFile(RAW), "old.jsonl")
    recent = staging.stage(SimpleUploadedFile("recent.jsonl", RAW), "recent.jsonl")
    age(uploads / old.name, 26)
    age(uploads / recent.name, 24.5)  # its token has just expired; a post that checked it in time may read it
    evidence = uploads / "transcripts" / "2026" / "01" / "evidence.raw"
    evidence.parent.mkdir(parents=True)
    evidence.write_bytes(RAW)
    age(evidence, 24 * 365)

    assert tasks.purge_staged_uploads.delay().get() == 1
    assert not (uploads / old.name).exists()
    assert (uploads / recent.name).exists()
    assert evidence.read_bytes() == RAW


def test_it_purges_nothing_before_anything_was_staged(uploads):
    assert staging.purge(timezone.now() + timedelta(days=365)) == 0
