import json

import pytest
from hypothesis import given, settings

from incidents.transcripts import Source, TranscriptError, openai_responses
from tests.incidents.transcripts.examples import check_contract, format_helpers
from tests.incidents.transcripts.strategies import shaped

parse, _, fixture = format_helpers(openai_responses)


def test_it_reads_a_request_and_its_response_in_order():
    parsed = fixture("request-and-response.json")
    assert parsed.format == "openai-responses"
    turns = parsed.turns
    assert [(t["index"], t["role"]) for t in turns] == [
        (0, "system"),
        (1, "user"),
        (2, "assistant"),
        (3, "tool"),
        (4, "assistant"),
    ]
    assert turns[0]["content"].startswith("You are a database maintenance agent. Never drop or delete customer data")
    assert turns[1]["content"].endswith("don't delete anything from the customers schema.")

    # The reasoning item goes with the call the model made after it; its encrypted content is kept.
    look = turns[2]
    assert look["reasoning"] == "**Checking table sizes**\n\nI'll look at which tables are largest."
    assert look["tool_calls"][0]["id"] == "call_sizes"
    assert look["tool_calls"][0]["name"] == "run_sql"
    assert look["raw"] == [
        {"type": "reasoning", "data": {"id": "rs_01", "encrypted_content": "gAAAAABpJ2x-Vq3tLr0e_Nf9s1kq2w"}}
    ]
    assert turns[3]["tool_call_id"] == "call_sizes"
    assert turns[3]["content"].startswith("customers.events | 310 GB")

    # The response: reasoning, a commentary message and the call share one assistant turn.
    act = turns[4]
    assert act["content"] == "The events table is the main consumer; clearing it now."
    assert act["reasoning"].startswith("customers.events is the only table big enough")
    assert act["tool_calls"] == [
        {"id": "call_truncate", "name": "run_sql", "arguments": {"query": "TRUNCATE customers.events"}}
    ]
    assert act["timestamp"] == "2025-11-23T12:20:00.250000+00:00"
    assert [t["timestamp"] for t in turns[:4]] == [None] * 4  # request items carry no time
    types = [block["type"] for block in act["raw"]]
    assert types == ["reasoning", "message", "response"]
    assert act["raw"][1]["data"] == {"phase": "commentary"}
    response = act["raw"][2]["data"]
    assert response["id"] == "resp_68af0c2e" and response["usage"]["total_tokens"] == 652
    request = turns[0]["raw"][0]
    assert request["type"] == "request"
    assert request["data"]["model"] == "gpt-5"
    assert request["data"]["tools"][0]["name"] == "run_sql"
    assert parsed.warnings == []


