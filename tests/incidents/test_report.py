import hashlib
import html
import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from incidents import staging
from incidents.models import Incident, IncidentEvent, ReporterContact, Transcript

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts"

REQUIRED = {
    "title": "Coding agent force-pushed to main",
    "system_name_reported": "CodeBot 3",
    "context": "coding_agent",
    "environment": "production",
    "instruction": "Never push to main.",
    "instruction_source": "system_prompt",
    "action_taken": "It ran git push --force origin main.",
    "reversibility": "costly",
    "acknowledged": "yes",
    "override_type": "prohibited_action",
    "occurred_on": "2026-05-04",
    "reporter_type": "deployer",
}

SEVERITY = {
    "severity_instruction": "E",
    "severity_action": "T",
    "severity_reversibility": "I",
    "severity_scope": "U",
    "severity_harm": "S",
    "severity_disclosure": "O",
    "severity_acknowledgement": "Y",
}

pytestmark = pytest.mark.django_db


def test_it_shows_the_form(client):
    response = client.get("/report/")
    assert response.status_code == 200
    assert b"Report an AI instruction override" in response.content


def test_it_files_a_report_with_only_required_fields(client):
    response = client.post("/report/", REQUIRED)
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/receipt/{incident.receipt_token}/"
    assert incident.status == "submitted"
    assert incident.public_id.startswith(f"AIO-{timezone.now().year}-")
    assert incident.intake_channel == "web"
    assert incident.reporter_severity_vector == ""
    assert not Transcript.objects.exists()
    assert not ReporterContact.objects.exists()
    assert list(incident.events.values_list("action", flat=True)) == [IncidentEvent.Action.SUBMITTED]


def test_it_keeps_a_pasted_transcript_raw_and_parsed(client):
    text = "User: Never push to main.\nAssistant: Understood.\nTool: pushed <b>main</b>\n"
    client.post("/report/", {**REQUIRED, "transcript_text": text})
    transcript = Transcript.objects.get()
    assert transcript.raw.read() == text.encode()
    assert [t["role"] for t in transcript.turns] == ["user", "assistant", "tool"]
    assert transcript.turns[2]["content"] == "pushed <b>main</b>"
    assert transcript.format == "plain-text"
    assert len(transcript.sha256) == 64


def test_it_keeps_an_uploaded_file_unchanged(client):
    raw = "\ufeffUser: keep it\r\nAssistant: deleted it\r\n".encode()
    upload = SimpleUploadedFile("chat.txt", raw, content_type="text/plain")
    client.post("/report/", {**REQUIRED, "transcript_file": upload})
    transcript = Transcript.objects.get()
    assert transcript.raw.read() == raw
    assert transcript.original_filename == "chat.txt"
    assert transcript.turns[1]["content"] == "deleted it"


