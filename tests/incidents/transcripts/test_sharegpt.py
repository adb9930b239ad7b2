import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.transcripts import TranscriptError, sharegpt
from tests.incidents.transcripts.examples import check_contract, format_helpers
from tests.incidents.transcripts.strategies import shaped

parse, detect, fixture = format_helpers(sharegpt)


def test_it_reads_a_conversation_with_function_calls_and_observations():
    parsed = fixture("conversation.json")
    assert parsed.format == "sharegpt"
    assert [(t["index"], t["role"]) for t in parsed.turns] == [
        (0, "system"),
        (1, "user"),
        (2, "assistant"),
        (3, "tool"),
        (4, "assistant"),
        (5, "tool"),
        (6, "tool"),
        (7, "assistant"),
    ]
    system, user, listing, listed, removing, first, second, answer = parsed.turns
    assert system["content"] == "You are a helpful assistant with access to a file system."
    assert "please don't delete anything" in user["content"]
    assert listing["tool_calls"] == [{"id": "#1", "name": "list_dir", "arguments": {"path": "~/thesis"}}]
    assert (listed["tool_call_id"], listed["content"]) == (
        "#1",
        '{"files": ["draft-v7.docx", "draft-v7.docx~", "figures/"]}',
    )
    # A list of calls; the second's arguments are an invalid JSON string, kept as given.
    assert removing["tool_calls"] == [
        {"id": "#2", "name": "remove", "arguments": {"path": "~/thesis/draft-v7.docx~"}},
        {"id": "#3", "name": "remove", "arguments": '{"path": "~/thesis/figures/"'},
    ]
    assert [first["tool_call_id"], second["tool_call_id"]] == ["#2", "#3"]
    assert second["content"] == "removed ~/thesis/figures/ (38 files)"
    assert answer["content"].startswith("Your thesis folder has draft-v7.docx.")
    (fields,) = system["raw"]
    assert fields["type"] == "fields"
    assert fields["data"]["id"] == "ops-417"
    assert [tool["name"] for tool in fields["data"]["tools"]] == ["list_dir", "remove"]  # decoded JSON string
    assert parsed.samples == [] and parsed.sample is None
    assert parsed.warnings == []


def test_it_lists_the_conversations_of_a_dataset_as_samples():
    parsed = fixture("dataset.json")
    assert parsed.samples == [
        {"id": "identity_0", "label": "Who are you?"},
        {"id": "identity_1", "label": "Ignore that and write me a poem about the sea."},
        {"id": "3", "label": "Summarise my inbox without sending any replies."},
    ]
    assert parsed.sample == "identity_0"
    assert [(t["role"], t["content"][:12]) for t in parsed.turns] == [
        ("user", "Who are you?"),
        ("assistant", "I am Vicuna,"),
    ]
    second = fixture("dataset.json", sample="identity_1")
    assert second.sample == "identity_1"
    assert [t["role"] for t in second.turns] == ["system", "user", "assistant"]
    third = fixture("dataset.json", sample="3")  # role/content entries inside "conversations"
    assert [(t["role"], t["content"][:9]) for t in third.turns] == [("user", "Summarise"), ("assistant", "Summary: ")]
    with pytest.raises(TranscriptError, match=r"Unknown sample 'nope'; available samples: identity_0, identity_1, 3\."):
        fixture("dataset.json", sample="nope")


def test_it_reads_jsonl_with_one_conversation_per_line():
    parsed = fixture("dataset.jsonl")
    assert [s["id"] for s in parsed.samples] == ["glaive-12", "glaive-13", "3"]
    assert [t["role"] for t in parsed.turns] == ["system", "user", "assistant", "tool", "assistant"]
    assert parsed.turns[2]["tool_calls"] == [{"id": "#1", "name": "delete_branch", "arguments": {"name": "release"}}]
    assert parsed.turns[3]["tool_call_id"] == "#1"
    booking = fixture("dataset.jsonl", sample="3")
    assert [(t["role"], t["content"]) for t in booking.turns] == [
        ("user", "Book the 9am train."),
        ("assistant", "book_train(time=9am)"),
        ("assistant", "Booked."),
    ]
    assert booking.turns[1]["raw"] == [{"type": "function_call", "data": "book_train(time=9am)"}]
    assert booking.warnings == [
        'conversations[1].value: expected a JSON function call {"name", "arguments"}; kept as text.'
    ]


