"""Auto-detection across every format: each sample file is claimed by its own format, and only it."""

import pytest

from incidents import transcripts
from incidents.transcripts import Source
from tests.incidents.transcripts.examples import FIXTURES, SHARED_REAL_FILES, TYPICAL

SAMPLES = sorted(path for path in FIXTURES.glob("*/*") if path.is_file())


def claimants(data: bytes, filename: str = "") -> list[str]:
    return [m.FORMAT_ID for m in transcripts.formats() if m.detect(Source(data, filename))]


def test_it_knows_every_format_by_id():
    assert [m.FORMAT_ID for m in transcripts.formats()] == [
        "inspect-eval",
        "otel-genai",
        "claude-code",
        "codex-cli",
        "chatgpt-export",
        "langchain",
        "sharegpt",
        "gemini",
        "openai-responses",
        "anthropic-messages",
        "openai-chat",
        "jsonl-messages",
        "plain-text",
    ]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_it_detects_each_sample_as_its_own_format(path):
    assert claimants(path.read_bytes(), path.name) == [path.parent.name]
    parsed = transcripts.parse(path.read_bytes(), filename=path.name)
    assert parsed.format == path.parent.name
    assert parsed.turns


@pytest.mark.parametrize("name, format_id", SHARED_REAL_FILES.items())
def test_it_lets_only_their_own_format_claim_the_real_files(name, format_id):
    data = (FIXTURES / name).read_bytes()
    assert claimants(data, name) == ([format_id] if format_id else [])
    if format_id:
        assert transcripts.parse(data, filename=name).format == format_id


@pytest.mark.parametrize("format_id, data", TYPICAL, ids=lambda value: str(value)[:40])
def test_it_lets_only_its_own_format_claim_a_typical_input(format_id, data):
    assert claimants(data) == ([format_id] if format_id else [])


def test_it_refuses_what_no_format_claims():
    with pytest.raises(transcripts.TranscriptError, match="not recognised"):
        transcripts.parse(b'{"hello": "world"}')
    with pytest.raises(transcripts.TranscriptError, match="not UTF-8"):
        transcripts.parse(b"\xff\xfe garbage")