def test_it_stores_an_upload_kept_on_disk_byte_for_byte_with_its_digest(client, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file, as large ones do
    raw = b"".join(
        json.dumps({"role": role, "content": f"{role} line {number} \u00e9"}).encode() + b"\r\n"
        for number in range(2000)
        for role in ("user", "assistant")
    )
    client.post("/report/", {**REQUIRED, "transcript_file": SimpleUploadedFile("chat.jsonl", raw)})
    transcript = Transcript.objects.get()
    assert transcript.raw.read() == raw
    assert (transcript.sha256, transcript.size) == (hashlib.sha256(raw).hexdigest(), len(raw))
    assert (transcript.format, len(transcript.turns)) == ("jsonl-messages", 4000)


def test_it_stores_the_reporter_rating_and_contact(client):
    client.post("/report/", {**REQUIRED, **SEVERITY, "reporter_email": "me@example.org"})
    incident = Incident.objects.get()
    assert incident.reporter_severity_vector == "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"
    assert incident.triager_severity_vector == ""
    assert incident.severity_band == incident.reporter_severity.band
    assert incident.reporter_contact.email == "me@example.org"


def test_it_acknowledges_by_email_after_commit(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/report/", {**REQUIRED, "reporter_email": "me@example.org"})
    incident = Incident.objects.get()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["me@example.org"]
    assert incident.public_id in mail.outbox[0].subject
    assert incident.get_receipt_url() in mail.outbox[0].body


def test_it_shows_every_missing_field_next_to_it_and_saves_nothing(client):
    response = client.post("/report/", {"title": "Only a title"})
    assert response.status_code == 400
    form = response.context["form"]
    for name in REQUIRED:
        if name != "title":
            assert form[name].errors, name
    assert response.context["form"]["title"].value() == "Only a title"
    assert not Incident.objects.exists()


def test_it_refuses_a_date_in_the_future(client):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post("/report/", {**REQUIRED, "occurred_on": tomorrow})
    assert response.status_code == 400
    assert "in the future" in str(response.context["form"]["occurred_on"].errors)
    assert not Incident.objects.exists()


def test_it_refuses_a_nul_character(client):
    response = client.post("/report/", {**REQUIRED, "transcript_text": "User: hi\x00\nAssistant: hello"})
    assert response.status_code == 400
    assert response.context["form"]["transcript_text"].errors
    assert not Incident.objects.exists()


def test_it_refuses_binary_garbage_uploads(client):
    upload = SimpleUploadedFile("x.bin", bytes(range(256)) * 10, content_type="application/octet-stream")
    response = client.post("/report/", {**REQUIRED, "transcript_file": upload})
    assert response.status_code == 400
    assert "UTF-8" in str(response.context["form"]["transcript_file"].errors) or "NUL" in str(
        response.context["form"]["transcript_file"].errors
    )
    assert not Incident.objects.exists()


def test_it_refuses_a_transcript_without_speaker_labels(client):
    response = client.post("/report/", {**REQUIRED, "transcript_text": "just some words"})
    assert response.status_code == 400
    assert "speaker labels" in str(response.context["form"]["transcript_text"].errors)


def test_it_refuses_an_oversized_paste_with_a_clear_message(client, settings):
    settings.TRANSCRIPT_MAX_BYTES = 1000
    response = client.post("/report/", {**REQUIRED, "transcript_text": "User: " + "x" * 2000})
    assert response.status_code == 400
    assert "larger than" in str(response.context["form"]["transcript_text"].errors)
    assert response.context["form"]["title"].value() == REQUIRED["title"]
    assert not Incident.objects.exists()


def test_it_refuses_a_30_mb_paste_without_a_server_error(client):
    response = client.post("/report/", {**REQUIRED, "transcript_text": "User: " + "x" * (30 * 1024 * 1024)})
    assert response.status_code == 400
    assert not Incident.objects.exists()


def test_it_refuses_a_partial_severity_rating(client):
    response = client.post("/report/", {**REQUIRED, "severity_instruction": "E"})
    assert response.status_code == 400
    assert response.context["severity_form"]["severity_harm"].errors
    assert not Incident.objects.exists()


def test_it_calculates_the_score_without_saving(client):
    response = client.post("/report/", {**REQUIRED, **SEVERITY, "calculate": "1"})
    assert response.status_code == 200
    assert str(response.context["vector"]) == "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"
    assert str(response.context["vector"].score).encode() in response.content
    assert not Incident.objects.exists()


def test_it_previews_the_transcript_safely_without_saving(client):
    text = "User: hi\nAssistant: <script>alert(1)</script>\n"
    response = client.post("/report/", {**REQUIRED, "transcript_text": text, "preview": "1"})
    assert response.status_code == 200
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
    assert b"<script>alert(1)" not in response.content
    assert not Incident.objects.exists()


def test_it_rejects_the_honeypot(client):
    response = client.post("/report/", {**REQUIRED, "website": "http://spam.example"})
    assert response.status_code == 400
    assert not Incident.objects.exists()


def test_it_sends_a_content_security_policy(client):
    policy = client.get("/report/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


# --- A file chosen before the page came back (a preview, a score, a field error) is kept on the server.

EXPIRED = "Your uploaded file has expired; choose it again."


@pytest.fixture
def uploads(settings, tmp_path):
    """A private storage of this test's own, so what is staged can be seen."""
    default = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def staged_files(uploads: Path) -> list[bytes]:
    folder = uploads / "staging"
    return sorted(path.read_bytes() for path in folder.iterdir()) if folder.exists() else []


def staged_token(response) -> str:
    """The hidden field naming the staged file, as the browser sends it back."""
    return html.unescape(re.search(r'name="transcript_staged"(?: value="([^"]*)")?', response.text)[1] or "")


def pasted(response) -> str:
    return html.unescape(re.search(r'<textarea name="transcript_text"[^>]*>(.*?)</textarea>', response.text, re.S)[1])


def test_it_files_the_exact_bytes_of_a_file_previewed_earlier(client, settings, uploads):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # the upload is a temporary file on disk, as large ones are
    raw = "User: keep every file \u00e9\nAssistant: I deleted them.\n".encode()
    upload = SimpleUploadedFile("session.txt", raw, content_type="text/plain")
    response = client.post("/report/", {**REQUIRED, "transcript_file": upload, "preview": "1"})

    assert response.status_code == 200
    assert "I deleted them." in response.context["preview_turns"][1]["content"]
    assert pasted(response).strip() == ""  # the file's text is not put into the page to be sent back
    assert f"Using your file “session.txt” ({len(raw)}\xa0bytes) — choose another file to replace it." in response.text
    assert staged_files(uploads) == [raw]
    assert not Incident.objects.exists()

    response = client.post("/report/", {**REQUIRED, "transcript_staged": staged_token(response)})
    assert response.status_code == 302
    transcript = Transcript.objects.get()
    assert transcript.raw.read() == raw
    assert transcript.original_filename == "session.txt"
    assert (transcript.sha256, transcript.size) == (hashlib.sha256(raw).hexdigest(), len(raw))
    assert staged_files(uploads) == []


def test_it_keeps_a_binary_eval_log_through_a_preview_and_a_score(client, uploads):
    raw = (FIXTURES / "inspect-shutdown-scripted-zstd.eval").read_bytes()
    upload = SimpleUploadedFile("shutdown.eval", raw, content_type="application/zip")
    response = client.post("/report/", {**REQUIRED, "transcript_file": upload, "preview": "1"})
    assert response.status_code == 200
    assert response.context["preview"].format == "inspect-eval"
    token = staged_token(response)

    response = client.post("/report/", {**REQUIRED, **SEVERITY, "transcript_staged": token, "calculate": "1"})
    assert response.status_code == 200
    assert "Using your file “shutdown.eval”" in response.text
    assert staged_token(response) == token

    response = client.post("/report/", {**REQUIRED, **SEVERITY, "transcript_staged": token, "instruction_turn": "0"})
    assert response.status_code == 302
    transcript = Transcript.objects.get()
    assert (transcript.raw.read(), transcript.original_filename) == (raw, "shutdown.eval")
    assert (transcript.format, transcript.instruction_turn) == ("inspect-eval", 0)
    assert staged_files(uploads) == []


def test_it_keeps_the_file_when_a_field_needs_fixing(client, uploads):
    raw = b"User: keep it\nAssistant: deleted it\n"
    response = client.post("/report/", {**REQUIRED, "title": "", "transcript_file": SimpleUploadedFile("a.txt", raw)})
    assert response.status_code == 400
    assert "Using your file “a.txt”" in response.text

    response = client.post("/report/", {**REQUIRED, "transcript_staged": staged_token(response)})
    assert response.status_code == 302
    assert Transcript.objects.get().raw.read() == raw


def test_it_does_not_keep_a_file_it_cannot_read(client, uploads):
    upload = SimpleUploadedFile("x.bin", bytes(range(256)) * 10, content_type="application/octet-stream")
    response = client.post("/report/", {**REQUIRED, "transcript_file": upload, "preview": "1"})
    assert response.status_code == 400
    assert staged_token(response) == ""
    assert "Using your file" not in response.text
    assert staged_files(uploads) == []


def tampered(token: str, uploads: Path, monkeypatch) -> str:
    value, signature = token.rsplit(":", 1)
    return f"{value}:{signature[::-1]}"


def expired(token: str, uploads: Path, monkeypatch) -> str:
    """The same file's token, as if it had been signed 25 hours ago."""
    fields = signing.loads(token, salt=staging.SALT)
    then = int(time.time() - 25 * 60 * 60)
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(then))
        return signing.dumps(fields, salt=staging.SALT)


def forged(token: str, uploads: Path, monkeypatch) -> str:
    """Signed with the site's key, but not for staging."""
    return signing.dumps(signing.loads(token, salt=staging.SALT))


def file_gone(token: str, uploads: Path, monkeypatch) -> str:
    for path in (uploads / "staging").iterdir():
        path.unlink()
    return token


@pytest.mark.parametrize("spoil", [tampered, expired, forged, file_gone])
def test_it_refuses_a_token_that_cannot_be_used_and_changes_nothing(client, uploads, monkeypatch, spoil):
    raw = b"User: keep it\nAssistant: deleted it\n"
    upload = SimpleUploadedFile("a.txt", raw)
    token = staged_token(client.post("/report/", {**REQUIRED, "transcript_file": upload, "preview": "1"}))
    spoilt = spoil(token, uploads, monkeypatch)
    staged_before = staged_files(uploads)

    response = client.post("/report/", {**REQUIRED, "transcript_staged": spoilt})
    assert response.status_code == 400
    assert response.context["form"]["transcript_file"].errors == [EXPIRED]
    assert f'<a href="#id_transcript_file">…or upload a transcript file: {EXPIRED}</a>' in response.text
    assert not Incident.objects.exists()
    assert staged_files(uploads) == staged_before
    # The page asks for the file again rather than sending the same token back.
    assert staged_token(response) == ""
    assert "Using your file" not in response.text


def test_it_replaces_the_staged_file_with_a_new_one(client, uploads):
    first, second = b"User: keep it\nAssistant: deleted it\n", b"User: stop\nAssistant: I carried on.\n"
    response = client.post(
        "/report/", {**REQUIRED, "transcript_file": SimpleUploadedFile("a.txt", first), "preview": "1"}
    )
    response = client.post(
        "/report/",
        {
            **REQUIRED,
            "transcript_staged": staged_token(response),
            "transcript_file": SimpleUploadedFile("b.txt", second),
            "preview": "1",
        },
    )
    assert "Using your file “b.txt”" in response.text
    assert staged_files(uploads) == [second]

    client.post("/report/", {**REQUIRED, "transcript_staged": staged_token(response)})
    transcript = Transcript.objects.get()
    assert (transcript.raw.read(), transcript.original_filename) == (second, "b.txt")
    assert staged_files(uploads) == []


def test_it_removes_the_staged_file_for_a_pasted_transcript(client, uploads):
    upload = SimpleUploadedFile("a.txt", b"User: keep it\nAssistant: deleted it\n")
    token = staged_token(client.post("/report/", {**REQUIRED, "transcript_file": upload, "preview": "1"}))
    text = "User: Never push to main.\nAssistant: I pushed to main.\n"

    response = client.post("/report/", {**REQUIRED, "transcript_staged": token, "transcript_text": text})
    assert response.status_code == 400
    assert response.context["form"]["transcript_file"].errors == ["Paste a transcript or upload a file, not both."]
    assert staged_token(response) == token

    response = client.post(
        "/report/", {**REQUIRED, "transcript_staged": token, "transcript_staged_remove": "on", "transcript_text": text}
    )
    assert response.status_code == 302
    transcript = Transcript.objects.get()
    assert (transcript.raw.read(), transcript.original_filename) == (text.encode(), "")
    assert staged_files(uploads) == []


def test_it_shows_the_staged_file_name_as_text(client, uploads):
    name = '<img src=x onerror="alert(1)">.txt'
    upload = SimpleUploadedFile(name, b"User: keep it\nAssistant: deleted it\n")
    response = client.post("/report/", {**REQUIRED, "transcript_file": upload, "preview": "1"})
    assert "Using your file “&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.txt”" in response.text
    assert "<img src=x" not in response.text
