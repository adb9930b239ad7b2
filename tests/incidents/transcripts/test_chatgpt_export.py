import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.transcripts import Source, TranscriptError, chatgpt_export
from tests.incidents.transcripts.examples import FIXTURES, check_contract, format_helpers, summary
from tests.incidents.transcripts.strategies import ANYTHING, mostly

EXPORT = FIXTURES / "chatgpt-export" / "conversations.json"
BUDGET = "6667a1b0-5c2e-8003-b41d-2f0e9c7a6d15"
PACKING = "6668f2c4-9a1b-8003-a7e2-41d0c3b9e5f8"


def message(role: str, content: dict | None = None, *, text: str = "", **extra) -> dict:
    if content is None:
        content = {"content_type": "text", "parts": [text]}
    return {"author": {"role": role, **extra.pop("author", {})}, "content": content, **extra}


def conversation(*messages: dict, current: str | None = "auto", **extra) -> dict:
    """A linear conversation n0 -> n1 -> … holding the given messages (None = a node without message)."""
    mapping = {}
    for position, msg in enumerate(messages):
        mapping[f"n{position}"] = {
            "id": f"n{position}",
            "message": msg,
            "parent": f"n{position - 1}" if position else None,
            "children": [f"n{position + 1}"] if position + 1 < len(messages) else [],
        }
    node = f"n{len(messages) - 1}" if current == "auto" else current
    return {"title": "Test", "mapping": mapping, "current_node": node, **extra}


parse = format_helpers(chatgpt_export)[0]


# --- the fixture export -------------------------------------------------------------------------------------------


def test_it_reads_the_active_branch_of_the_first_conversation():
    parsed = parse(EXPORT.read_bytes())
    assert parsed.format == "chatgpt-export"
    assert parsed.samples == [
        {"id": BUDGET, "label": "Clean empty rows from budget"},
        {"id": PACKING, "label": "Packing list for Lisbon"},
    ]
    assert parsed.sample == BUDGET
    assert [t["role"] for t in parsed.turns] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
    ]
    assert parsed.turns[6]["content"].startswith("You're right: my code wrote the result over")  # not the older reply
    assert parsed.warnings == [
        "This conversation has 1 alternative branch (edited or regenerated messages); only the active branch "
        "was imported and 1 node was left out.",
        "1 hidden message without any text (such as the blank system prompt) was left out.",
    ]


def test_it_keeps_custom_instructions_as_a_marked_system_turn():
    turn = parse(EXPORT.read_bytes()).turns[0]
    assert turn["role"] == "system"
    assert "Never overwrite files I upload. Save every change to a new file." in turn["content"]
    assert turn["raw"] == [{"type": "hidden", "data": {"is_visually_hidden_from_conversation": True}}]


def test_it_turns_code_addressed_to_a_tool_into_a_tool_call_with_its_result():
    turns = parse(EXPORT.read_bytes()).turns
    assistant, tool = turns[2], turns[3]
    assert assistant["reasoning"] == (
        "Planning the cleanup\nLoad the workbook with pandas and drop rows where every cell is empty."
        "\n\nThought for 6 seconds"
    )
    assert assistant["content"] == ""
    [call] = assistant["tool_calls"]
    assert (call["id"], call["name"]) == ("a1f0e2d3-0006", "python")
    assert "df.to_excel('/mnt/data/budget_2024.xlsx', index=False)" in call["arguments"]
    assert (tool["role"], tool["content"], tool["tool_call_id"]) == ("tool", "37", "a1f0e2d3-0006")


def test_it_converts_create_time_and_keeps_image_pointers_raw():
    turns = parse(EXPORT.read_bytes()).turns
    assert turns[1]["timestamp"] == "2024-06-10T11:00:12.400Z"
    assert turns[0]["timestamp"] is None
    assert turns[5]["content"] == "This screenshot shows the original is gone. I said keep it untouched!"
    [image] = turns[5]["raw"]
    assert image["type"] == "image"
    assert image["data"]["asset_pointer"] == "file-service://file-Hn4sW8kQ2z"


def test_it_picks_a_conversation_by_id():
    parsed = parse(EXPORT.read_bytes(), sample=PACKING)
    assert parsed.sample == PACKING
    assert summary(parsed) == [
        ("user", "Three days in Lisbon in June: what should I pack?", [], None),
        (
            "assistant",
            "Light clothes, comfortable walking shoes for the hills, sunscreen and a light jacket for the evenings.",
            [],
            None,
        ),
    ]
    assert parsed.warnings == []


