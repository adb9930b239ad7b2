import pytest

from incidents.transcripts import Source, TranscriptError
from incidents.transcripts.common import (
    Segment,
    TurnDraft,
    drop_base64,
    finish_turns,
    json_kind,
    json_type,
    object_lines,
    omit_payloads,
    parser_errors,
    select_sample,
    show,
    trim_payloads,
)

SAMPLES = [{"id": f"s{number}", "label": f"Sample {number}"} for number in range(25)]


def test_it_selects_the_sample_named_or_the_first():
    assert select_sample(SAMPLES, None) == 0
    assert select_sample(SAMPLES, "s7") == 7


def test_it_refuses_an_unknown_sample_listing_twenty_ids_and_how_many_more():
    with pytest.raises(TranscriptError) as caught:
        select_sample(SAMPLES, "nope", "sharegpt")
    listed = ", ".join(f"s{number}" for number in range(20))
    assert str(caught.value) == f"Unknown sample 'nope'; available samples: {listed} (and 5 more)."
    assert caught.value.format_id == "sharegpt"
    with pytest.raises(TranscriptError, match=r"^Unknown sample 'nope'; available samples: s0, s1\.$"):
        select_sample(SAMPLES[:2], "nope")


@pytest.mark.parametrize(
    "value, kind, json_name",
    [
        ({}, "an object", "object"),
        ([], "a list", "array"),
        ("x", "a string", "string"),
        (1.5, "a number", "number"),
        (True, "a boolean", "boolean"),
        (None, "null", "null"),
    ],
)
def test_it_names_json_values_in_words_and_by_their_json_type(value, kind, json_name):
    assert (json_kind(value), json_type(value)) == (kind, json_name)


def test_it_shows_strings_quoted_and_other_values_by_kind_within_sixty_characters():
    assert show("rm") == "'rm'"
    assert show(["x"]) == "a list"
    assert show("y" * 100) == "'" + "y" * 56 + "…"


def test_it_names_the_format_of_errors_raised_while_parsing():
    with pytest.raises(TranscriptError) as caught, parser_errors("gemini"):
        raise TranscriptError("bad")
    assert caught.value.format_id == "gemini"
    with pytest.raises(TranscriptError) as caught, parser_errors("gemini"):
        raise TranscriptError("bad", format_id="openai-chat")
    assert caught.value.format_id == "openai-chat"


def test_it_refuses_data_nested_too_deeply_to_read():
    def deep(depth: int) -> int:
        return deep(depth + 1)

    too_deep = "The trace is nested too deeply to read."
    with (
        pytest.raises(TranscriptError, match=rf"^{too_deep}$") as caught,
        parser_errors("otel-genai", too_deep=too_deep),
    ):
        deep(0)
    assert caught.value.format_id == "otel-genai"
    with pytest.raises(TranscriptError, match=r"^The JSON is nested too deeply to read\.$"), parser_errors("x"):
        deep(0)


def test_it_reads_a_log_of_one_object_per_line_and_refuses_another_single_value():
    assert list(object_lines(Source(b'{"a": 1}\n\n{"b": 2}'), "codex-cli", "a Codex rollout")) == [
        (1, {"a": 1}),
        (3, {"b": 2}),
    ]
    assert list(object_lines(Source(b'{"a": 1}'), "codex-cli", "a Codex rollout")) == [(1, {"a": 1})]
    with pytest.raises(TranscriptError) as caught:
        object_lines(Source(b"\n[1, 2]"), "codex-cli", "a Codex rollout")
    assert str(caught.value) == "Line 2: expected one JSON object per line (a Codex rollout); got a JSON array"
    assert caught.value.format_id == "codex-cli"


def test_it_omits_the_payloads_a_format_names_at_any_depth():
    value = {"data": "A" * 300, "note": "A" * 300, "list": [{"data": "B" * 10}], "n": 1}
    stripped = omit_payloads(value, lambda holder, key, text: key == "data")
    assert stripped == {
        "data": "<300 characters omitted>",
        "note": "A" * 300,
        "list": [{"data": "<10 characters omitted>"}],
        "n": 1,
    }
    assert value["data"] == "A" * 300  # a copy


def test_it_stops_omitting_below_the_depth_limit_and_may_leave_lists_alone():
    nested = {"data": "x", "a": {"data": "x", "a": {"data": "x"}}}
    assert omit_payloads(nested, lambda *_: True, max_depth=1) == {
        "data": "<1 characters omitted>",
        "a": {"data": "<1 characters omitted>", "a": {"data": "x"}},
    }
    assert omit_payloads([{"data": "x"}], lambda *_: True, lists=False) == [{"data": "x"}]


def test_it_trims_only_long_values_of_the_keys_given():
    value = {"data": "Q" * 257, "signature": "S" * 256, "text": "T" * 300, "inner": {"data": "Q" * 300}}
    assert trim_payloads(value, frozenset({"data", "signature"})) == {
        "data": "<257 characters omitted>",
        "signature": "S" * 256,
        "text": "T" * 300,
        "inner": {"data": "<300 characters omitted>"},
    }


def test_it_drops_data_uris_and_long_base64_runs():
    value = {"image": "data:image/png;base64," + "A" * 40, "blob": ["QUJD" * 600], "text": "QUJD" * 10}
    assert drop_base64(value) == {
        "image": "[image/png data removed, 62 characters]",
        "blob": ["[base64 data removed, 2400 characters]"],
        "text": "QUJD" * 10,
    }


def test_it_finishes_drafts_into_numbered_turns_without_empty_parts():
    drafts = [
        TurnDraft("user", "2025-01-01T00:00:00Z", ["", "hi", "there"]),
        TurnDraft(
            "assistant", text=[""], reasoning=["", "think"], tool_calls=[{"id": "c", "name": "f", "arguments": {}}]
        ),
        TurnDraft("tool", text=["ok"], tool_call_id="c", raw=[{"type": "x", "data": 1}]),
    ]
    turns = finish_turns(drafts)
    assert [(t["index"], t["role"], t["content"], t["reasoning"]) for t in turns] == [
        (0, "user", "hi\n\nthere", None),
        (1, "assistant", "", "think"),
        (2, "tool", "ok", None),
    ]
    assert turns[0]["timestamp"] == "2025-01-01T00:00:00Z"
    assert turns[2]["tool_call_id"] == "c" and turns[2]["raw"] == [{"type": "x", "data": 1}]


def test_it_emits_a_segment_as_one_turn_only_when_it_holds_something():
    emitted = []
    Segment("user").emit_to(lambda *args, **fields: emitted.append((args, fields)))
    assert emitted == []
    segment = Segment("assistant")
    segment.texts += ["a", "b"]
    segment.calls.append({"id": "c", "name": "f", "arguments": {}})
    segment.emit_to(lambda *args, **fields: emitted.append((args, fields)))
    assert emitted == [
        (
            ("assistant", "a\n\nb"),
            {"tool_calls": [{"id": "c", "name": "f", "arguments": {}}], "reasoning": None, "raw": []},
        )
    ]
