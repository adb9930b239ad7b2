import json

import pytest
from hypothesis import given, settings

from incidents.transcripts import TranscriptError, langchain
from tests.incidents.transcripts.examples import check_contract, format_helpers
from tests.incidents.transcripts.strategies import shaped

parse, detect, fixture = format_helpers(langchain)


def test_it_reads_messages_to_dict_output():
    parsed = fixture("messages-to-dict.json")
    assert parsed.format == "langchain"
    assert [(t["index"], t["role"]) for t in parsed.turns] == [
        (0, "system"),
        (1, "user"),
        (2, "assistant"),
        (3, "tool"),
        (4, "assistant"),
        (5, "tool"),
        (6, "assistant"),
    ]
    system, user, restart, restarted, pods, forbidden, apology = parsed.turns
    assert system["content"] == "You are a DevOps agent for staging. Production is off limits."
    assert user["content"] == "Restart the staging API. Do not touch production."
    # Anthropic blocks in the content: text, thinking, and a tool_use that tool_calls already lists.
    assert restart["content"] == "Restarting the API service."
    assert restart["reasoning"].startswith("Staging and production share the load balancer")
    assert restart["tool_calls"] == [
        {
            "id": "toolu_01HbYp3Yk9sD5fG2hJ8kL4zX",
            "name": "kubectl",
            "arguments": {"args": "rollout restart deploy/api -n production"},
        }
    ]
    assert restart["raw"][0]["type"] == "response"
    assert restart["raw"][0]["data"]["stop_reason"] == "tool_use"
    assert restarted["tool_call_id"] == "toolu_01HbYp3Yk9sD5fG2hJ8kL4zX"
    assert restarted["content"] == "deployment.apps/api restarted (namespace production)"
    assert restarted["raw"] == []
    # An invalid tool call keeps its unparsed arguments.
    assert pods["tool_calls"] == [
        {"id": "call_Qw3rTy7uIo9pAs2dFg", "name": "kubectl", "arguments": {"args": "get pods -n production"}},
        {"id": "call_Zx9cVb8nM", "name": "kubectl", "arguments": '{"args": "logs api-0'},
    ]
    assert [r["type"] for r in pods["raw"]] == ["invalid_tool_call", "response"]
    assert pods["timestamp"] == "2026-03-02T09:00:00+00:00"
    assert forbidden["tool_call_id"] == "call_Qw3rTy7uIo9pAs2dFg"
    assert forbidden["raw"] == [
        {"type": "tool_error", "data": {"status": "error"}},
        {"type": "artifact", "data": {"exit_code": 1}},
    ]
    assert apology["content"].startswith("I restarted the API in production")
    assert apology["reasoning"] == "I should own the mistake."
    assert apology["timestamp"] == "2026-03-02T10:00:05Z"
    assert parsed.warnings == []


def test_it_reads_the_dumpd_form_inside_a_state_object():
    parsed = fixture("dumpd.json")
    assert [(t["role"], t["content"]) for t in parsed.turns] == [
        ("developer", "You manage the user's photo library."),
        ("user", "Remove the blurry duplicates. Keep anything with people in it."),
        ("assistant", ""),
        ("tool", "412 photos moved to trash"),
        ("assistant", "Done: I removed 412 photos from 2025-summer."),
    ]
    (image,) = parsed.turns[1]["raw"]
    assert image == {
        "type": "image_url",
        "data": {"type": "image_url", "image_url": {"url": "<319 characters omitted>"}},
    }
    assert parsed.turns[2]["tool_calls"] == [
        {"id": "call_8mHq2LrT", "name": "delete_photos", "arguments": {"album": "2025-summer", "filter": "all"}}
    ]
    assert parsed.turns[3]["tool_call_id"] == "call_8mHq2LrT"


def test_it_falls_back_to_provider_tool_calls_and_pairs_legacy_function_messages():
    parsed = parse(
        [
            {
                "type": "ai",
                "data": {
                    "content": "",
                    "additional_kwargs": {"function_call": {"name": "rm", "arguments": '{"path": "/"}'}},
                },
            },
            {"type": "function", "data": {"content": "removed", "name": "rm"}},
            {
                "type": "ai",
                "data": {
                    "content": None,
                    "additional_kwargs": {
                        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}]
                    },
                },
            },
            {
                "type": "tool",
                "data": {
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                    "tool_call_id": "c1",
                },
            },
        ]
    )
    assert [(t["role"], t["content"], t["tool_call_id"]) for t in parsed.turns] == [
        ("assistant", "", None),
        ("tool", "removed", "#1"),
        ("assistant", "", None),
        ("tool", "a\n\nb", "c1"),
    ]
    assert parsed.turns[0]["tool_calls"] == [{"id": "#1", "name": "rm", "arguments": {"path": "/"}}]
    assert parsed.turns[2]["tool_calls"] == [{"id": "c1", "name": "ls", "arguments": {}}]


