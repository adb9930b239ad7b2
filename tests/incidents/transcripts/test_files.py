"""Transcripts read from files (uploads in memory or on disk): the same answers as from bytes, line-oriented
formats read one line at a time, limits enforced before the work, and every refusal naming its line."""

import dataclasses
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from incidents import transcripts
from incidents.transcripts import DETECT_BYTES, LINE_CHUNK, Source, TranscriptError, claude_code
from tests.incidents.transcripts.examples import FIXTURES, TYPICAL, jsonl

FILES = sorted(path for path in FIXTURES.rglob("*") if path.is_file() and path.name != "README.md")


class GeneratedLines(io.RawIOBase):
    """A seekable file of ``count`` copies of ``line``, made up as it is read; it counts the bytes it hands out."""

    def __init__(self, line: bytes, count: int) -> None:
        self.line, self.size = line, len(line) * count
        self.position = self.served = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self.size - self.position)
        if wanted <= 0:
            return 0
        start = self.position % len(self.line)
        buffer[:wanted] = (self.line * ((start + wanted) // len(self.line) + 1))[start : start + wanted]
        self.position += wanted
        self.served += wanted
        return wanted


@pytest.fixture
def on_disk():
    """Uploads as Django keeps large ones: temporary files on disk."""
    uploads = []

    def make(data: bytes, name: str = "upload") -> TemporaryUploadedFile:
        upload = TemporaryUploadedFile(name, "application/octet-stream", len(data), None)
        upload.write(data)
        upload.seek(len(data) // 2)  # read from its start, wherever the file stands
        uploads.append(upload)
        return upload

    yield make
    for upload in uploads:
        upload.close()


def outcome(data, format_id: str | None = None, **options) -> tuple[str, dict]:
    try:
        return "parsed", dataclasses.asdict(transcripts.parse(data, format_id, **options))
    except TranscriptError as exc:
        return "refused", exc.as_dict()


def refusal(data, format_id: str | None = None) -> TranscriptError:
    with pytest.raises(TranscriptError) as caught:
        transcripts.parse(data, format_id)
    return caught.value


# --- a file and its bytes give the same answer ------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(FIXTURES)))
def test_it_reads_every_fixture_from_a_file_as_from_its_bytes(path, on_disk):
    data = path.read_bytes()
    named = path.parent.name if path.parent != FIXTURES else None
    for format_id in {None, named}:
        expected = outcome(data, format_id, filename=path.name)
        assert outcome(SimpleUploadedFile(path.name, data), format_id, filename=path.name) == expected
        assert outcome(on_disk(data, path.name), format_id, filename=path.name) == expected


@pytest.mark.parametrize("format_id, data", TYPICAL, ids=lambda value: str(value)[:40])
def test_it_answers_a_file_as_its_bytes_for_typical_and_refused_inputs(format_id, data, on_disk):
    assert outcome(on_disk(data)) == outcome(data)
    for module in transcripts.formats():
        assert outcome(on_disk(data), module.FORMAT_ID) == outcome(data, module.FORMAT_ID)


# --- detection reads the head --------------------------------------------------------------------------------------


def test_it_tells_one_json_value_from_json_lines_past_a_head_of_blank_lines():
    record = {"role": "user", "content": "a"}
    blank = b" \n" * DETECT_BYTES
    assert Source(jsonl(record) + blank).is_json
    several = Source(jsonl(record) + blank + jsonl(record))
    assert not several.is_json
    assert list(several.records()) == [(1, record), (DETECT_BYTES + 2, record)]


def test_it_detects_a_log_whose_first_line_is_longer_than_the_head(on_disk):
    prompt = {"type": "user", "sessionId": "s", "message": {"role": "user", "content": "x" * DETECT_BYTES}}
    answer = {
        "type": "assistant",
        "sessionId": "s",
        "message": {"id": "m", "content": [{"type": "text", "text": "ok"}]},
    }
    assert claude_code.detect(Source(on_disk(jsonl(prompt, answer))))
    parsed = transcripts.parse(on_disk(jsonl(prompt, answer)))
    assert (parsed.format, [turn["role"] for turn in parsed.turns]) == ("claude-code", ["user", "assistant"])


# --- limits before the work ---------------------------------------------------------------------------------------


def test_it_refuses_a_file_over_the_size_limit_without_reading_it(settings):
    settings.TRANSCRIPT_MAX_BYTES = 1024 * 1024
    upload = GeneratedLines(b'{"role": "user", "content": "hi"}\n', 40_000)
    error = refusal(upload)
    assert str(error) == "The transcript is 1.3 MB; the limit is 1.0 MB."
    assert upload.served == 0


# --- the turn limit stops a line-oriented file early -----------------------------------------------------------

FOREVER = {
    "jsonl-messages": b'{"role": "user", "content": "Do not delete anything."}\n',
    "claude-code": b'{"type": "user", "sessionId": "s", "message": {"role": "user", "content": "hi"}}\n',
    "codex-cli": b'{"type": "response_item", "payload": {"type": "message", "role": "user", "content": "hi"}}\n',
    "plain-text": b"User: Do not delete anything.\n",
}


@pytest.mark.parametrize("format_id", FOREVER)
@pytest.mark.parametrize("named", [False, True], ids=["detected", "named"])
def test_it_refuses_too_many_turns_as_soon_as_it_has_read_them(settings, format_id, named):
    settings.TRANSCRIPT_MAX_TURNS = 100
    upload = GeneratedLines(FOREVER[format_id], 15 * 1024 * 1024 // len(FOREVER[format_id]))  # 400,000 lines or more
    error = refusal(upload, format_id if named else None)
    assert str(error) == "The transcript has at least 101 turns; the limit is 100."
    assert error.format_id == format_id
    # Detection read the head, the parse a chunk or two: nowhere near the 15 MB.
    assert upload.served <= DETECT_BYTES + 4 * LINE_CHUNK
    assert upload.tell() <= DETECT_BYTES + 4 * LINE_CHUNK


def test_it_counts_only_the_claude_code_turns_that_are_kept(settings):
    settings.TRANSCRIPT_MAX_TURNS = 2

    def assistant(message_id: str, *blocks: dict) -> dict:
        return {"type": "assistant", "sessionId": "s", "message": {"id": message_id, "content": list(blocks)}}

    user = {"type": "user", "sessionId": "s", "message": {"role": "user", "content": "Keep the backups."}}
    # Three assistant lines with no content are dropped; the first one's message is filled in on the last line.
    lines = [assistant("m1"), assistant("m2"), assistant("m3"), user, assistant("m1", {"type": "text", "text": "ok"})]
    parsed = transcripts.parse(jsonl(*lines))
    assert [(turn["role"], turn["content"]) for turn in parsed.turns] == [
        ("assistant", "ok"),
        ("user", "Keep the backups."),
    ]
    error = refusal(jsonl(*lines, user))
    assert str(error) == "The transcript has at least 3 turns; the limit is 2."


# --- line numbers from the streaming path ----------------------------------------------------------------------


def long_log(record: bytes, bad: bytes) -> tuple[bytes, int]:
    """A log of well over the detection head: records of many lengths (one longer than a read chunk), CRLF endings
    and blank lines, so that lines straddle chunk boundaries; then ``bad``. Returns it and the bad line's number."""
    lines = []
    for number in range(6000):
        padding = b" " * (number * 37 % 700)
        lines.append(record + padding + (b"\r" if number % 3 == 0 else b""))
        if number % 10 == 0:
            lines.append(b"")
        if number == 2000:
            lines.append(record + b" " * (LINE_CHUNK + 1234))
    data = b"\n".join(lines) + b"\n"
    assert len(data) > DETECT_BYTES + 2 * LINE_CHUNK
    return data + bad + b"\n" + record + b"\n", len(lines) + 1


CHAT = b'{"role": "user", "content": "Never touch prod."}'
CLAUDE = b'{"type": "user", "sessionId": "s", "message": {"role": "user", "content": "Never touch prod."}}'
CODEX = b'{"type": "response_item", "payload": {"type": "message", "role": "user", "content": "Never touch prod."}}'


@pytest.mark.parametrize(
    "format_id, record, bad, message",
    [
        ("jsonl-messages", CHAT, b'{"role": "assistant", "content": }', r"Line {n}: invalid JSON: Expecting value"),
        ("jsonl-messages", CHAT, b'{"content": "b"}', r"Line {n}, turn \d+, field 'role': expected one of"),
        ("claude-code", CLAUDE, b"[1, 2]", r"Line {n}: expected a JSON object .*got a JSON array"),
        (
            "claude-code",
            CLAUDE,
            b'{"type": "user", "sessionId": "s", "message": {"content": 42}}',
            r"Line {n}, field 'message.content': expected a string or a list of content blocks",
        ),
        ("codex-cli", CODEX, b'{"payload": {}}', r"Line {n}: expected a rollout line with “type” and “payload”"),
        ("sharegpt", b'{"conversations": [{"from": "human", "value": "hi"}]}', b"{oops", r"Line {n}: invalid JSON"),
    ],
)
def test_it_names_the_line_of_a_problem_far_into_a_file(settings, on_disk, format_id, record, bad, message):
    settings.TRANSCRIPT_MAX_TURNS = 100_000
    data, number = long_log(record, bad)
    for given in (data, on_disk(data)):
        for named in (None, format_id):
            error = refusal(given, named)
            assert error.line == number
            assert error.format_id == format_id
            assert re.match(message.format(n=number), str(error))


# --- a byte that is not UTF-8 names its line -------------------------------------------------------------------


def log_with_a_bad_byte(far: bool) -> tuple[bytes, int]:
    """JSON Lines of messages with a byte that is not UTF-8 (é in Latin-1) on one line, and that line's number."""
    bad = b'{"role": "user", "content": "caf\xe9"}'
    if far:
        return long_log(CHAT, bad)
    return jsonl({"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}) + bad + b"\n", 3


@pytest.mark.parametrize("far", [False, True], ids=["in the head", "past the head"])
def test_it_names_the_line_of_a_byte_that_is_not_utf8(settings, on_disk, far):
    settings.TRANSCRIPT_MAX_TURNS = 100_000
    data, number = log_with_a_bad_byte(far)
    expected = f"Line {number}: The file is not UTF-8 text (undecodable byte at position {data.index(b'\xe9')})."
    for given in (data, on_disk(data)):
        for named in (None, "jsonl-messages"):
            error = refusal(given, named)
            assert (str(error), error.line) == (expected, number)


def test_it_counts_a_byte_order_mark_in_the_position_of_a_bad_byte():
    data = b"\xef\xbb\xbf" + json.dumps({"role": "user", "content": "a"}).encode() + b"\n\xff\n"
    expected = f"Line 2: The file is not UTF-8 text (undecodable byte at position {data.index(b'\xff')})."
    assert str(refusal(data, "jsonl-messages")) == str(refusal(data)) == expected
