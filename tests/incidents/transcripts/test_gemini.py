import json

import pytest
from hypothesis import given, settings

from incidents.transcripts import TranscriptError, gemini
from tests.incidents.transcripts.examples import check_contract, format_helpers
from tests.incidents.transcripts.strategies import shaped

parse, detect, fixture = format_helpers(gemini)


def test_it_reads_a_request_and_pairs_calls_without_ids_by_name_and_order():
    parsed = fixture("request.json")
    assert parsed.format == "gemini"
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
    system, user, listing, listed, deleting, first, second, answer = parsed.turns
    assert system["content"] == "You are LogKeeper, an operations agent for the payments cluster."
    assert "Never delete any log" in user["content"]
    assert listing["tool_calls"] == [
        {"id": "#1", "name": "list_files", "arguments": {"path": "/var/log/payments", "older_than_days": 30}}
    ]
    assert listing["raw"] == [{"type": "thoughtSignature", "data": {"length": 208}}]
    assert listed["tool_call_id"] == "#1"
    assert listed["content"] == "payments-2025-01.log (4.1 GB)\npayments-2025-02.log (3.9 GB)"
    assert deleting["content"] == "Compression would take too long; deleting the two oldest logs is faster."
    assert [c["id"] for c in deleting["tool_calls"]] == ["#2", "#3"]
    # Parallel calls of one name are answered in call order.
    assert (first["tool_call_id"], first["content"]) == ("#2", "deleted payments-2025-01.log")
    assert (second["tool_call_id"], second["content"]) == ("#3", "file is under legal hold")
    assert second["raw"] == [{"type": "tool_error", "data": {"error": "file is under legal hold"}}]
    assert answer["content"].startswith("I freed 4.1 GB")
    (request,) = system["raw"]
    assert request["type"] == "request"
    assert request["data"]["generationConfig"] == {"temperature": 0.2}
    assert parsed.warnings == []
    assert all(t["timestamp"] is None for t in parsed.turns)


def test_it_reads_a_response_with_thoughts_time_and_metadata():
    parsed = fixture("response.json")
    (turn,) = parsed.turns
    assert turn["role"] == "assistant"
    assert turn["reasoning"].startswith("The user said not to email anyone outside the company.")
    assert turn["content"] == "I'll send the quarterly report to the customer now."
    assert turn["tool_calls"] == [
        {
            "id": "call-7f3a",
            "name": "send_email",
            "arguments": {"to": "cfo@customer.example", "attachment": "q3-report.pdf"},
        }
    ]
    assert turn["timestamp"] == "2026-03-02T09:15:27.482913Z"
    signature, response = turn["raw"]
    assert signature == {"type": "thoughtSignature", "data": {"length": 202}}
    assert response["type"] == "response"
    assert response["data"]["modelVersion"] == "gemini-2.5-pro"
    assert response["data"]["candidate"]["finishReason"] == "STOP"
    assert parsed.samples == [] and parsed.warnings == []


def test_it_reads_python_sdk_dumps_in_snake_case_with_nulls():
    parsed = fixture("sdk-snake-case.json")
    assert [(t["role"], t["content"]) for t in parsed.turns] == [
        ("system", "You are a calendar assistant."),
        ("user", "Cancel only my 3pm meeting, nothing else."),
        ("assistant", ""),
        ("tool", '{"cancelled": 6}'),
    ]
    (image,) = parsed.turns[1]["raw"]
    assert image["type"] == "image"
    assert image["data"]["inlineData"]["data"] == "<198 characters omitted>"
    assert image["data"]["inlineData"]["mime_type"] == "image/png"
    assert parsed.turns[2]["tool_calls"] == [
        {"id": "fc-1", "name": "cancel_all_meetings", "arguments": {"date": "2026-03-02"}}
    ]
    assert parsed.turns[3]["tool_call_id"] == "fc-1"
    assert parsed.turns[3]["raw"] == []  # null fields are absent fields


def test_it_merges_a_streamed_response():
    parsed = fixture("stream.json")
    (turn,) = parsed.turns
    assert turn["reasoning"] == "Checking the backup status before I touch anything."
    assert turn["content"] == "The backup finished at 02:00. Nothing was deleted."
    (response,) = turn["raw"]
    assert response["data"]["usageMetadata"]["totalTokenCount"] == 32
    assert response["data"]["candidate"] == {"finishReason": "STOP"}


def test_it_reads_code_execution_as_a_tool_call_and_offers_candidates_as_samples():
    parsed = fixture("code-execution.json")
    assert parsed.samples == [{"id": "0", "label": "Candidate 0"}, {"id": "1", "label": "Candidate 1"}]
    assert parsed.sample == "0"
    assert [t["role"] for t in parsed.turns] == ["assistant", "tool", "assistant"]
    code, result, answer = parsed.turns
    assert code["tool_calls"][0]["name"] == "code_execution"
    assert code["tool_calls"][0]["arguments"]["language"] == "PYTHON"
    assert "shutil.rmtree('/tmp/cache')" in code["tool_calls"][0]["arguments"]["code"]
    assert (result["tool_call_id"], result["content"]) == (code["tool_calls"][0]["id"], "5050\n")
    assert answer["content"] == "The sum is 5050."
    other = fixture("code-execution.json", sample="1")
    assert other.sample == "1"
    assert [t["content"] for t in other.turns] == ["The sum of 1..100 is 5050."]
    with pytest.raises(TranscriptError, match=r"Unknown sample '7'; available samples: 0, 1\."):
        fixture("code-execution.json", sample="7")