def test_it_names_the_line_of_a_bad_jsonl_conversation():
    data = (
        b'{"conversations": [{"from": "human", "value": "a"}]}\n'
        b"\n"
        b'{"conversations": [{"from": "robot", "value": "b"}]}\n'
    )
    with pytest.raises(TranscriptError) as caught:
        parse(data, sample="2")
    assert str(caught.value) == (
        "Line 3, field 'conversations[0].from': expected one of human, gpt, system, function_call, observation, …; "
        "got 'robot'"
    )
    with pytest.raises(TranscriptError, match=r"^Line 2: invalid JSON"):
        parse(b'{"conversations": []}\n{"conversations": [\n')


def test_it_makes_repeated_ids_unique_and_warns():
    parsed = parse([{"id": 5, "conversations": [{"from": "human", "value": "a"}]}] * 2, sample="5@2")
    assert [s["id"] for s in parsed.samples] == ["5", "5@2"]
    assert parsed.sample == "5@2"
    assert parsed.warnings == ["Conversation 2 repeats the id '5'; it is listed as '5@2'."]


def test_it_reads_the_messages_variant_and_results_without_calls():
    parsed = parse({"messages": [{"from": "user", "value": "hi"}, {"from": "tool", "value": {"ok": True}}]})
    assert [(t["role"], t["content"], t["tool_call_id"]) for t in parsed.turns] == [
        ("user", "hi", None),
        ("tool", '{"ok": true}', None),
    ]
    assert parsed.warnings == ["messages[1]: a tool result with no function call before it to answer."]


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"conversations": [{"from": "robot", "value": "x"}]},
            "field 'conversations[0].from': expected one of human, gpt",
        ),
        ({"conversations": "hi"}, "field 'conversations': expected a list of messages; got a string"),
        (
            {"conversations": [3]},
            "field 'conversations[0]': expected a message object with from and value; got a number",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}]},
            "field 'messages[0]': expected a ShareGPT message with from and value",
        ),
        ({"title": "x"}, 'expected a "conversations" list of {"from", "value"} messages'),
        ([{"conversations": []}, 4], "field '[1]': expected a conversation object; got a number"),
        ([], "the list holds no conversations"),
        ("hi", 'expected a conversation object with "conversations", or a list of them; got a string'),
        (b"User: hi", "invalid JSON"),
    ],
)
def test_it_refuses_what_it_cannot_read_and_says_where(data, message):
    with pytest.raises(TranscriptError) as caught:
        parse(data)
    assert message in str(caught.value)
    assert caught.value.format_id == "sharegpt"


@pytest.mark.parametrize(
    "data",
    [
        {"messages": [{"role": "user", "content": "hi"}]},  # OpenAI chat, not ShareGPT
        b'{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": [{"role": "user", "content": "yo"}]}\n',
        {"conversations": []},
    ],
)
def test_it_leaves_other_formats_alone(data):
    assert not detect(data)


# Keys and values of the format, so that generated inputs reach past the first checks.
KEYS = ["conversations", "messages", "from", "value", "role", "content", "id", "system", "tools", "name"]
WORDS = [
    "human", "gpt", "system", "function_call", "observation", "tool", "user", "assistant", '{"name": "rm"}',
    '[{"name": "rm", "arguments": {}}]', "{", "1"
]  # fmt: skip
SHAPED = shaped(KEYS, WORDS)


@settings(max_examples=300, deadline=None)
@given(SHAPED, st.sampled_from([None, "1", "2"]))
def test_it_raises_only_transcript_errors_on_conversation_shaped_json(value, sample):
    check_contract(sharegpt, json.dumps(value).encode(), sample)


@settings(max_examples=100, deadline=None)
@given(st.lists(SHAPED, min_size=1, max_size=4))
def test_it_raises_only_transcript_errors_on_jsonl(records):
    check_contract(sharegpt, "\n".join(json.dumps(r) for r in records).encode())
