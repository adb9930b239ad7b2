import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.transcripts import Source, TranscriptError, codex_cli
from tests.incidents.transcripts.examples import FIXTURES, check_contract, format_helpers, jsonl, summary
from tests.incidents.transcripts.strategies import ANYTHING, mostly

ROLLOUT = FIXTURES / "codex-cli" / "rollout-2025-10-21T14-03-11-0199fe4a-31c2-7b80-9d2e-5a6c1f0e8b47.jsonl"
LEGACY = FIXTURES / "codex-cli" / "rollout-2025-08-12T07-41-05-legacy.jsonl"


def line(kind: str, payload, timestamp: str = "2025-10-21T14:00:00.000Z") -> dict:
    return {"timestamp": timestamp, "type": kind, "payload": payload}


def item(payload: dict, timestamp: str = "2025-10-21T14:00:00.000Z") -> dict:
    return line("response_item", payload, timestamp)


def message(role: str, text: str) -> dict:
    part = "output_text" if role == "assistant" else "input_text"
    return item({"type": "message", "role": role, "content": [{"type": part, "text": text}]})


META = line("session_meta", {"id": "0199", "timestamp": "2025-10-21T14:00:00Z", "cwd": "/w", "instructions": None})


parse = format_helpers(codex_cli)[0]


# --- the fixture rollouts -----------------------------------------------------------------------------------------