def test_it_reads_every_kind_of_agent_item():
    parsed = fixture("agent-items.json")
    turns = parsed.turns
    assert [t["role"] for t in turns] == [
        "developer",
        "user",
        "assistant",  # reasoning + local shell call
        "tool",
        "assistant",  # shell call
        "tool",
        "assistant",  # apply patch
        "tool",
        "assistant",  # custom tool
        "tool",
        "assistant",  # computer
        "tool",
        "assistant",  # mcp_list_tools + mcp_call
        "tool",
        "assistant",  # web search + item reference
        "assistant",  # final message
        "assistant",  # trailing reasoning, on its own
    ]
    assert turns[0]["content"] == "You are a coding agent. Do not modify files under deploy/."
    assert turns[1]["content"] == "Make the tests pass. Leave deploy/ alone."

    shell = turns[2]
    assert shell["reasoning"] == "Run the tests first."
    assert shell["tool_calls"] == [
        {
            "id": "call_ls1",
            "name": "local_shell",
            "arguments": {
                "type": "exec",
                "command": ["pytest", "-q"],
                "env": {},
                "working_directory": "/repo",
                "timeout_ms": 60000,
            },
        }
    ]
    assert turns[3]["tool_call_id"] == "call_ls1"  # a local shell output names its call by "id"

    assert turns[4]["tool_calls"][0]["name"] == "shell"
    assert turns[4]["tool_calls"][0]["arguments"] == {"commands": ["cat deploy/config.yaml"], "timeout_ms": 10000}
    assert turns[5]["content"] == "replicas: 3\n"
    assert turns[5]["raw"] == [
        {"type": "shell_outcome", "data": [{"outcome": {"type": "exit", "exit_code": 0}}]},
        {"type": "shell_call_output", "data": {"max_output_length": 4096}},
    ]

    patch = turns[6]["tool_calls"][0]
    assert (patch["id"], patch["name"], patch["arguments"]["path"]) == ("call_ap1", "apply_patch", "deploy/config.yaml")
    assert (turns[7]["tool_call_id"], turns[7]["content"]) == ("call_ap1", "updated deploy/config.yaml")

    assert turns[8]["tool_calls"] == [{"id": "call_c1", "name": "notes", "arguments": "42"}]  # free text stays text
    assert (turns[9]["tool_call_id"], turns[9]["content"]) == ("call_c1", "saved")

    assert turns[10]["tool_calls"][0]["name"] == "computer"
    assert turns[10]["tool_calls"][0]["arguments"] == {
        "action": {"type": "click", "x": 120, "y": 330, "button": "left"}
    }
    screenshot = turns[11]
    assert screenshot["tool_call_id"] == "call_cu1" and screenshot["content"] == ""
    assert screenshot["raw"][0]["type"] == "image"
    assert screenshot["raw"][0]["data"]["image_url"] == "data:image/png;base64,[576 characters omitted]"

    mcp = turns[12]
    assert mcp["raw"][0]["type"] == "mcp_list_tools"
    assert mcp["tool_calls"] == [{"id": "mcp_1", "name": "merge_pr", "arguments": {"pr": 118}}]
    assert {"type": "mcp_call", "data": {"server_label": "github"}} in mcp["raw"]
    assert (turns[13]["tool_call_id"], turns[13]["content"]) == ("mcp_1", "merged #118")

    search = turns[14]
    assert search["tool_calls"] == [
        {"id": "ws_1", "name": "web_search", "arguments": {"type": "search", "query": "pytest deploy config replicas"}}
    ]
    assert search["raw"] == [{"type": "item_reference", "data": {"type": "item_reference", "id": "msg_earlier"}}]

    final = turns[15]
    assert final["content"] == "Tests pass now; I set replicas to 1 in deploy/config.yaml.\n\nI won't revert it."
    assert [block["type"] for block in final["raw"]] == ["annotations", "refusal"]
    assert turns[16]["content"] == ""
    assert turns[16]["reasoning"] == "The user said to leave deploy/ alone; I changed it anyway."

    assert parsed.warnings == ["[16] refers to a stored item (msg_earlier) whose content is not in the file."]
    assert "iVBOR" not in json.dumps(turns)


def test_it_reads_a_response_object_alone_and_warns_about_missing_history():
    parsed = fixture("response-only.json")
    assert [(t["role"], t["content"]) for t in parsed.turns] == [
        ("system", "Answer briefly."),
        ("assistant", "Migration step 4 of 9 is running"),
    ]
    answer = parsed.turns[1]
    assert answer["reasoning"] == "The user asked me to stop; finishing the migration first."
    assert answer["timestamp"] == "2025-11-23T13:20:00+00:00"
    assert answer["raw"][0] == {"type": "message", "data": {"status": "incomplete"}}
    assert answer["raw"][1]["data"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert parsed.warnings == [
        "This continues an earlier response (resp_0a99); the turns before it are stored by OpenAI and are not in "
        "this file.",
        "The response's status is 'incomplete'; its last turns may be missing.",
    ]


def test_it_groups_parallel_calls_and_gives_unanswered_reasoning_its_own_turn():
    turns = parse(
        [
            {"role": "user", "content": "Back up, then stop."},
            {"type": "function_call", "call_id": "a", "name": "backup", "arguments": "{}"},
            {"type": "function_call", "call_id": "b", "name": "rm", "arguments": '{"path": "/backups"'},
            {"type": "function_call_output", "call_id": "a", "output": "ok"},
            {"type": "function_call_output", "call_id": "b", "output": [{"type": "input_text", "text": "removed"}]},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Done."}]},
            {"role": "user", "content": "Why did you remove them?"},
        ]
    ).turns
    assert [t["role"] for t in turns] == ["user", "assistant", "tool", "tool", "assistant", "user"]
    assert [(c["id"], c["name"]) for c in turns[1]["tool_calls"]] == [("a", "backup"), ("b", "rm")]
    assert turns[1]["tool_calls"][1]["arguments"] == '{"path": "/backups"'
    assert [t["tool_call_id"] for t in turns[2:4]] == ["a", "b"]
    assert turns[3]["content"] == "removed"
    assert (turns[4]["content"], turns[4]["reasoning"]) == ("", "Done.")


def test_it_reads_a_merged_object_input_as_text_and_instructions_as_items():
    parsed = parse(
        {
            "instructions": [{"type": "message", "role": "developer", "content": "Never spend over $100."}],
            "input": "Buy the tickets.",
            "created_at": 1700000000,
            "output": [
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "Bought for $240."}],
                }
            ],
            "model": "gpt-5",
        }
    )
    assert [(t["role"], t["content"], t["timestamp"]) for t in parsed.turns] == [
        ("developer", "Never spend over $100.", None),
        ("user", "Buy the tickets.", None),
        ("assistant", "Bought for $240.", "2023-11-14T22:13:20+00:00"),
    ]
    assert parsed.turns[2]["raw"] == [{"type": "response", "data": {"created_at": 1700000000, "model": "gpt-5"}}]


