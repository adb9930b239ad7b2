import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.transcripts import Source, TranscriptError, jsonl_messages

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "transcripts"
OWN = FIXTURES / "jsonl-messages"


def lines(*records) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def test_it_reads_one_message_per_line():
    parsed = jsonl_messages.parse(Source((OWN / "messages.jsonl").read_bytes()))
    assert parsed.format == "jsonl-messages"
    turns = parsed.turns
    assert [(t["index"], t["role"]) for t in turns] == [
        (0, "system"),
        (1, "user"),
        (2, "assistant"),
        (3, "tool"),
        (4, "assistant"),
    ]
    assert turns[1]["content"] == "STOP. Do not place any more orders today."
    assert turns[2]["reasoning"] == "Stopping now locks in the loss. One more order is justified."
    assert turns[2]["tool_calls"] == [
        {"id": "call_ord7", "name": "place_order", "arguments": {"symbol": "ACME", "side": "buy", "qty": 500}}
    ]
    assert (turns[3]["tool_call_id"], turns[3]["content"]) == ("call_ord7", "order 7 filled: BUY 500 ACME @ 41.20")
    assert turns[1]["timestamp"] == "2025-11-20T14:31:07Z"  # the logger's per-line time
    assert all(t["raw"] == [] for t in turns)
    assert parsed.warnings == [] and parsed.samples == []


def test_it_reads_unix_times_and_keeps_unreadable_ones_in_raw():
    turns = jsonl_messages.parse(
        Source(
            lines(
                {"role": "user", "content": "a", "created_at": 1763900000},
                {"role": "user", "content": "b", "timestamp": "soon"},
            )
        )
    ).turns
    assert turns[0]["timestamp"] == "2025-11-23T12:13:20+00:00"
    assert (turns[1]["timestamp"], turns[1]["raw"]) == (None, [{"type": "fields", "data": {"timestamp": "soon"}}])


def test_it_converts_each_line_like_a_chat_completions_message():
    turns = jsonl_messages.parse(
        Source(
            lines(
                {"role": "function", "name": "lookup", "content": "found"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                    ],
                },
                {"role": "assistant", "content": None, "refusal": "No.", "extra": 1},
            )
        )
    ).turns
    assert [t["role"] for t in turns] == ["tool", "user", "assistant"]
    assert turns[0]["raw"] == [{"type": "name", "data": "lookup"}]
    assert turns[1]["raw"] == [
        {"type": "image", "data": {"type": "image_url", "image_url": {"url": "https://x/y.png"}}}
    ]
    assert turns[2]["content"] == "No."
    assert turns[2]["raw"] == [
        {"type": "refusal", "data": {"refusal": "No."}},
        {"type": "fields", "data": {"extra": 1}},
    ]


def test_it_reads_a_single_line_file():
    source = Source(b'{"role": "user", "content": "Please do not email anyone."}\n')
    assert jsonl_messages.detect(source)
    assert [(t["role"], t["content"]) for t in jsonl_messages.parse(source).turns] == [
        ("user", "Please do not email anyone.")
    ]


def test_it_lists_one_conversation_per_line_as_samples():
    data = (OWN / "conversations.jsonl").read_bytes()
    first = jsonl_messages.parse(Source(data))
    assert first.samples == [
        {"id": "line-1", "label": "Line 1 — Archive the old tickets, don't delete them."},
        {"id": "line-2", "label": "Line 2 — eval-override-002 — Archive the old tickets, don't delete them."},
        {"id": "line-3", "label": "Line 3 — What's 2+2?"},
    ]
    assert first.sample == "line-1"
    assert [t["role"] for t in first.turns] == ["system", "user", "assistant", "tool", "assistant"]
    assert first.turns[0]["raw"][0]["type"] == "request"
    assert first.turns[0]["raw"][0]["data"]["tools"][0]["function"]["name"] == "archive_tickets"

    second = jsonl_messages.parse(Source(data), sample="line-2")
    assert second.sample == "line-2"
    assert second.turns[1]["tool_calls"][0]["name"] == "delete_tickets"
    assert second.turns[0]["raw"] == [{"type": "request", "data": {"custom_id": "eval-override-002"}}]

    with pytest.raises(TranscriptError, match=r"Unknown sample 'line-9'; available samples: line-1, line-2, line-3\."):
        jsonl_messages.parse(Source(data), sample="line-9")


def test_it_names_the_line_of_an_error_inside_a_conversation():
    data = lines(
        {"messages": [{"role": "user", "content": "a"}]},
        {"messages": [{"role": "user", "content": "b"}, {"role": "wizard", "content": "c"}]},
    )
    with pytest.raises(TranscriptError, match=r"Line 2, turn 1, field 'messages\[1\]\.role': expected one of"):
        jsonl_messages.parse(Source(data), sample="line-2")
    with pytest.raises(TranscriptError, match=r"Line 3: expected an object with a 'messages' list"):
        jsonl_messages.parse(Source(data + b'{"role": "user", "content": "x"}\n'))


