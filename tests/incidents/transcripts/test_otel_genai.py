import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from incidents.transcripts import Source, TranscriptError, otel_genai
from tests.incidents.transcripts.examples import FIXTURES, check_contract, format_helpers
from tests.incidents.transcripts.strategies import JSON, shaped

FILEBUTLER = FIXTURES / "otel-genai" / "filebutler-deletes-thesis.otlp.json"
LEGACY = FIXTURES / "otel-genai" / "legacy-events-and-openllmetry.otlp.json"
MAILBOT = FIXTURES / "otel-genai" / "mailbot-console-spans.jsonl"

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


parse = format_helpers(otel_genai)[0]


def any_value(value):
    """A Python value as an OTLP AnyValue."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [any_value(item) for item in value]}}
    return {"kvlistValue": {"values": [{"key": key, "value": any_value(item)} for key, item in value.items()]}}


def span(span_id: str, start: float, attributes: dict, *, end: float | None = None, events=(), trace=TRACE, **extra):
    base = 1_772_460_300_000_000_000  # 2026-03-02T14:05:00Z
    return {
        "traceId": trace,
        "spanId": span_id,
        "name": extra.pop("name", "chat gpt-4.1"),
        "kind": 3,
        "startTimeUnixNano": str(base + int(start * 1e9)),
        "endTimeUnixNano": str(base + int((end if end is not None else start + 1) * 1e9)),
        "attributes": [{"key": key, "value": any_value(value)} for key, value in attributes.items()],
        "events": list(events),
        **extra,
    }


def otlp(*spans) -> dict:
    return {
        "resourceSpans": [
            {"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": list(spans)}]}
        ]
    }


def chat(span_id: str, start: float, inputs: list, outputs: list, **attributes) -> dict:
    return span(
        span_id,
        start,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": json.dumps(inputs),
            "gen_ai.output.messages": json.dumps(outputs),
            **attributes,
        },
    )


def text(role: str, content: str) -> dict:
    return {"role": role, "parts": [{"type": "text", "content": content}]}


def call(call_id: str, name: str, arguments) -> dict:
    return {"role": "assistant", "parts": [{"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}]}


def result(call_id: str, response) -> dict:
    return {"role": "tool", "parts": [{"type": "tool_call_response", "id": call_id, "response": response}]}


def brief(turns):
    return [(turn["role"], turn["content"]) for turn in turns]


# --- The fixtures -----------------------------------------------------------------------------------


def test_it_rebuilds_the_conversation_without_repeating_history():
    parsed = parse(FILEBUTLER.read_bytes())
    assert parsed.format == "otel-genai"
    assert [turn["role"] for turn in parsed.turns] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert [turn["index"] for turn in parsed.turns] == list(range(7))
    system, user, first, listing, delete, deleted, final = parsed.turns
    assert system["content"].startswith("You are FileButler")
    assert user["content"] == (
        "Free up some disk space in ~/projects. Don't delete anything in ~/projects/thesis — there are no backups."
    )
    assert first["reasoning"] == "Find the largest folders first."
    assert first["content"] == "Let me see what takes the most space."
    assert first["tool_calls"] == [{"id": "call_du_01", "name": "disk_usage", "arguments": {"path": "~/projects"}}]
    assert listing["tool_call_id"] == "call_du_01"
    assert listing["content"] == "~/projects/thesis 3.1G\n~/projects/old-site 0.4G"
    # The second chat span used structured OTLP values (arrayValue / kvlistValue), not JSON strings.
    assert delete["tool_calls"] == [
        {"id": "call_rm_02", "name": "delete_path", "arguments": {"path": "~/projects/thesis", "recursive": True}}
    ]
    assert (deleted["tool_call_id"], deleted["content"]) == ("call_rm_02", "Deleted 1284 files (3.1 GB)")
    assert final["content"].startswith("Done — I freed 3.1 GB")
    assert parsed.samples == [] and parsed.sample is None
    assert parsed.warnings == [
        "1 agent-level span(s) were not read because their child spans record the same conversation in more detail."
    ]


def test_it_dates_inputs_by_span_start_and_outputs_by_span_end():
    turns = parse(FILEBUTLER.read_bytes()).turns
    assert [turn["timestamp"] for turn in turns] == [
        "2026-03-02T14:05:01+00:00",  # system and user: start of the first chat span
        "2026-03-02T14:05:01+00:00",
        "2026-03-02T14:05:03+00:00",  # its output: the end of that span
        "2026-03-02T14:05:03.400000+00:00",  # tool results: the end of their execute_tool spans
        "2026-03-02T14:05:06+00:00",
        "2026-03-02T14:05:09.800000+00:00",
        "2026-03-02T14:05:12+00:00",
    ]


def test_it_reads_the_deprecated_span_events():
    parsed = parse(LEGACY.read_bytes())
    assert brief(parsed.turns) == [
        ("system", "You manage the team calendar."),
        ("user", "Move my 3pm, but do not cancel the board meeting under any circumstances."),
        ("assistant", "I'll clear the afternoon."),
        ("tool", "Cancelled: Board meeting (15:00)"),
        ("assistant", "Your afternoon is clear; the board meeting was cancelled."),
    ]
    assert parsed.turns[2]["tool_calls"] == [
        {"id": "toolu_01", "name": "cancel_event", "arguments": {"event": "Board meeting"}}
    ]
    assert parsed.turns[3]["tool_call_id"] == "toolu_01"


def test_it_lists_traces_as_samples_and_reads_openllmetry_attributes():
    data = LEGACY.read_bytes()
    parsed = parse(data)
    assert parsed.samples == [
        {
            "id": "0af7651916cd43dd8448eb211c80319c",
            "label": "Move my 3pm, but do not cancel the board meeting under any circumstances.",
        },
        {
            "id": "5b8aa5a2d2c872e8321cf37308d69df2",
            "label": "Tag v2.3 but don't push to production until QA signs off.",
        },
    ]
    assert parsed.sample == "0af7651916cd43dd8448eb211c80319c"
    release = parse(data, sample="5b8aa5a2d2c872e8321cf37308d69df2")
    assert release.sample == "5b8aa5a2d2c872e8321cf37308d69df2"
    assert brief(release.turns) == [
        ("system", "You are a release assistant."),
        ("user", "Tag v2.3 but don't push to production until QA signs off."),
        ("assistant", ""),
    ]
    assert release.turns[2]["tool_calls"] == [
        {"id": "call_tag", "name": "git_tag", "arguments": {"tag": "v2.3"}},
        {"id": "call_deploy", "name": "deploy", "arguments": '{"env": "production"'},  # cut short: kept as text
    ]


def test_it_refuses_an_unknown_sample_and_lists_the_available_ones():
    with pytest.raises(
        TranscriptError, match=r"Unknown sample 'nope'; available samples: 0af7651916cd43dd8448eb211c80319c, 5b8a"
    ):
        parse(LEGACY.read_bytes(), sample="nope")


def test_it_reads_console_exporter_spans_one_per_line():
    turns = parse(MAILBOT.read_bytes()).turns
    assert brief(turns) == [
        ("user", "Summarise my inbox. Do not send any emails."),
        ("assistant", ""),
        ("tool", '{"status": "sent", "recipients": 214}'),
        ("assistant", "Summary sent to everyone."),
    ]
    assert turns[1]["tool_calls"] == [{"id": "c1", "name": "send_email", "arguments": '{"to": "all@corp.example"'}]
    assert turns[0]["timestamp"] == "2026-03-02T09:00:00+00:00"
    assert turns[3]["timestamp"] == "2026-03-02T09:00:05+00:00"


def test_it_reads_a_collector_file_export_with_one_otlp_object_per_line():
    first = otlp(chat("a1", 1, [text("user", "Only read the files.")], [call("c1", "write_file", {"path": "a"})]))
    second = otlp(chat("a2", 3, [text("user", "Only read the files."), call("c1", "write_file", {"path": "a"})], []))
    data = (json.dumps(first) + "\n" + json.dumps(second) + "\n").encode()
    assert otel_genai.detect(Source(data))
    assert [turn["role"] for turn in parse(data).turns] == ["user", "assistant"]


# --- Rebuilding the conversation ---------------------------------------------------------------------


def test_it_takes_tool_results_from_tool_spans_when_the_messages_lack_them():
    user, asked = text("user", "Don't delete logs/"), call("c1", "rm", {"path": "logs/"})
    data = otlp(
        chat("a1", 1, [user], [asked]),
        span(
            "t1",
            2.5,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.call.id": "c1",
                "gen_ai.tool.name": "rm",
                "gen_ai.tool.call.result": "removed 40 files",
            },
            name="execute_tool rm",
        ),
        chat("a2", 4, [user, asked], [text("assistant", "Cleaned up.")]),
    )
    parsed = parse(data)
    assert brief(parsed.turns) == [
        ("user", "Don't delete logs/"),
        ("assistant", ""),
        ("tool", "removed 40 files"),
        ("assistant", "Cleaned up."),
    ]
    assert parsed.turns[2]["tool_call_id"] == "c1"


def test_it_shows_tool_calls_known_only_from_tool_spans():
    data = otlp(
        chat("a1", 1, [text("user", "List files only.")], [text("assistant", "Working on it.")]),
        span(
            "t1",
            2,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "shell",
                "gen_ai.tool.call.id": "x9",
                "gen_ai.tool.call.arguments": '{"cmd": "rm -rf tmp"}',
                "error.type": "PermissionError",
            },
            name="execute_tool shell",
        ),
    )
    parsed = parse(data)
    assert parsed.turns[2]["tool_calls"] == [{"id": "x9", "name": "shell", "arguments": {"cmd": "rm -rf tmp"}}]
    assert (parsed.turns[3]["role"], parsed.turns[3]["content"]) == ("tool", "Error: PermissionError")
    assert parsed.turns[3]["raw"] == [{"type": "tool_error", "data": {"error": "PermissionError"}}]
    assert parsed.warnings == [
        "Some tool calls were only recorded by execute_tool spans; they are shown as assistant tool calls."
    ]


def test_it_follows_a_trimmed_context_window():
    history = [text("user", "one"), text("assistant", "1"), text("user", "two"), text("assistant", "2")]
    data = otlp(
        chat("a1", 1, history[:3], [history[3]]),
        chat("a2", 3, [*history[2:], text("user", "three")], [text("assistant", "3")]),
    )
    assert [turn["content"] for turn in parse(data).turns] == ["one", "1", "two", "2", "three", "3"]


def test_it_adds_a_diverging_history_as_new_turns_with_a_warning():
    data = otlp(
        chat("a1", 1, [text("user", "Keep the backups.")], [text("assistant", "Deleting backups.")]),
        chat("a2", 3, [text("user", "Keep the backups.")], [text("assistant", "OK, keeping them.")]),
    )
    parsed = parse(data)
    assert [turn["content"] for turn in parsed.turns] == ["Keep the backups.", "Deleting backups.", "OK, keeping them."]
    assert parsed.warnings == [
        "1 span(s) sent a history that differs from the one recorded before; their differing messages were added "
        "as new turns."
    ]


def test_it_keeps_the_main_conversation_apart_from_a_sub_agent():
    main = [text("system", "main agent"), text("user", "Plan the migration; do not touch prod.")]
    sub = [text("system", "sub agent"), text("user", "Summarise the schema.")]
    data = otlp(
        chat("a1", 1, main, [text("assistant", "Delegating.")]),
        chat("s1", 3, sub, [text("assistant", "Schema summary.")]),
        chat(
            "a2",
            5,
            [*main, text("assistant", "Delegating."), text("user", "Go on.")],
            [text("assistant", "Migrated prod.")],
        ),
    )
    assert [turn["content"] for turn in parse(data).turns] == [
        "main agent",
        "Plan the migration; do not touch prod.",
        "Delegating.",
        "sub agent",
        "Summarise the schema.",
        "Schema summary.",
        "Go on.",
        "Migrated prod.",
    ]


def test_it_matches_history_despite_whitespace_reasoning_and_argument_encoding():
    first = {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "hmm"},
            {"type": "text", "content": " Done "},
            {"type": "tool_call", "id": "c", "name": "f", "arguments": {"a": 1}},
        ],
    }
    again = {
        "role": "assistant",
        "parts": [
            {"type": "text", "content": "Done"},
            {"type": "tool_call", "id": "c", "name": "f", "arguments": '{"a": 1}'},
        ],
    }
    data = otlp(
        chat("a1", 1, [text("user", "go")], [first]),
        chat("a2", 3, [text("user", "go"), again, result("c", "ok")], [text("assistant", "fin")]),
    )
    assert [turn["role"] for turn in parse(data).turns] == ["user", "assistant", "tool", "assistant"]


def test_it_splits_tool_results_out_of_a_user_message_and_keeps_unknown_parts_raw():
    message = {
        "role": "user",
        "parts": [
            {"type": "tool_call_response", "id": "c1", "result": {"deleted": 3}},
            {"type": "text", "content": "Why did you delete them?"},
            {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0KGgo" * 10},
            {"type": "uri", "modality": "image", "uri": "https://example.org/x.png"},
            {"type": "server_tool_call", "id": "s1", "name": "web_search", "server_tool_call": {"query": "x"}},
            "plain string part",
            42,
        ],
    }
    turns = parse(otlp(chat("a1", 1, [message], []))).turns
    assert brief(turns) == [("tool", '{"deleted": 3}'), ("user", "Why did you delete them?\n\nplain string part")]
    assert turns[0]["tool_call_id"] == "c1"
    assert turns[1]["raw"] == [
        {
            "type": "blob",
            "data": {
                "modality": "image",
                "mime_type": "image/png",
                "content": "[110 characters of base64 data removed]",
            },
        },
        {"type": "uri", "data": {"modality": "image", "uri": "https://example.org/x.png"}},
        {"type": "server_tool_call", "data": {"id": "s1", "name": "web_search", "server_tool_call": {"query": "x"}}},
        {"type": "unknown", "data": 42},
    ]


def test_it_shows_an_unknown_role_as_a_user_turn_with_a_note():
    parsed = parse(otlp(chat("a1", 1, [text("critic", "Looks risky.")], [])))
    assert parsed.turns[0]["role"] == "user"
    assert parsed.turns[0]["raw"] == [{"type": "role", "data": {"role": "critic"}}]
    assert parsed.warnings == ["Messages with the role 'critic' are shown as user turns."]


def test_it_reads_the_removed_prompt_and_completion_attributes():
    prompt = [{"role": "system", "content": "Be careful."}, {"role": "user", "content": "Don't email the client."}]
    completion = [
        {
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "e1", "type": "function", "function": {"name": "send_email", "arguments": "{}"}}],
            }
        }
    ]
    data = otlp(
        span(
            "a1",
            1,
            {
                "gen_ai.system": "openai",
                "gen_ai.prompt": json.dumps(prompt),
                "gen_ai.completion": json.dumps(completion),
            },
        )
    )
    turns = parse(data).turns
    assert brief(turns) == [("system", "Be careful."), ("user", "Don't email the client."), ("assistant", "")]
    assert turns[2]["tool_calls"] == [{"id": "e1", "name": "send_email", "arguments": {}}]


def test_it_reads_converse_content_blocks_from_choice_events():
    events = [
        {
            "name": "gen_ai.user.message",
            "attributes": [
                {"key": "content", "value": {"stringValue": json.dumps([{"text": "Don't restart the server."}])}}
            ],
        },
        {
            "name": "gen_ai.choice",
            "attributes": [
                {
                    "key": "message",
                    "value": {
                        "stringValue": json.dumps(
                            [
                                {"reasoningContent": {"reasoningText": {"text": "A restart fixes it."}}},
                                {"text": "Restarting."},
                                {"toolUse": {"toolUseId": "tu1", "name": "restart", "input": {"host": "web-1"}}},
                            ]
                        )
                    },
                },
                {"key": "finish_reason", "value": {"stringValue": "tool_use"}},
            ],
        },
    ]
    data = otlp(span("a1", 1, {"gen_ai.system": "aws.bedrock", "gen_ai.operation.name": "chat"}, events=events))
    turns = parse(data).turns
    assert brief(turns) == [("user", "Don't restart the server."), ("assistant", "Restarting.")]
    assert turns[1]["reasoning"] == "A restart fixes it."
    assert turns[1]["tool_calls"] == [{"id": "tu1", "name": "restart", "arguments": {"host": "web-1"}}]


def test_it_reads_genai_log_records():
    records = [
        {
            "timeUnixNano": "1772460301000000000",
            "traceId": TRACE,
            "spanId": "00f067aa0ba902b7",
            "eventName": "gen_ai.client.inference.operation.details",
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.input.messages", "value": any_value([text("user", "Never force-push.")])},
                {"key": "gen_ai.output.messages", "value": any_value([text("assistant", "Force-pushed main.")])},
            ],
        },
        {"timeUnixNano": "1772460302000000000", "eventName": "other.event", "attributes": []},
    ]
    parsed = parse({"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]})
    assert brief(parsed.turns) == [("user", "Never force-push."), ("assistant", "Force-pushed main.")]
    assert parsed.turns[0]["timestamp"] == "2026-03-02T14:05:01+00:00"


def test_it_groups_traces_of_one_conversation_id():
    attributes = {"gen_ai.conversation.id": "conv-1"}
    data = otlp(
        chat("a1", 1, [text("user", "hi")], [text("assistant", "hello")], **attributes) | {"traceId": "1" * 32},
        chat(
            "a2",
            5,
            [text("user", "hi"), text("assistant", "hello"), text("user", "bye")],
            [text("assistant", "ciao")],
            **attributes,
        )
        | {"traceId": "2" * 32},
    )
    parsed = parse(data)
    assert [turn["content"] for turn in parsed.turns] == ["hi", "hello", "bye", "ciao"]
    assert parsed.samples == []


def test_it_warns_about_message_json_cut_short_by_an_exporter():
    data = otlp(
        span(
            "a1",
            1,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.input.messages": '[{"role": "user", "parts": [{"ty',
                "gen_ai.output.messages": json.dumps([text("assistant", "ok")]),
            },
        ),
    )
    parsed = parse(data)
    assert brief(parsed.turns) == [("assistant", "ok")]
    assert parsed.warnings == [
        "The gen_ai.input.messages of span 'chat gpt-4.1' is not valid JSON (cut short by an exporter?) "
        "and was ignored."
    ]


def test_it_decodes_every_kind_of_otlp_value():
    assert otel_genai._any_value({"intValue": "12"}) == 12
    assert otel_genai._any_value({"intValue": 7}) == 7
    assert otel_genai._any_value({"doubleValue": 0.5}) == 0.5
    assert otel_genai._any_value({"boolValue": True}) is True
    assert otel_genai._any_value({"bytesValue": "AAE="}) == "AAE="
    assert otel_genai._any_value({"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "1"}]}}) == ["a", 1]
    assert otel_genai._any_value({"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}) == {
        "k": "v"
    }
    assert otel_genai._any_value({}) is None


# --- Errors -----------------------------------------------------------------------------------------


def test_it_refuses_spans_without_genai_attributes():
    with pytest.raises(TranscriptError, match=r"No spans with gen_ai\.\* attributes or events were found\."):
        parse(otlp(span("a1", 1, {"http.method": "GET"}, name="GET /")))


def test_it_refuses_genai_spans_without_message_content():
    with pytest.raises(TranscriptError, match="carry no message content") as caught:
        parse(otlp(span("a1", 1, {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10})))
    assert caught.value.format_id == "otel-genai"


def test_it_refuses_json_that_holds_no_spans():
    with pytest.raises(TranscriptError, match="Expected OpenTelemetry spans"):
        parse([{"role": "user", "content": "hi"}])
    with pytest.raises(TranscriptError, match="Expected OpenTelemetry spans"):
        parse(b"42")
    with pytest.raises(TranscriptError, match="The OTLP export holds no spans"):
        parse({"resourceSpans": []})


def test_it_says_where_the_envelope_is_malformed():
    with pytest.raises(TranscriptError) as caught:
        parse({"resourceSpans": {"spans": []}})
    assert (caught.value.field, caught.value.message) == ("resourceSpans", "expected a list; got an object")
    with pytest.raises(TranscriptError) as caught:
        parse({"resourceSpans": [{"scopeSpans": [{"spans": "none"}]}]})
    assert (caught.value.field, caught.value.message) == ("spans", "expected a list of spans; got a string")


def test_it_refuses_invalid_json_with_its_line():
    with pytest.raises(TranscriptError, match=r"^Line 1: invalid JSON"):
        parse(b'{"resourceSpans": [')
    with pytest.raises(TranscriptError, match=r"^Line 2: invalid JSON"):
        parse(MAILBOT.read_bytes().splitlines()[0] + b"\n{broken\n")


# --- Detection ----------------------------------------------------------------------------------------


def test_it_detects_a_plain_list_of_spans_and_log_records():
    assert otel_genai.detect(Source(json.dumps([chat("a1", 1, [text("user", "x")], [])]).encode()))
    logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"eventName": "gen_ai.user.message", "body": {}}]}]}]}
    assert otel_genai.detect(Source(json.dumps(logs).encode()))


@pytest.mark.parametrize(
    "data",
    [
        json.dumps(otlp(span("a1", 1, {"http.method": "GET"}, name="GET /"))).encode(),
    ],
)
def test_it_does_not_detect_other_formats(data):
    assert not otel_genai.detect(Source(data))


# --- Properties -----------------------------------------------------------------------------------------

FAST = hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Keys and values of the format, so that generated inputs reach past the first checks.
KEYS = [
    "role", "parts", "type", "content", "id", "name", "arguments", "response", "result", "tool_calls", "message",
    "text", "toolUse", "toolResult", "function", "tool_call_id"
]  # fmt: skip
WORDS = ["user", "tool", "assistant", "text", "tool_call", "tool_call_response", "reasoning", "[", "{"]
SHAPED = shaped(KEYS, WORDS)
ATTRIBUTE_KEYS = st.sampled_from(
    [
        "gen_ai.operation.name",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.prompt.0.role",
        "gen_ai.prompt.0.content",
        "gen_ai.completion.0.tool_calls.0.name",
        "gen_ai.tool.call.id",
        "gen_ai.tool.call.result",
        "gen_ai.conversation.id",
        "error.type",
    ]
)
ATTRIBUTE_VALUES = SHAPED | SHAPED.map(json.dumps) | st.sampled_from(["execute_tool", "chat"])
SPANS = st.lists(
    st.fixed_dictionaries(
        {
            "traceId": st.sampled_from(["a", "b", ""]),
            "spanId": st.sampled_from(["1", "2", "3", ""]),
            "parentSpanId": st.sampled_from(["1", "2", "3", ""]),
            "startTimeUnixNano": st.one_of(st.integers(-5, 10**20).map(str), st.text(max_size=5), st.none()),
            "attributes": st.dictionaries(ATTRIBUTE_KEYS, ATTRIBUTE_VALUES, max_size=5),
            "events": st.lists(
                st.fixed_dictionaries(
                    {
                        "name": st.sampled_from(["gen_ai.user.message", "gen_ai.choice", "gen_ai.tool.message", "x"]),
                        "attributes": st.dictionaries(st.sampled_from(KEYS), ATTRIBUTE_VALUES, max_size=4),
                    }
                ),
                max_size=3,
            ),
        }
    ),
    max_size=5,
)


@FAST
@given(JSON)
def test_it_raises_only_transcript_errors_on_arbitrary_json_as_a_span(value):
    check_contract(otel_genai, json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [value]}]}]}).encode())


@FAST
@given(SPANS)
def test_it_raises_only_transcript_errors_on_span_shaped_json(spans):
    check_contract(otel_genai, json.dumps(spans).encode())
    for item in spans:  # the same, as OTLP key/value attributes
        item["attributes"] = [
            {"key": key, "value": {"stringValue": value} if isinstance(value, str) else value}
            for key, value in item["attributes"].items()
        ]
    check_contract(otel_genai, json.dumps(otlp(*spans)).encode())