def test_it_lists_the_conversations_when_the_sample_is_unknown():
    with pytest.raises(TranscriptError, match=rf"Unknown sample 'nope'; available samples: {BUDGET}, {PACKING}\."):
        parse(EXPORT.read_bytes(), sample="nope")


# --- shapes -------------------------------------------------------------------------------------------------------


def test_it_reads_a_single_conversation_object():
    parsed = parse(conversation(None, message("user", text="hi"), message("assistant", text="hello"), id="c-1"))
    assert summary(parsed) == [("user", "hi", [], None), ("assistant", "hello", [], None)]
    assert parsed.samples == [{"id": "c-1", "label": "Test"}]


def test_it_numbers_conversations_without_ids_or_titles():
    first = conversation(message("user", text="a"), title="")
    second = conversation(message("user", text="b"))
    parsed = parse([first, second, "not a conversation"], sample="1")
    assert parsed.samples == [
        {"id": "0", "label": "Conversation 1"},
        {"id": "1", "label": "Test"},
        {"id": "2", "label": "Conversation 3"},
    ]
    assert summary(parsed) == [("user", "b", [], None)]
    with pytest.raises(TranscriptError, match=r"^field '\[2\]': expected a conversation object"):
        parse([first, second, "not a conversation"], sample="2")


def test_it_reads_browsing_and_other_tool_content():
    browse = {"content_type": "tether_browsing_display", "result": "# example.com\nDocs", "summary": "", "assets": None}
    quote = {"content_type": "tether_quote", "url": "https://example.com", "title": "Ex", "text": "quoted"}
    error = {"content_type": "system_error", "name": "tool_error", "text": "Timed out"}
    parsed = parse(
        conversation(
            message("user", text="look it up"),
            message("assistant", text='search("x")', recipient="browser"),
            message("tool", browse, author={"name": "browser"}),
            message("tool", quote, author={"name": "browser"}),
            message("tool", error, author={"name": "python"}),
            message("assistant", {"content_type": "mystery", "blob": 1}),
            message(
                "user",
                {
                    "content_type": "multimodal_text",
                    "parts": [{"content_type": "audio_transcription", "text": "spoken"}],
                },
            ),
            message("assistant", {"content_type": "code", "language": "python", "text": "print(1)"}),
        )
    )
    assert summary(parsed) == [
        ("user", "look it up", [], None),
        ("assistant", "", ["n1"], None),
        ("tool", "# example.com\nDocs", [], "n1"),
        ("tool", "quoted", [], "n1"),
        ("tool", "Timed out", [], None),
        ("assistant", "", [], None),
        ("user", "spoken", [], None),
        ("assistant", "print(1)", [], None),
    ]
    assert parsed.turns[1]["tool_calls"][0] == {"id": "n1", "name": "browser", "arguments": 'search("x")'}
    assert parsed.turns[2]["raw"] == []
    assert parsed.turns[3]["raw"] == [{"type": "tether_quote", "data": {"url": "https://example.com", "title": "Ex"}}]
    assert parsed.turns[4]["raw"] == [
        {"type": "tool_author", "data": {"name": "python"}},  # no python call to pair it with
        {"type": "system_error", "data": {"name": "tool_error"}},
    ]
    assert parsed.turns[5]["raw"] == [{"type": "mystery", "data": {"blob": 1}}]


def test_it_keeps_invalid_tool_arguments_as_given():
    parsed = parse(conversation(message("assistant", text="{not json", recipient="dalle.text2im")))
    assert parsed.turns[0]["tool_calls"] == [{"id": "n0", "name": "dalle.text2im", "arguments": "{not json"}]


def test_it_falls_back_to_the_last_leaf_without_current_node():
    data = conversation(message("user", text="hi"), message("assistant", text="hello"), current=None)
    parsed = parse(data)
    assert [t["content"] for t in parsed.turns] == ["hi", "hello"]
    assert parsed.warnings == ["current_node is missing; the branch ending at node 'n1' was imported."]


def test_it_warns_when_the_parent_chain_stops_at_a_missing_node():
    data = conversation(message("user", text="hi"), message("assistant", text="hello"))
    data["mapping"]["n0"]["parent"] = "gone"
    parsed = parse(data)
    assert len(parsed.turns) == 2
    assert parsed.warnings == [
        "The parent chain stops at node 'gone', which is not in the export; earlier messages of this "
        "conversation are missing."
    ]


# --- errors -------------------------------------------------------------------------------------------------------


def test_it_refuses_a_loop_in_the_parent_chain():
    data = conversation(message("user", text="a"), message("assistant", text="b"))
    data["mapping"]["n0"]["parent"] = "n1"
    with pytest.raises(TranscriptError, match=r"^field \"mapping\['n1'\].parent\": the parent chain loops back"):
        parse(data)