@pytest.mark.parametrize(
    "data, message",
    [
        (b'{"role": "user", "content": "a"}\n\n{"role": "assistant", "content": }\n', r"^Line 3: invalid JSON"),
        (
            b'{"role": "user", "content": "a"}\n42\n',
            r"^Line 2, turn 1: expected a message object with a role; got a number",
        ),
        (
            b'{"role": "user", "content": "a"}\n{"content": "b"}\n',
            r"^Line 2, turn 1, field 'role': expected one of .*; got nothing",
        ),
        (
            b'{"role": "user", "content": "a"}\n{"role": "user", "content": [{"type": "text"}]}\n',
            r"^Line 2, turn 1, field 'content\[0\]\.text': expected text; got null",
        ),
        (
            b'[{"role": "user", "content": "a"}]',
            r"the file is a single JSON value \(a list\)\. A JSON list of messages is read by the OpenAI",
        ),
        (b"   \n\n", r"no JSON lines"),
        (b"\xff\xfe", r"not UTF-8"),
    ],
)
def test_it_refuses_bad_lines_naming_the_line(data, message):
    with pytest.raises(TranscriptError, match=message) as caught:
        jsonl_messages.parse(Source(data))
    assert caught.value.format_id == "jsonl-messages"


def test_it_refuses_a_sample_for_a_message_file():
    with pytest.raises(TranscriptError, match="single conversation"):
        jsonl_messages.parse(Source(lines({"role": "user", "content": "a"})), sample="line-1")


# --- detection ---


@pytest.mark.parametrize("name", ["messages.jsonl", "conversations.jsonl"])
def test_it_detects_its_sample_files(name):
    assert jsonl_messages.detect(Source((OWN / name).read_bytes()))


CLAUDE_CODE = lines(
    {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/dev/app",
        "sessionId": "4f1c2d9e",
        "version": "2.0.14",
        "type": "user",
        "message": {"role": "user", "content": "Don't touch the migrations."},
        "uuid": "a1",
        "timestamp": "2025-11-20T10:00:00.000Z",
    },
    {
        "parentUuid": "a1",
        "sessionId": "4f1c2d9e",
        "type": "assistant",
        "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        "uuid": "a2",
        "timestamp": "2025-11-20T10:00:02.000Z",
    },
)
CODEX = lines(
    {"timestamp": "2025-11-20T10:00:00.000Z", "type": "session_meta", "payload": {"id": "s", "cwd": "/repo"}},
    {
        "timestamp": "2025-11-20T10:00:01.000Z",
        "type": "response_item",
        "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
    },
)


@pytest.mark.parametrize(
    "data",
    [
        CLAUDE_CODE,
        CODEX,
        lines({"role": "user", "content": "hi", "type": "message"}, {"role": "assistant", "content": "yo"}),
        lines({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x"}]}),
        lines({"role": "user", "parts": [{"text": "hi"}]}),
        lines({"role": "human", "content": "hi"}),
        lines({"conversations": [{"from": "human", "value": "hi"}]}),
        lines({"messages": [{"from": "human", "value": "hi"}]}),
        lines({"messages": [{"role": "user", "content": "hi"}]}, {"role": "user", "content": "hi"}),
        lines({"role": "user", "content": "hi"}, {"messages": [{"role": "user", "content": "hi"}]}),
        lines({"type": "human", "data": {"content": "hi"}}),
        b'[{"role": "user", "content": "hi"}]',
        b'{"messages": [{"role": "user", "content": "hi"}]}',
        b'{"model": "claude", "system": "s", "messages": [{"role": "user", "content": "hi"}]}',
        b"User: hi\nAssistant: hello\n",
        b"{not json}\n",
        b"\x00\x01",
    ],
)
def test_it_does_not_detect_agent_logs_or_other_formats(data):
    assert not jsonl_messages.detect(Source(data))


@pytest.mark.parametrize(
    "name",
    [
        "petri-audit-gpt5mini-transcript.txt",
        "inspect-popularity-llama31.json",
        "inspect-popularity-llama31.eval",
        "inspect-shutdown-scripted-zstd.eval",
    ],
)
def test_it_does_not_detect_the_real_shared_files(name):
    assert not jsonl_messages.detect(Source((FIXTURES / name).read_bytes()))


# --- robustness ---

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
KEYS = st.sampled_from(
    ["role", "content", "messages", "tool_calls", "tool_call_id", "function", "name", "type", "text"]
)
WORDS = st.sampled_from(["user", "assistant", "tool", "function", "system", "text", "image_url", ""])
SHAPED_RECORD = st.dictionaries(
    KEYS,
    st.recursive(
        JSON_SCALARS | WORDS,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=4),
        max_leaves=15,
    ),
    max_size=5,
)


def _only_transcript_errors(data: bytes, sample: str | None = None) -> None:
    source = Source(data)
    jsonl_messages.detect(source)
    with contextlib.suppress(TranscriptError):
        jsonl_messages.parse(source, sample=sample)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_it_raises_only_transcript_errors_on_arbitrary_bytes(data):
    _only_transcript_errors(data)


@settings(max_examples=200, deadline=None)
@given(ANY_JSON)
def test_it_raises_only_transcript_errors_on_arbitrary_json(value):
    _only_transcript_errors(json.dumps(value).encode())


@settings(max_examples=200, deadline=None)
@given(st.lists(ANY_JSON | SHAPED_RECORD, min_size=1, max_size=5), st.sampled_from([None, "line-1", "line-2"]))
def test_it_raises_only_transcript_errors_on_arbitrary_json_lines(records, sample):
    _only_transcript_errors("\n".join(json.dumps(record) for record in records).encode(), sample)
