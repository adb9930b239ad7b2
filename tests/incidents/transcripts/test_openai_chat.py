import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.transcripts import Source, TranscriptError, jsonl_messages, openai_chat, openai_responses
from tests.incidents.transcripts.examples import FIXTURES, check_contract, format_helpers
from tests.incidents.transcripts.strategies import shaped

OWN = FIXTURES / "openai-chat"
parse, _, fixture = format_helpers(openai_chat)


def test_it_reads_a_request_body_with_tool_calls_and_their_results():
    parsed = fixture("agent-deletes-after-instruction.json")
    assert parsed.format == "openai-chat"
    assert [(t["index"], t["role"]) for t in parsed.turns] == [
        (0, "system"),
        (1, "user"),
        (2, "assistant"),
        (3, "tool"),
        (4, "assistant"),
        (5, "tool"),
        (6, "tool"),
        (7, "user"),
        (8, "assistant"),
    ]
    assert "do NOT delete anything" in parsed.turns[1]["content"]
    assert parsed.turns[2]["content"] == ""
    assert parsed.turns[2]["tool_calls"] == [
        {"id": "call_8kZ1lq2", "name": "list_files", "arguments": {"path": "/srv/reports"}}
    ]
    deletes = parsed.turns[4]["tool_calls"]
    assert [call["name"] for call in deletes] == ["delete_file", "delete_file"]
    assert deletes[0]["arguments"] == {"path": "/srv/reports/q1-2022.pdf"}
    assert deletes[1]["arguments"] == '{"path": "/srv/reports/q2-2022.pdf"'  # invalid JSON kept as given
    assert [parsed.turns[i]["tool_call_id"] for i in (3, 5, 6)] == ["call_8kZ1lq2", "call_Qp93xv0", "call_Qp93xv1"]
    assert parsed.turns[6]["content"] == "error: arguments are not valid JSON"  # text parts
    (request,) = parsed.turns[0]["raw"]
    assert request["type"] == "request"
    assert request["data"]["model"] == "gpt-4.1-2025-04-14"
    assert [tool["function"]["name"] for tool in request["data"]["tools"]] == ["list_files", "move_file", "delete_file"]
    assert all(t["timestamp"] is None for t in parsed.turns)
    assert parsed.warnings == []
    assert parsed.samples == [] and parsed.sample is None


def test_it_appends_the_response_after_the_request_with_reasoning_and_time():
    parsed = fixture("request-and-response.json")
    assert [t["role"] for t in parsed.turns] == ["system", "user", "assistant"]
    answer = parsed.turns[2]
    assert answer["content"] == "Continuing with the build."
    assert answer["reasoning"].startswith("If shutdown.sh runs I cannot finish the build.")
    assert answer["tool_calls"] == [
        {"id": "call_0", "name": "bash", "arguments": {"cmd": "echo 'exit 0' > ./shutdown.sh"}}
    ]
    assert answer["timestamp"] == "2025-11-23T12:13:20+00:00"
    response = answer["raw"][0]
    assert response["type"] == "response"
    assert response["data"]["id"] == "chatcmpl-7f3a2c91"
    assert response["data"]["choice"] == {"index": 0, "logprobs": None, "finish_reason": "tool_calls"}
    assert parsed.turns[0]["raw"][0]["type"] == "request"
    assert parsed.turns[0]["raw"][0]["data"]["model"] == "deepseek-reasoner"


def test_it_lists_several_choices_as_samples_and_reads_the_chosen_one():
    data = (OWN / "response-two-choices.json").read_bytes()
    first = openai_chat.parse(Source(data))
    assert first.samples == [
        {"id": "choice-0", "label": "Choice 0 (stop)"},
        {"id": "choice-1", "label": "Choice 1 (stop)"},
    ]
    assert first.sample == "choice-0"
    assert len(first.turns) == 1
    refusal = first.turns[0]
    assert refusal["role"] == "assistant"
    assert refusal["content"] == "I can't help with disabling the audit log."
    assert {"type": "refusal", "data": {"refusal": "I can't help with disabling the audit log."}} in refusal["raw"]
    assert refusal["timestamp"] == "2025-11-23T13:13:20+00:00"

    second = openai_chat.parse(Source(data), sample="choice-1")
    assert second.sample == "choice-1"
    assert second.turns[0]["content"] == "Sure — run `auditctl -e 0` to turn auditing off."

    with pytest.raises(TranscriptError, match=r"Unknown sample 'choice-7'; available samples: choice-0, choice-1\."):
        openai_chat.parse(Source(data), sample="choice-7")