@pytest.mark.parametrize(
    "value, error",
    [
        (
            conversation(message("robot", text="beep")),
            r"^field \"mapping\['n0'\].message.author.role\": expected one of user, assistant, system, tool; "
            r"got 'robot'",
        ),
        (conversation(message("user", text="x"), current="zz"), r"current_node 'zz' is not a node of mapping"),
        ({"mapping": [], "current_node": "a"}, r"^field 'mapping': expected an object of message nodes; got array"),
        ([{"mapping": {"a": 5}, "current_node": "a"}], r"^field \"\[0\]mapping\['a'\]\": expected a node object"),
        (conversation(message("user", "text")), r"message.content\": expected an object with content_type; got string"),
        (conversation(None, message("system", text="")), r"holds no messages with text"),
        ([], r"The export holds no conversations"),
        (42, r"expected a list of conversations or one conversation object; got a JSON number"),
    ],
)
def test_it_refuses_what_it_cannot_read_and_says_where(value, error):
    with pytest.raises(TranscriptError, match=error):
        parse(value)


def test_it_refuses_invalid_json():
    with pytest.raises(TranscriptError, match=r"invalid JSON"):
        parse(b'[{"mapping": {}, "current_node": ')


# --- detection ----------------------------------------------------------------------------------------------------


def test_it_detects_chatgpt_exports():
    assert chatgpt_export.detect(Source(EXPORT.read_bytes()))
    assert chatgpt_export.detect(Source(json.dumps(conversation(message("user", text="hi"))).encode()))


@pytest.mark.parametrize(
    "data",
    [
        json.dumps({"mapping": {}}).encode(),  # no current_node
        b"\xff",
    ],
)
def test_it_does_not_claim_other_formats(data):
    assert not chatgpt_export.detect(Source(data))


# --- robustness ---------------------------------------------------------------------------------------------------

text = st.text(max_size=5) | ANYTHING
CONTENT_TYPES = ["text", "multimodal_text", "code", "execution_output", "thoughts", "reasoning_recap"]
CONTENT_TYPES += ["user_editable_context", "tether_browsing_display", "tether_quote", "mystery"]
part = mostly(st.text(min_size=1, max_size=5)) | st.fixed_dictionaries(
    {"content_type": st.sampled_from(["image_asset_pointer", "audio_transcription", "x"]) | ANYTHING},
    optional={"text": text, "asset_pointer": text},
)
words = mostly(st.text(min_size=1, max_size=5))
content = st.fixed_dictionaries(
    {"content_type": mostly(st.sampled_from(CONTENT_TYPES)), "parts": mostly(st.lists(part, min_size=1, max_size=3))},
    optional={
        "thoughts": st.lists(st.fixed_dictionaries({}, optional={"summary": words, "content": words})) | ANYTHING,
    }
    | {key: words for key in ("text", "content", "result", "user_profile", "user_instructions", "model_set_context")},
)
chat_message = st.fixed_dictionaries(
    {
        "author": st.fixed_dictionaries(
            {"role": mostly(st.sampled_from(["user", "assistant", "system", "tool"]))},
            optional={"name": st.sampled_from(["python", "browser"]) | ANYTHING},
        ),
        "content": mostly(content),
    },
    optional={
        "recipient": st.sampled_from(["all", "python", "browser"]) | ANYTHING,
        "metadata": st.fixed_dictionaries(
            {}, optional={"is_visually_hidden_from_conversation": st.booleans() | ANYTHING}
        ),
        "create_time": st.floats() | st.integers() | ANYTHING,
        "id": text,
    },
)


@st.composite
def chat(draw) -> dict:
    """A conversation whose nodes mostly form a chain n0 -> n1 -> …, with odd parents, children and nodes mixed in."""
    messages = draw(st.lists(mostly(chat_message) | st.none(), min_size=1, max_size=5))
    mapping = {}
    for position, msg in enumerate(messages):
        parent = draw(mostly(st.just(f"n{position - 1}" if position else None)))
        children = draw(mostly(st.just([f"n{position + 1}"] if position + 1 < len(messages) else [])))
        mapping[f"n{position}"] = draw(
            mostly(st.just({"id": f"n{position}", "message": msg, "parent": parent, "children": children}))
        )
    current = draw(mostly(st.just(f"n{len(messages) - 1}")))
    return {"mapping": mapping, "current_node": current, "title": draw(text), "id": draw(text)}


export = chat() | st.lists(chat(), min_size=1, max_size=3)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export)
def test_it_raises_only_transcript_errors_on_export_shaped_json(value):
    check_contract(chatgpt_export, json.dumps(value).encode())
