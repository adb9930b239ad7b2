"""Auto-detection across every format: each sample file is claimed by its own format, and only it."""

from pathlib import Path

import pytest

from incidents import transcripts
from incidents.transcripts import Source

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "transcripts"
SAMPLES = sorted(path for path in FIXTURES.glob("*/*") if path.is_file())
REAL = {
    "inspect-popularity-llama31.eval": "inspect-eval",
    "inspect-popularity-llama31.json": "inspect-eval",
    "inspect-shutdown-scripted-zstd.eval": "inspect-eval",
    "petri-audit-gpt5mini-transcript.txt": None,
}


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
    claimed = [m.FORMAT_ID for m in transcripts.formats() if m.detect(Source(path.read_bytes(), path.name))]
    assert claimed and claimed[0] == path.parent.name
    parsed = transcripts.parse(path.read_bytes(), filename=path.name)
    assert parsed.format == path.parent.name
    assert parsed.turns


@pytest.mark.parametrize("name, format_id", [(n, f) for n, f in REAL.items() if f])
def test_it_detects_the_real_files(name, format_id):
    assert transcripts.parse((FIXTURES / name).read_bytes(), filename=name).format == format_id


def test_it_refuses_what_no_format_claims():
    with pytest.raises(transcripts.TranscriptError, match="not recognised"):
        transcripts.parse(b'{"hello": "world"}')
    with pytest.raises(transcripts.TranscriptError, match="not UTF-8"):
        transcripts.parse(b"\xff\xfe garbage")
