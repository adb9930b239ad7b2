import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.transcripts import Source, TranscriptError, jsonl_messages
from tests.incidents.transcripts.examples import FIXTURES, check_contract, jsonl
from tests.incidents.transcripts.strategies import JSON, shaped

OWN = FIXTURES / "jsonl-messages"


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
            jsonl(
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
            jsonl(
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
    data = jsonl(
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
        jsonl_messages.parse(Source(jsonl({"role": "user", "content": "a"})), sample="line-1")


# --- detection ---


CLAUDE_CODE = jsonl(
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
CODEX = jsonl(
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
        jsonl({"role": "user", "content": "hi", "type": "message"}, {"role": "assistant", "content": "yo"}),
        jsonl({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x"}]}),
        jsonl({"role": "user", "parts": [{"text": "hi"}]}),
        jsonl({"role": "human", "content": "hi"}),
        jsonl({"messages": [{"from": "human", "value": "hi"}]}),
        jsonl({"messages": [{"role": "user", "content": "hi"}]}, {"role": "user", "content": "hi"}),
        jsonl({"role": "user", "content": "hi"}, {"messages": [{"role": "user", "content": "hi"}]}),
        jsonl({"type": "human", "data": {"content": "hi"}}),
        b'{"messages": [{"role": "user", "content": "hi"}]}',
        b"{not json}\n",
    ],
)
def test_it_does_not_detect_agent_logs_or_other_formats(data):
    assert not jsonl_messages.detect(Source(data))


# --- robustness ---

KEYS = ["role", "content", "messages", "tool_calls", "tool_call_id", "function", "name", "type", "text"]
WORDS = ["user", "assistant", "tool", "function", "system", "text", "image_url", ""]
SHAPED_RECORD = st.dictionaries(st.sampled_from(KEYS), shaped(KEYS, WORDS, allow_nan=True), max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(JSON | SHAPED_RECORD, min_size=1, max_size=5), st.sampled_from([None, "line-1", "line-2"]))
def test_it_raises_only_transcript_errors_on_arbitrary_json_lines(records, sample):
    check_contract(jsonl_messages, "\n".join(json.dumps(record) for record in records).encode(), sample)