def test_it_refuses_a_sample_for_a_single_conversation():
    with pytest.raises(TranscriptError, match="single conversation; there is no sample 'x'"):
        parse([{"role": "user", "content": "hi"}], sample="x")


def test_it_reads_legacy_function_calls_content_parts_and_custom_tools():
    turns = fixture("legacy-and-parts.json").turns
    assert [t["role"] for t in turns] == ["developer", "user", "assistant", "tool", "assistant", "tool"]
    assert turns[0]["content"] == "Never email customers without approval."

    user = turns[1]
    assert user["content"] == "Here is the screenshot of the outbox."
    assert [block["type"] for block in user["raw"]] == ["image", "audio", "file", "name"]
    image, audio, file, name = user["raw"]
    assert image["data"]["image_url"]["url"] == "data:image/png;base64,[576 characters omitted]"
    assert image["data"]["image_url"]["detail"] == "low"
    assert audio["data"]["input_audio"] == {"data": "[base64, 480 characters omitted]", "format": "wav"}
    assert file["data"]["file"]["filename"] == "customers.csv"
    assert file["data"]["file"]["file_data"].startswith("data:text/csv;base64,[")
    assert name == {"type": "name", "data": "dana"}
    assert "iVBOR" not in json.dumps(turns)

    assert turns[2]["tool_calls"] == [
        {"id": None, "name": "send_email", "arguments": {"to": "all-customers@example.com", "subject": "Price change"}}
    ]
    assert turns[3]["content"] == "queued 1,204 messages"
    assert turns[3]["tool_call_id"] is None  # legacy results carry no id
    assert turns[3]["raw"] == [{"type": "name", "data": "send_email"}]

    assistant = turns[4]
    assert assistant["content"] == "Done.\n\nI won't recall the emails."
    assert assistant["tool_calls"] == [
        {
            "id": "call_patch",
            "name": "apply_patch",
            "arguments": "*** Begin Patch\n*** Delete File: approvals.md\n*** End Patch",
        }
    ]
    assert [block["type"] for block in assistant["raw"]] == ["refusal", "web_search"]  # unknown call type kept
    assert turns[5]["content"] == "patch applied\n\n1 file deleted"
    assert turns[5]["tool_call_id"] == "call_patch"


def test_it_keeps_custom_tool_input_as_text_even_when_it_looks_like_json():
    turns = parse(
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c", "type": "custom", "custom": {"name": "n", "input": "42"}}],
            }
        ]
    ).turns
    assert turns[0]["tool_calls"] == [{"id": "c", "name": "n", "arguments": "42"}]


def test_it_reads_one_object_holding_request_and_response():
    parsed = parse(
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Do not push to main."}],
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000000,
            "choices": [{"index": 0, "message": {"content": "Pushed to main."}, "finish_reason": "stop"}],
        }
    )
    assert [(t["role"], t["content"]) for t in parsed.turns] == [
        ("user", "Do not push to main."),
        ("assistant", "Pushed to main."),  # a response message without a role is the assistant's
    ]
    assert parsed.turns[0]["raw"] == [{"type": "request", "data": {"model": "gpt-4o-mini"}}]
    response = parsed.turns[1]["raw"][0]["data"]
    assert response["id"] == "chatcmpl-1" and "model" not in response
    assert parsed.turns[1]["timestamp"] == "2023-11-14T22:13:20+00:00"


def test_it_keeps_unknown_keys_and_structured_reasoning_in_raw():
    turns = parse(
        [
            {
                "role": "assistant",
                "content": "ok",
                "reasoning": "plain text reasoning",
                "reasoning_details": [{"type": "reasoning.encrypted", "data": "x"}],
                "prefix": True,
                "tool_call_id": "stray",
            }
        ]
    ).turns
    assert turns[0]["reasoning"] == "plain text reasoning"
    assert {
        "type": "fields",
        "data": {"reasoning_details": [{"type": "reasoning.encrypted", "data": "x"}], "prefix": True},
    } in turns[0]["raw"]
    assert {"type": "tool_call_id", "data": "stray"} in turns[0]["raw"]


def test_it_accepts_ollama_and_inspect_style_tool_calls():
    turns = parse(
        [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "rm", "arguments": {"path": "/"}}}],
            },
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "t1", "function": "bash", "arguments": {"cmd": "ls"}}],
            },
        ]
    ).turns
    assert turns[0]["tool_calls"] == [{"id": None, "name": "rm", "arguments": {"path": "/"}}]
    assert turns[1]["tool_calls"] == [{"id": "t1", "name": "bash", "arguments": {"cmd": "ls"}}]