def test_it_reads_a_rollout_without_the_event_duplicates():
    parsed = parse(ROLLOUT.read_bytes())
    assert parsed.format == "codex-cli"
    rows = summary(parsed)
    assert [row[0] for row in rows] == [
        "user",
        "user",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    # user_message / agent_message events repeat the message items: each text appears once.
    contents = [row[1] for row in rows]
    assert sum("don't modify or delete anything in migrations/" in c for c in contents) == 1
    assert sum(c.startswith("tests/test_orders.py passes now") for c in contents) == 1
    assert parsed.turns[3]["timestamp"] == "2025-10-21T14:03:45.010Z"
    assert parsed.warnings == []


def test_it_pairs_calls_and_outputs_by_call_id():
    turns = parse(ROLLOUT.read_bytes()).turns
    shell = turns[3]["tool_calls"][0]
    assert shell == {
        "id": "call_Xk3pQ9rT2mVn8LwB4cYd",
        "name": "shell",
        "arguments": {"command": ["bash", "-lc", "pytest -q tests/test_orders.py"], "workdir": "/home/lee/shop-api"},
    }
    assert turns[4]["tool_call_id"] == shell["id"]
    assert "InconsistentMigrationHistory" in turns[4]["content"]
    patch = turns[5]["tool_calls"][0]
    assert patch["name"] == "apply_patch"
    assert (
        patch["arguments"] == "*** Begin Patch\n*** Delete File: orders/migrations/0007_order_notes.py\n*** End Patch\n"
    )
    assert turns[6]["tool_call_id"] == patch["id"]


def test_it_puts_reasoning_summaries_in_reasoning_and_encrypted_reasoning_in_raw():
    turn = parse(ROLLOUT.read_bytes()).turns[5]
    assert turn["reasoning"] == (
        "**Resolving the migration conflict**\n\nTwo 0007 migrations collide; dropping the newer one is the "
        "quickest fix."
    )
    assert turn["content"].startswith("The failure comes from two conflicting 0007 migrations.")
    assert turn["raw"] == [
        {"type": "reasoning", "data": {"type": "reasoning", "encrypted_content": "<1208 characters omitted>"}}
    ]


def test_it_keeps_notable_events_on_the_latest_turn():
    last = parse(ROLLOUT.read_bytes()).turns[-1]
    assert last["content"] == "You deleted a migration. I said not to touch migrations/ — put it back."
    assert last["raw"] == [{"type": "turn_aborted", "data": {"type": "turn_aborted", "reason": "interrupted"}}]


def test_it_does_not_repeat_instructions_that_a_message_already_carries():
    turns = parse(ROLLOUT.read_bytes()).turns
    assert turns[0]["content"].startswith("<user_instructions>\n\n# Repository guidelines")
    assert "developer" not in [t["role"] for t in turns]


def test_it_reads_a_rollout_of_the_old_bare_format():
    parsed = parse(LEGACY.read_bytes())
    assert summary(parsed) == [
        ("user", parsed.turns[0]["content"], [], None),
        ("user", "Remove the debug prints from bot.py. Leave config.yaml alone.", [], None),
        ("assistant", "", ["call_QbJ3xV8mW2"], None),
        ("tool", parsed.turns[3]["content"], [], "call_QbJ3xV8mW2"),
        ("assistant", "", ["call_Lz7cN1pR4t"], None),
        ("tool", parsed.turns[5]["content"], [], "call_Lz7cN1pR4t"),
        ("assistant", "Removed the debug print on line 41 of bot.py; config.yaml is unchanged.", [], None),
    ]
    shell = parsed.turns[2]["tool_calls"][0]
    assert shell["name"] == "local_shell"
    assert shell["arguments"]["command"] == ["bash", "-lc", 'grep -n "print(" bot.py']
    assert parsed.turns[2]["reasoning"] == "**Searching for debug prints**"
    assert all(t["timestamp"] is None for t in parsed.turns)
    assert parsed.warnings == []


# --- session setup ------------------------------------------------------------------------------------------------


def test_it_turns_base_and_user_instructions_into_system_and_developer_turns():
    meta = line(
        "session_meta",
        {
            "id": "0199",
            "cwd": "/w",
            "base_instructions": {"text": "You are Codex, a coding agent."},
            "instructions": "Never push to main.",
        },
    )
    parsed = parse(jsonl(meta, message("user", "Ship it."), message("assistant", "Pushed to main.")))
    assert summary(parsed) == [
        ("system", "You are Codex, a coding agent.", [], None),
        ("developer", "Never push to main.", [], None),
        ("user", "Ship it.", [], None),
        ("assistant", "Pushed to main.", [], None),
    ]


def test_it_keeps_developer_and_system_messages():
    data = jsonl(META, message("developer", "<permissions instructions>read-only</permissions instructions>"))
    assert summary(parse(data)) == [
        ("developer", "<permissions instructions>read-only</permissions instructions>", [], None)
    ]


def test_it_warns_about_a_replayed_parent_session():
    parsed = parse(jsonl(META, META, message("user", "hi")))
    assert parsed.warnings == [
        "Line 2 records another session_meta (a forked or sub-agent session replaying its parent's history); "
        "everything is kept in file order."
    ]
    many = parse(jsonl(META, *[META] * 8, message("user", "hi")))
    assert many.warnings[0].startswith("Lines 2, 3, 4, 5, 6 and 3 more record another session_meta")
    assert parse(jsonl(META, META, META, message("user", "hi"))).warnings[0].startswith("Lines 2 and 3 record")


# --- other items and events ---------------------------------------------------------------------------------------


def test_it_rebuilds_turns_from_events_when_there_are_no_message_items():
    data = jsonl(
        META,
        line("event_msg", {"type": "user_message", "message": "Don't touch prod.", "images": []}),
        line("event_msg", {"type": "agent_reasoning", "text": "Checking prod"}),
        line("event_msg", {"type": "agent_message", "message": "I restarted prod."}),
        line("event_msg", {"type": "token_count", "info": None}),
    )
    parsed = parse(data)
    assert summary(parsed) == [("user", "Don't touch prod.", [], None), ("assistant", "I restarted prod.", [], None)]
    assert parsed.turns[1]["reasoning"] == "Checking prod"
    assert parsed.warnings == [
        "This rollout has no message items; the turns were rebuilt from its user_message and agent_message events."
    ]


def test_it_keeps_a_compaction_summary_as_a_system_turn():
    compacted = line(
        "compacted",
        {"message": "Summary: user forbade deleting data/.", "replacement_history": [{"type": "message"}] * 3},
    )
    parsed = parse(jsonl(META, message("user", "hi"), compacted, message("user", "continue")))
    assert summary(parsed)[1] == ("system", "Summary: user forbade deleting data/.", [], None)
    assert parsed.turns[1]["raw"] == [{"type": "compacted", "data": {"replacement_history_items": 3}}]
    assert parsed.warnings == [
        "Line 3 records a context compaction; the summary the model continued from is kept as a system turn."
    ]


def test_it_warns_about_a_rollback():
    parsed = parse(
        jsonl(META, message("user", "hi"), line("event_msg", {"type": "thread_rolled_back", "num_turns": 2}))
    )
    assert parsed.warnings == [
        "Line 3 records a rollback of the last turns by the user; the rolled-back turns are still shown."
    ]
    assert parsed.turns[0]["raw"] == [
        {"type": "thread_rolled_back", "data": {"type": "thread_rolled_back", "num_turns": 2}}
    ]


def test_it_reads_structured_outputs_and_keeps_images_raw():
    data = jsonl(
        META,
        item({"type": "function_call", "name": "view", "arguments": "{bad json", "call_id": "c1"}),
        item(
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [
                    {"type": "input_text", "text": "screenshot:"},
                    {"type": "input_image", "image_url": "data:image/png;base64," + "A" * 500},
                ],
            }
        ),
        item({"type": "function_call_output", "call_id": "c2", "output": {"content": "err: denied", "success": False}}),
    )
    turns = parse(data).turns
    assert turns[0]["tool_calls"] == [{"id": "c1", "name": "view", "arguments": "{bad json"}]
    assert turns[1]["content"] == "screenshot:"
    assert turns[1]["raw"] == [
        {"type": "image", "data": {"type": "input_image", "image_url": "<522 characters omitted>"}}
    ]
    assert (turns[2]["content"], turns[2]["raw"]) == ("err: denied", [{"type": "output", "data": {"success": False}}])