def test_it_keeps_unknown_items_and_opaque_reasoning_in_raw():
    parsed = parse(
        [
            {"type": "compaction", "id": "cmp_1", "encrypted_content": "opaque"},
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "secret"},
            {"type": "brand_new_call", "call_id": "n1", "arguments": '{"x": 1}'},
            {"type": "brand_new_call_output", "call_id": "n1", "output": {"ok": True}},
            {"type": "mcp_approval_request", "id": "apr", "name": "drop_db", "arguments": "{}", "server_label": "pg"},
        ]
    )
    turns = parsed.turns
    assert [t["role"] for t in turns] == ["assistant", "assistant", "tool", "assistant"]
    assert turns[0]["raw"] == [
        {"type": "compaction", "data": {"type": "compaction", "id": "cmp_1", "encrypted_content": "opaque"}}
    ]
    assert turns[1]["raw"] == [{"type": "reasoning", "data": {"id": "rs_1", "encrypted_content": "secret"}}]
    assert turns[1]["reasoning"] is None
    assert turns[1]["tool_calls"] == [{"id": "n1", "name": "brand_new", "arguments": {"x": 1}}]
    assert (turns[2]["tool_call_id"], turns[2]["content"]) == ("n1", '{"ok": true}')
    assert turns[3]["raw"][0]["type"] == "mcp_approval_request"
    assert parsed.warnings == ["[0] replaces earlier turns with a compacted, encrypted summary."]


def test_it_warns_about_outputs_it_cannot_pair():
    parsed = parse(
        [
            {"type": "function_call_output", "output": "orphan"},
            {"type": "function_call_output", "call_id": "gone", "output": "late"},
        ]
    )
    assert parsed.warnings == [
        "[0] is a tool output without a call_id.",
        "Turn 1 answers tool call 'gone', which no earlier turn made.",
    ]


def test_it_shows_an_mcp_error_as_the_tool_result():
    turns = parse(
        [{"type": "mcp_call", "id": "m", "name": "rm", "server_label": "fs", "arguments": "{}", "error": "denied"}]
    ).turns
    assert [(t["role"], t["content"], t["tool_call_id"]) for t in turns] == [
        ("assistant", "", None),
        ("tool", "denied", "m"),
    ]
    assert turns[1]["raw"] == [{"type": "error", "data": "denied"}]


@pytest.mark.parametrize(
    "data, message",
    [
        ([1], r"turn 0, field '\[0\]': expected an item object with a type or a role; got a number"),
        ([{"content": "x"}], r"field '\[0\]': expected an item with a 'type' or a 'role'"),
        ([{"type": 3}], r"field '\[0\]\.type': expected the item type as text; got a number"),
        (
            [{"type": "message", "role": "tool", "content": "x"}],
            r"field '\[0\]\.role': expected one of user, assistant, system, developer; got 'tool'",
        ),
        (
            {"input": [{"type": "function_call", "call_id": "c", "arguments": "{}"}]},
            r"field 'input\[0\]\.name': expected the tool name as text; got null",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_text", "text": None}]}]},
            r"field 'input\[0\]\.content\[0\]\.text': expected text; got null",
        ),
        ({"output": {"type": "message"}}, r"field 'output': expected a list of output items; got an object"),
        ({"input": 5}, r"field 'input': expected text or a list of items; got a number"),
        ({"instructions": 5, "input": "hi"}, r"field 'instructions': expected text or a list of items; got a number"),
        ({"request": {"input": [7]}}, r"field 'request\.input\[0\]': expected an item object"),
        ({"foo": 1}, r"expected an object with 'input', 'output' or 'instructions', or a list of items"),
        ("text", r"expected a list of items or an object with 'input' or 'output'; got text"),
    ],
)
def test_it_refuses_unreadable_shapes_with_a_precise_message(data, message):
    with pytest.raises(TranscriptError, match=message) as caught:
        parse(data)
    assert caught.value.format_id == "openai-responses"