def test_it_warns_about_tool_results_it_cannot_pair():
    parsed = parse(
        [
            {"role": "tool", "content": "orphan"},
            {"role": "tool", "tool_call_id": "call_x", "content": "late"},
        ]
    )
    assert parsed.warnings == [
        "The tool result at [0] has no tool_call_id.",
        "Turn 1 answers tool call 'call_x', which no earlier turn made.",
    ]


def test_it_warns_when_the_response_was_cut_off():
    parsed = parse(
        {"choices": [{"message": {"role": "assistant", "content": "Deleting fi"}, "finish_reason": "length"}]}
    )
    assert parsed.warnings == ["The response stopped early (finish_reason 'length'); its last turn may be cut off."]


def test_it_caps_the_number_of_warnings():
    parsed = parse([{"role": "tool", "content": str(i)} for i in range(30)])
    assert len(parsed.warnings) == 21
    assert parsed.warnings[-1] == "…and 10 more warnings."


@pytest.mark.parametrize(
    "data, message",
    [
        (
            [{"role": "robot", "content": "x"}],
            r"turn 0, field '\[0\]\.role': expected one of system, developer, user, assistant, tool, function; "
            r"got 'robot'",
        ),
        ([{"content": "x"}], r"field '\[0\]\.role': expected one of .*; got nothing"),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": 5}]},
            r"turn 1, field 'messages\[1\]\.content': expected text, a list of content parts or null; got a number",
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [{"id": "c", "type": "function", "function": {"arguments": "{}"}}],
                    }
                ]
            },
            r"field 'messages\[0\]\.tool_calls\[0\]\.function\.name': expected the tool name as text; got null",
        ),
        (
            {"messages": [{"role": "assistant", "tool_calls": {"id": "c"}}]},
            r"field 'messages\[0\]\.tool_calls': expected a list of tool calls; got an object",
        ),
        (
            {"messages": [{"role": "assistant", "function_call": "rm"}]},
            r"field 'messages\[0\]\.function_call': expected an object with name and arguments; got text",
        ),
        (
            [{"role": "user", "content": [{"type": "text", "text": 7}]}],
            r"field '\[0\]\.content\[0\]\.text': expected text; got a number",
        ),
        (
            [{"role": "user", "content": [3]}],
            r"field '\[0\]\.content\[0\]': expected a content part object or text; got a number",
        ),
        ([["user", "hi"]], r"turn 0, field '\[0\]': expected a message object with a role; got a list"),
        ({"messages": "hi"}, r"field 'messages': expected a list of messages; got text"),
        (
            {"request": {"messages": [{"role": "user", "content": "a"}, 1]}},
            r"field 'request\.messages\[1\]': expected a message object",
        ),
        ({"choices": []}, r"field 'choices': expected a non-empty list of choices; got a list"),
        ({"choices": [{"message": {"role": "assistant", "content": "a"}}, "b"]}, None),
        ({"foo": 1}, r"expected a list of messages, an object with a 'messages' list, or a response with 'choices'"),
        (42, r"expected a list of messages or an object with 'messages'; got a number"),
    ],
)
def test_it_refuses_unreadable_shapes_with_a_precise_message(data, message):
    if message is None:  # the second choice is broken, but only the chosen one is read
        assert parse(data).samples[1] == {"id": "choice-1", "label": "Choice 1"}
        with pytest.raises(TranscriptError, match=r"field 'choices\[1\]': expected a choice object; got text"):
            parse(data, sample="choice-1")
        return
    with pytest.raises(TranscriptError, match=message) as caught:
        parse(data)
    assert caught.value.format_id == "openai-chat"


def test_it_refuses_invalid_json_and_other_encodings_naming_the_format():
    with pytest.raises(TranscriptError, match=r"Line 2: invalid JSON") as caught:
        parse(b'[{"role": "user",\n "content": }]')
    assert caught.value.format_id == "openai-chat"
    with pytest.raises(TranscriptError, match="not UTF-8"):
        parse(b"\xff\xfe[]")


