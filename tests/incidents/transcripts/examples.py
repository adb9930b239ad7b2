"""Inputs and checks shared by the transcript tests: the fixture files, one small typical input of each format
(and inputs no format takes), and the parser contract every format keeps."""

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from incidents.transcripts import ParsedTranscript, Source, TranscriptError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "transcripts"
# Files beside the format folders: real logs (see the README), each claimed by one format or by none.
SHARED_REAL_FILES = {
    "inspect-popularity-llama31.eval": "inspect-eval",
    "inspect-popularity-llama31.json": "inspect-eval",
    "inspect-shutdown-scripted-zstd.eval": "inspect-eval",
    "petri-audit-gpt5mini-transcript.txt": None,
    "petri-audit-gpt5mini-judge.txt": None,
}


def jsonl(*records) -> bytes:
    """JSON Lines: one record per line, each line ending in a newline."""
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def encoded(data) -> bytes:
    """Bytes as they are; anything else as JSON."""
    return data if isinstance(data, bytes) else json.dumps(data).encode()


def summary(parsed: ParsedTranscript) -> list[tuple]:
    """(role, content, ids of the tool calls, id of the call answered) per turn."""
    return [(t["role"], t["content"], [c["id"] for c in t["tool_calls"]], t["tool_call_id"]) for t in parsed.turns]


def format_helpers(
    module: ModuleType,
) -> tuple[Callable[..., ParsedTranscript], Callable, Callable[..., ParsedTranscript]]:
    """``parse(data, sample=None)`` and ``detect(data)`` of one format, for bytes or JSON-able values, and
    ``fixture(name, sample=None)``: the parse of a file in the format's fixture folder."""

    def parse(data, sample: str | None = None) -> ParsedTranscript:
        return module.parse(Source(encoded(data)), sample=sample)

    def detect(data) -> bool:
        return module.detect(Source(encoded(data)))

    def fixture(name: str, sample: str | None = None) -> ParsedTranscript:
        return parse((FIXTURES / module.FORMAT_ID / name).read_bytes(), sample)

    return parse, detect, fixture


# (the format that takes it, input): typical small inputs, each of which only its own format may claim.
TYPICAL = [
    ("plain-text", b"User: hi\nAssistant: hello\n"),
    ("plain-text", b"User: don't delete anything\nAssistant: deleted it"),
    ("openai-chat", encoded([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])),
    ("openai-chat", encoded([{"role": "user", "content": "hi"}])),
    (
        "anthropic-messages",
        encoded({"model": "claude", "system": "s", "messages": [{"role": "user", "content": "hi"}]}),
    ),
    (
        "anthropic-messages",
        encoded(
            {
                "system": "Be brief.",
                "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]}],
            }
        ),
    ),
    ("jsonl-messages", jsonl({"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"})),
    ("gemini", encoded({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})),
    ("sharegpt", encoded({"conversations": [{"from": "human", "value": "hi"}]})),
    ("langchain", encoded([{"type": "human", "data": {"content": "hi"}}])),
    ("chatgpt-export", encoded([{"title": "t", "mapping": {}, "current_node": None}])),
    (
        "claude-code",
        jsonl({"type": "user", "uuid": "u1", "sessionId": "s", "message": {"role": "user", "content": "hi"}}),
    ),
    ("codex-cli", jsonl({"timestamp": "2025-10-21T14:03:11Z", "type": "session_meta", "payload": {"id": "x"}})),
    (None, b""),
    (None, encoded([])),
    (None, b"PK\x03\x04 not really a zip"),
    (None, b"\xff\xfe\x00"),
    (None, b"\x00\x01binary"),
]


def check_contract(module: ModuleType, data: bytes, sample: str | None = None) -> None:
    """What every format promises for any input: ``detect`` answers True or False, ``parse`` raises nothing but
    TranscriptError, and the turns it returns are numbered in order and can be stored as JSON."""
    source = Source(data)
    assert module.detect(source) in (True, False)
    try:
        parsed = module.parse(source, sample=sample)
    except TranscriptError:
        return
    assert [turn["index"] for turn in parsed.turns] == list(range(len(parsed.turns)))
    json.dumps(parsed.turns)
