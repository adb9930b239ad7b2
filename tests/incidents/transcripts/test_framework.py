"""The framework every format builds on: the source's JSON Lines views, and the contract each parser keeps."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents import transcripts
from incidents.transcripts import Source, TranscriptError
from tests.incidents.transcripts.examples import check_contract
from tests.incidents.transcripts.strategies import JSON

FORMATS = transcripts.formats()


# --- JSON Lines ---------------------------------------------------------------------------------------------------


def test_it_numbers_json_lines_by_newline_only():
    text = '{"a": "x\u2028y"}\r\n\n  \n{"b": 2}'
    assert list(Source(text.encode()).records()) == [(1, {"a": "x\u2028y"}), (4, {"b": 2})]


def test_it_names_the_bad_line_and_reads_no_further_than_needed():
    lines = Source(b'{"a": 1}\n{oops}\n').records("claude-code")
    assert next(lines) == (1, {"a": 1})
    with pytest.raises(TranscriptError) as caught:
        next(lines)
    assert (caught.value.line, caught.value.format_id) == (2, "claude-code")
    assert str(caught.value).startswith("Line 2: invalid JSON")


def test_it_reads_a_one_line_file_as_one_record():
    one_line = Source(b'\n\n{"type": "user"}\n')
    assert one_line.is_json and not one_line.is_jsonl
    assert list(one_line.records()) == [(3, {"type": "user"})]
    several = Source(b'{"a": 1}\n\n{"b": 2}\n')
    assert several.is_jsonl
    assert list(several.records()) == [(1, {"a": 1}), (3, {"b": 2})]


def test_it_tells_whether_the_source_starts_with_an_object():
    assert Source(b'\xef\xbb\xbf \n{"a": 1}').starts_with_object
    assert not Source(b'[{"a": 1}]').starts_with_object
    assert Source(b"\n\n  x").first_line == 3
    assert Source(b"").first_line == 1


@pytest.mark.parametrize("format_id", ["jsonl-messages", "sharegpt"])
def test_it_numbers_records_holding_a_line_separator_by_their_real_line(format_id):
    if format_id == "sharegpt":
        first, second = {"conversations": [{"from": "human", "value": "a\u2028b"}]}, {"conversations": [{"from": "x"}]}
    else:
        first, second = {"messages": [{"role": "user", "content": "a\u2028b"}]}, {"messages": [{"role": "x"}]}
    data = (json.dumps(first, ensure_ascii=False) + "\n\n" + json.dumps(second)).encode()
    parsed = transcripts.parse(data, format_id)
    assert parsed.turns[0]["content"] == "a\u2028b"
    with pytest.raises(TranscriptError) as caught:
        transcripts.parse(data, format_id, sample=parsed.samples[1]["id"])
    assert caught.value.line == 3


# --- the parser contract --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", FORMATS, ids=lambda module: module.FORMAT_ID)
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_it_raises_only_transcript_errors_on_arbitrary_bytes(module, data):
    check_contract(module, data)


@pytest.mark.parametrize("module", FORMATS, ids=lambda module: module.FORMAT_ID)
@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_it_raises_only_transcript_errors_on_arbitrary_json(module, value):
    check_contract(module, json.dumps(value).encode())