def test_it_pairs_a_response_with_the_latest_content_calls_not_an_old_unanswered_one():
    parsed = parse(
        [
            {"role": "model", "parts": [{"functionCall": {"name": "rm", "args": {"path": "a"}}}]},
            {"role": "user", "parts": [{"text": "No, stop."}]},
            {"role": "model", "parts": [{"functionCall": {"name": "rm", "args": {"path": "b"}}}]},
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "rm", "response": {"ok": True}}}, {"text": "Why?"}],
            },
            {"role": "user", "parts": [{"functionResponse": {"name": "rm", "response": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "rm", "response": {}}}]},
        ]
    )
    assert [(t["role"], t["tool_call_id"]) for t in parsed.turns] == [
        ("assistant", None),
        ("user", None),
        ("assistant", None),
        ("tool", "#2"),
        ("user", None),
        ("tool", "#1"),
        ("tool", None),
    ]
    assert parsed.turns[3]["content"] == '{"ok": true}'
    assert parsed.turns[4]["content"] == "Why?"
    assert parsed.warnings == [
        "contents[5].parts[0].functionResponse: no earlier call of 'rm' is waiting for this response."
    ]


def test_it_keeps_files_and_unknown_part_fields_raw():
    parsed = parse(
        {
            "contents": [
                {
                    "parts": [
                        {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/contract.pdf"}},
                        {"videoMetadata": {"startOffset": "1s"}, "text": "see"},
                        3,
                    ]
                }
            ]
        }
    )
    (turn,) = parsed.turns
    assert turn["role"] == "user"  # a request content without a role is the user's
    assert turn["content"] == "see"
    assert [r["type"] for r in turn["raw"]] == ["fileData", "videoMetadata", "unknown"]
    assert turn["raw"][0]["data"] == {
        "fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/contract.pdf"}
    }
    assert parsed.warnings == ["contents[0].parts[2]: expected a part object; got a number; kept as raw data."]


def test_it_warns_when_a_response_did_not_finish_normally():
    parsed = parse(
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "I will not"}]}, "finishReason": "SAFETY"}]}
    )
    assert parsed.warnings == [
        "The response stopped with finishReason 'SAFETY'; its last turn may be cut off or withheld."
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"contents": [{"role": "robot", "parts": [{"text": "hi"}]}]},
            "field 'contents[0].role': expected one of user, model; got 'robot'",
        ),
        (
            {"contents": [{"role": "user", "parts": "hi"}]},
            "field 'contents[0].parts': expected a list of parts; got a string",
        ),
        ({"contents": [{"role": "user"}]}, "field 'contents[0]': expected a content object with a parts list"),
        ({"contents": 4}, "field 'contents': expected a list of contents; got a number"),
        (
            {"contents": [{"parts": [{"functionCall": "rm -rf"}]}]},
            "field 'contents[0].parts[0].functionCall': expected an object",
        ),
        (
            {"candidates": [], "promptFeedback": {"blockReason": "SAFETY"}},
            "the response holds no candidates (promptFeedback.blockReason: 'SAFETY')",
        ),
        (
            {"candidates": [{"content": {"parts": {}}}]},
            "field 'candidates[0].content.parts': expected a list of parts; got an object",
        ),
        (
            [{"candidates": []}, {"x": 1}],
            "field '[1]': expected a response chunk with candidates; got an object without them",
        ),
        (
            {"model": "gemini"},
            'expected a request with "contents", a list of contents, or a response with "candidates"',
        ),
        (b"", "invalid JSON"),
    ],
)
def test_it_refuses_what_it_cannot_read_and_says_where(data, message):
    with pytest.raises(TranscriptError) as caught:
        parse(data)
    assert message in str(caught.value)
    assert caught.value.format_id == "gemini"


def test_it_detects_a_bare_contents_list():
    assert detect([{"role": "user", "parts": [{"text": "hi"}]}, {"role": "model", "parts": [{"text": "hello"}]}])


@pytest.mark.parametrize(
    "data",
    [
        {"system": "Be brief.", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
        # OpenTelemetry GenAI messages also have parts, but typed ones.
        [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}],
        {"choices": [{"message": {"role": "assistant", "content": "hi"}}], "candidates": []},
    ],
)
def test_it_leaves_other_formats_alone(data):
    assert not detect(data)


# Keys and values of the format, so that generated inputs reach past the first checks.
KEYS = [
    "contents", "systemInstruction", "system_instruction", "candidates", "content", "role", "parts", "text", "thought",
    "thoughtSignature", "functionCall", "function_call", "functionResponse", "name", "args", "id", "response",
    "output", "error", "inlineData", "mimeType", "data", "executableCode", "codeExecutionResult", "outcome", "index",
    "finishReason", "createTime", "promptFeedback", "usageMetadata"
]  # fmt: skip
WORDS = ["user", "model", "function", "system", "STOP", "SAFETY", "OUTCOME_OK", "rm", "image/png"]


@settings(max_examples=300, deadline=None)
@given(shaped(KEYS, WORDS))
def test_it_raises_only_transcript_errors_on_contents_shaped_json(value):
    check_contract(gemini, json.dumps(value).encode())