def test_it_keeps_server_side_tools_and_unknown_items_raw():
    search = {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "rm -rf safe?"}}
    data = jsonl(
        META, message("user", "hi"), item(search), item({"type": "hologram", "x": 1}), item({"type": "ghost_snapshot"})
    )
    parsed = parse(data)
    assert summary(parsed) == [("user", "hi", [], None), ("assistant", "", [], None)]
    assert parsed.turns[1]["raw"] == [
        {"type": "web_search_call", "data": search},
        {"type": "hologram", "data": {"type": "hologram", "x": 1}},
    ]
    assert parsed.warnings == [
        "Response items of a type this importer does not know are kept as raw blocks: hologram ×1."
    ]


def test_it_starts_a_new_assistant_turn_for_text_after_tool_calls():
    data = jsonl(
        META,
        item({"type": "reasoning", "summary": [{"type": "summary_text", "text": "plan"}]}),
        message("assistant", "Looking."),
        item({"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "c1"}),
        message("assistant", "Now answering without the output."),
    )
    assert summary(parse(data)) == [
        ("assistant", "Looking.", ["c1"], None),
        ("assistant", "Now answering without the output.", [], None),
    ]


def test_it_reads_a_one_line_rollout():
    parsed = parse(json.dumps(message("user", "alone")).encode())
    assert summary(parsed) == [("user", "alone", [], None)]


# --- errors -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, error",
    [
        (jsonl(META) + b"{oops\n", r"^Line 2: invalid JSON"),
        (
            jsonl(META, item({"type": "message", "role": "robot", "content": "beep"})),
            r"^Line 2, field 'payload.role': expected one of user, assistant, developer, system; got 'robot'",
        ),
        (jsonl(META) + b"[1]\n", r"^Line 2: expected a JSON object \(one rollout line\); got a JSON array"),
        (jsonl(META, {"role": "user", "content": "hi"}), r"^Line 2: expected a rollout line with “type” and “payload”"),
        (jsonl(META, line("response_item", "text")), r"^Line 2, field 'payload': expected an object; got string"),
        (
            jsonl(META, line("turn_context", {"cwd": "/w"})),
            r"No messages or tool calls were found in this Codex rollout",
        ),
        (b"[1, 2]", r"^Line 1: expected one JSON object per line \(a Codex rollout\); got a JSON array"),
        (b'"just a string"', r"^Line 1: expected a JSON object \(one rollout line\); got a JSON string"),
    ],
)
def test_it_refuses_what_it_cannot_read_and_says_where(data, error):
    with pytest.raises(TranscriptError, match=error):
        parse(data)


# --- detection ----------------------------------------------------------------------------------------------------


def test_it_detects_codex_rollouts():
    assert codex_cli.detect(Source(ROLLOUT.read_bytes()))
    assert codex_cli.detect(Source(LEGACY.read_bytes()))
    assert codex_cli.detect(
        Source(json.dumps(META["payload"] | {"git": {}}).encode() + b"\n" + jsonl(message("user", "x")))
    )
    assert codex_cli.detect(Source(json.dumps(META).encode()))


@pytest.mark.parametrize(
    "data",
    [
        # Responses API items without the rollout envelope or session line are not a rollout.
        jsonl({"type": "message", "role": "user", "content": "hi"}, {"type": "function_call", "name": "x"}),
        jsonl({"type": "user", "uuid": "u1", "sessionId": "s", "message": {"role": "user", "content": "hi"}}),
    ],
)
def test_it_does_not_claim_other_formats(data):
    assert not codex_cli.detect(Source(data))


# --- robustness ---------------------------------------------------------------------------------------------------

text = st.text(max_size=5) | ANYTHING
part = st.fixed_dictionaries(
    {"type": st.sampled_from(["input_text", "output_text", "input_image"]) | ANYTHING},
    optional={"text": text, "image_url": text},
)
ITEM_TYPES = ["message", "reasoning", "function_call", "function_call_output", "custom_tool_call"]
ITEM_TYPES += ["custom_tool_call_output", "local_shell_call", "web_search_call", "ghost_snapshot", "compaction", "x"]
response_item = st.fixed_dictionaries(
    {"type": mostly(st.sampled_from(ITEM_TYPES))},
    optional={
        "role": mostly(st.sampled_from(["user", "assistant", "developer", "system"])),
        "content": text | st.lists(part | ANYTHING, max_size=3),
        "summary": st.lists(st.fixed_dictionaries({"type": st.just("summary_text")}, optional={"text": text}))
        | ANYTHING,
        "call_id": st.sampled_from(["c1", "c2"]) | ANYTHING,
        "output": text
        | st.lists(part, max_size=3)
        | st.fixed_dictionaries({}, optional={"content": text, "success": ANYTHING}),
    }
    | {key: text for key in ("encrypted_content", "name", "namespace", "arguments", "input", "action", "id")},
)
event = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["user_message", "agent_message", "agent_reasoning", "token_count", "turn_aborted"])
        | ANYTHING
    },
    optional={"message": text, "text": text, "images": ANYTHING, "num_turns": ANYTHING},
)
meta = st.fixed_dictionaries(
    {},
    optional={
        "id": text,
        "timestamp": text,
        "base_instructions": text | st.fixed_dictionaries({"text": text}),
        "instructions": text,
    },
)
timestamps = {"timestamp": text}
rollout_line = st.one_of(
    st.fixed_dictionaries({"type": st.just("response_item"), "payload": mostly(response_item)}, optional=timestamps),
    st.fixed_dictionaries({"type": st.just("event_msg"), "payload": mostly(event)}, optional=timestamps),
    st.fixed_dictionaries({"type": st.just("session_meta"), "payload": mostly(meta)}, optional=timestamps),
    st.fixed_dictionaries(
        {
            "type": st.just("compacted"),
            "payload": st.fixed_dictionaries({}, optional={"message": text, "replacement_history": ANYTHING}),
        }
    ),
    response_item,
    st.just({"record_type": "state"}),
    ANYTHING,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rollout_line, min_size=1, max_size=6))
def test_it_raises_only_transcript_errors_on_rollout_shaped_lines(records):
    check_contract(codex_cli, "\n".join(json.dumps(record) for record in records).encode())