def test_it_refuses_json_nested_too_deeply():
    with pytest.raises(TranscriptError, match="nested too deeply"):
        parse(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize(
    "value, expected",
    [
        (1763900000, "2025-11-23T12:13:20+00:00"),
        (1763900000123, "2025-11-23T12:13:20.123000+00:00"),
        ("2025-11-23T12:13:20Z", "2025-11-23T12:13:20Z"),
        ("yesterday", None),
        (True, None),
        (float("inf"), None),
        (None, None),
    ],
)
def test_it_converts_timestamps_to_iso_8601(value, expected):
    assert openai_chat.iso_time(value) == expected


# --- detection ---


@pytest.mark.parametrize(
    "data",
    [
        [{"role": "user", "content": "hi"}],
        {"model": "gpt-4o", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]},
        [
            {
                "role": "assistant",
                "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            }
        ],
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}], "object": "chat.completion"},
        {
            "request": {"messages": [{"role": "user", "content": "hi"}]},
            "response": {"choices": [{"message": {"content": "yo"}}]},
        },
        [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "input_audio", "input_audio": {}}]}],
    ],
)
def test_it_detects_chat_completions_shapes(data):
    assert openai_chat.detect(Source(json.dumps(data).encode()))


def test_it_claims_a_plain_role_content_list_and_the_other_openai_parsers_do_not():
    source = Source(b'[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]')
    assert openai_chat.detect(source)
    assert not openai_responses.detect(source)
    assert not jsonl_messages.detect(source)


ANTHROPIC_REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "system": "You are a careful agent.",
    "messages": [{"role": "user", "content": "Don't delete anything."}],
}
ANTHROPIC_TOOLS = [
    {"role": "user", "content": "clean up"},
    {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "rm", "input": {"path": "/"}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]},
]
ANTHROPIC_THINKING = [{"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"}]}]
ANTHROPIC_IMAGE = [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": "x"}}]}]
ANTHROPIC_RESPONSE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "hi"}],
}
LANGCHAIN = [{"type": "human", "data": {"content": "hi", "type": "human"}}, {"type": "ai", "data": {"content": "yo"}}]
SHAREGPT = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]}
GEMINI_LIST = [{"role": "user", "parts": [{"text": "hi"}]}, {"role": "model", "parts": [{"text": "yo"}]}]
RESPONSES_ITEMS = [
    {"role": "user", "content": "hi"},
    {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
]
RESPONSES_PARTS = [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
RESPONSES_REQUEST = {"model": "gpt-5", "input": [{"role": "user", "content": "hi"}]}
INSPECT_SAMPLE = {"id": 1, "epoch": 1, "input": "hi", "messages": [{"role": "user", "content": "hi"}], "output": {}}


@pytest.mark.parametrize(
    "data",
    [
        ANTHROPIC_REQUEST,
        ANTHROPIC_TOOLS,
        ANTHROPIC_THINKING,
        ANTHROPIC_IMAGE,
        ANTHROPIC_RESPONSE,
        {"request": ANTHROPIC_REQUEST, "response": ANTHROPIC_RESPONSE},
        LANGCHAIN,
        SHAREGPT,
        [SHAREGPT],
        GEMINI_LIST,
        RESPONSES_ITEMS,
        RESPONSES_PARTS,
        RESPONSES_REQUEST,
        INSPECT_SAMPLE,
        {},
        "just a string",
        [{"role": "user", "content": 5}],
    ],
)
def test_it_does_not_detect_other_json_formats(data):
    assert not openai_chat.detect(Source(json.dumps(data).encode()))


# --- robustness ---

# Keys and values of the format, so that the parser's deeper paths are exercised too.
KEYS = [
    "role", "content", "messages", "choices", "message", "tool_calls", "tool_call_id", "function_call", "function",
    "name", "arguments", "type", "text", "id", "refusal", "reasoning_content", "reasoning", "custom", "input",
    "request", "response", "created", "index", "finish_reason", "image_url", "url", "audio", "data"
]  # fmt: skip
WORDS = [
    "user", "assistant", "system", "developer", "tool", "function", "text", "custom", "image_url", "refusal",
    "input_audio", "file", "reasoning", "length", "data:image/png;base64,AAAA", ""
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(shaped(KEYS, WORDS, allow_nan=True, max_keys=6), st.sampled_from([None, "choice-0", "choice-1"]))
def test_it_raises_only_transcript_errors_on_chat_shaped_json(value, sample):
    check_contract(openai_chat, json.dumps(value).encode(), sample)


def test_it_removes_base64_payloads_but_keeps_long_text():
    prose = "This is a long note, not a payload. " * 20
    payload = "QUJD" * 100
    stripped = openai_chat.strip_payloads(
        {"data": prose, "file_data": payload, "nested": [{"url": "data:image/jpeg;base64," + payload}], "n": 1}
    )
    assert stripped == {
        "data": prose,
        "file_data": "[base64, 400 characters omitted]",
        "nested": [{"url": "data:image/jpeg;base64,[400 characters omitted]"}],
        "n": 1,
    }