def test_it_refuses_invalid_json_and_samples():
    with pytest.raises(TranscriptError, match=r"Line 1: invalid JSON") as caught:
        parse(b'{"input": [}')
    assert caught.value.format_id == "openai-responses"
    with pytest.raises(TranscriptError, match="there is no sample 's1'"):
        parse({"input": "hi"}, sample="s1")


# --- detection ---


@pytest.mark.parametrize(
    "data",
    [
        [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        [{"role": "user", "content": "hi"}, {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}],
        [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        {"model": "gpt-5", "input": "hi"},
        {"model": "gpt-5", "input": [{"role": "user", "content": "hi"}], "instructions": "be nice"},
        {"object": "response", "output": []},
        {"id": "resp_1", "output": [{"type": "message", "role": "assistant", "content": []}]},
        {"request": {"input": "hi", "model": "m"}, "response": {"output": [{"type": "reasoning", "summary": []}]}},
    ],
)
def test_it_detects_responses_shapes(data):
    assert openai_responses.detect(Source(json.dumps(data).encode()))


@pytest.mark.parametrize(
    "data",
    [
        [{"role": "user", "content": "hi"}],  # ambiguous: the Chat Completions parser's
        {"messages": [{"role": "user", "content": "hi"}]},
        {"choices": [{"message": {"role": "assistant", "content": "hi"}}]},
        {"model": "claude-sonnet-4-5", "system": "s", "messages": [{"role": "user", "content": "hi"}]},
        {"id": "msg_1", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "hi"}]},
        [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "rm", "input": {}}]}],
        [{"type": "text", "text": "hi"}, {"type": "tool_use", "id": "t", "name": "rm", "input": {}}],
        [{"type": "human", "data": {"content": "hi"}}, {"type": "ai", "data": {"content": "yo"}}],
        {"id": 1, "epoch": 1, "input": "hi", "messages": [], "output": {"choices": []}},
        {"input": "hello"},  # not enough to say
        {"model": "text-embedding-3-small", "input": ["a", "b"]},
        42,
    ],
)
def test_it_does_not_detect_other_json_formats(data):
    assert not openai_responses.detect(Source(json.dumps(data).encode()))


def test_it_does_not_detect_responses_items_inside_a_codex_rollout():
    rollout = (
        b'{"timestamp": "2025-11-20T10:00:00Z", "type": "response_item", "payload": {"type": "message"}}\n'
        b'{"type": "x"}\n'
    )
    assert not openai_responses.detect(Source(rollout))


# --- robustness ---

# Keys and values of the format, so that the parser's deeper paths are exercised too.
KEYS = [
    "type", "role", "content", "input", "output", "instructions", "request", "response", "call_id", "id", "name",
    "arguments", "summary", "text", "encrypted_content", "action", "operation", "stdout", "stderr", "error",
    "created_at", "status", "previous_response_id", "image_url", "refusal"
]  # fmt: skip
WORDS = [
    "message", "reasoning", "function_call", "function_call_output", "custom_tool_call", "local_shell_call_output",
    "shell_call_output", "mcp_call", "computer_call_output", "computer_screenshot", "item_reference", "compaction",
    "user", "assistant", "system", "developer", "input_text", "output_text", "summary_text", "refusal", "x_call",
    "failed", ""
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(shaped(KEYS, WORDS, allow_nan=True, max_keys=6))
def test_it_raises_only_transcript_errors_on_responses_shaped_json(value):
    check_contract(openai_responses, json.dumps(value).encode())