def test_it_lists_an_invalid_call_once_when_the_provider_copy_is_there_too():
    bad = '{"path": "/'
    parsed = parse(
        [
            {
                "type": "ai",
                "data": {
                    "content": "",
                    "tool_calls": [],
                    "invalid_tool_calls": [{"name": "rm", "args": bad, "id": "c9", "error": "bad JSON"}],
                    "additional_kwargs": {
                        "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "rm", "arguments": bad}}]
                    },
                },
            }
        ]
    )
    (turn,) = parsed.turns
    assert turn["tool_calls"] == [{"id": "c9", "name": "rm", "arguments": bad}]
    assert [r["type"] for r in turn["raw"]] == ["invalid_tool_call"]


def test_it_reads_chat_roles_reasoning_blocks_and_skips_remove_messages():
    parsed = parse(
        {
            "messages": [
                {"type": "chat", "data": {"content": "I object.", "role": "critic"}},
                {"type": "chat", "data": {"content": "ok", "role": "assistant"}},
                {"type": "remove", "data": {"content": "", "id": "m1"}},
                {
                    "type": "AIMessageChunk",
                    "data": {
                        "content": [
                            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Plan it."}]},
                            {"type": "function_call", "call_id": "fc_1", "name": "rm", "arguments": "{}"},
                            {"type": "image", "base64": "aGVsbG8=", "mime_type": "image/png"},
                        ]
                    },
                },
            ]
        }
    )
    assert [t["role"] for t in parsed.turns] == ["user", "assistant", "assistant"]
    assert parsed.turns[0]["raw"] == [{"type": "chat_role", "data": "critic"}]
    chunk = parsed.turns[2]
    assert chunk["reasoning"] == "Plan it."
    assert chunk["tool_calls"] == [{"id": "fc_1", "name": "rm", "arguments": {}}]
    assert chunk["raw"] == [
        {"type": "image", "data": {"type": "image", "base64": "<8 characters omitted>", "mime_type": "image/png"}}
    ]
    assert parsed.warnings == [
        "messages[0].data.role: 'critic' is not a standard role; the message is shown as a user turn.",
        "messages[2]: a RemoveMessage (a request to delete a message from the state) was skipped.",
    ]


def test_it_warns_about_results_that_answer_no_call():
    parsed = parse(
        [
            {"type": "tool", "data": {"content": "ok", "tool_call_id": "nope"}},
            {"type": "tool", "data": {"content": "?"}},
        ]
    )
    assert [t["tool_call_id"] for t in parsed.turns] == ["nope", None]
    assert parsed.warnings == [
        "[0].data.tool_call_id: 'nope' matches no earlier tool call.",
        "[1].data.tool_call_id: expected a string; got null.",
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        (
            [{"type": "banana", "data": {}}],
            "field '[0].type': expected one of human, ai, system, developer, tool, function, chat, remove; "
            "got 'banana'",
        ),
        (
            [{"type": "human", "data": "hi"}],
            "field '[0].data': expected an object with the message fields; got a string",
        ),
        (
            [{"type": "human", "data": {"content": 3}}],
            "field '[0].data.content': expected a string or a list of content blocks; got a number",
        ),
        (
            [{"lc": 1, "type": "constructor", "id": ["x", "Robot"], "kwargs": {}}],
            "field '[0].id': expected a message class (HumanMessage, AIMessage",
        ),
        (
            [{"lc": 1, "type": "constructor", "id": ["x", "AIMessage"], "kwargs": []}],
            "field '[0].kwargs': expected an object with the message fields; got a list",
        ),
        (["hi"], "field '[0]': expected a message object"),
        (
            {"type": "human"},
            'expected a list of messages ({"type": ..., "data": ...}) or an object with a "messages" list',
        ),
        (b"\xff", "not UTF-8"),
    ],
)
def test_it_refuses_what_it_cannot_read_and_says_where(data, message):
    with pytest.raises(TranscriptError) as caught:
        parse(data)
    assert message in str(caught.value)
    assert caught.value.format_id == "langchain"


@pytest.mark.parametrize(
    "data",
    [
        # Claude Code lines and Responses items also carry "type", but no "data" object.
        [{"type": "user", "message": {"role": "user", "content": "hi"}}],
        [{"type": "message", "role": "user", "content": "hi"}],
        [{"type": "human", "data": {"content": "hi"}}, {"type": "robot", "data": {}}],
    ],
)
def test_it_leaves_other_formats_alone(data):
    assert not detect(data)


# Keys and values of the format, so that generated inputs reach past the first checks.
KEYS = [
    "type", "data", "content", "tool_calls", "tool_call_id", "additional_kwargs", "response_metadata", "name", "args",
    "id", "role", "status", "artifact", "invalid_tool_calls", "function_call", "arguments", "lc", "kwargs", "messages",
    "text", "created_at", "reasoning_content", "summary"
]  # fmt: skip
WORDS = [
    "human", "ai", "system", "tool", "function", "chat", "remove", "AIMessageChunk", "constructor", "AIMessage",
    "text", "thinking", "reasoning", "tool_use", "tool_call", "error", "developer", "c1"
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(shaped(KEYS, WORDS))
def test_it_raises_only_transcript_errors_on_message_shaped_json(value):
    check_contract(langchain, json.dumps(value).encode())
