import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

URL = "/api/v1/transcripts/parse/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()


def test_it_detects_and_returns_turns(client):
    response = client.post(URL, {"content": "User: don't delete\nAssistant: deleted"}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["format"] == "plain-text"
    assert [t["role"] for t in body["turns"]] == ["user", "assistant"]
    assert body["turns"][1] == {
        "index": 1,
        "role": "assistant",
        "content": "deleted",
        "tool_calls": [],
        "tool_call_id": None,
        "reasoning": None,
        "timestamp": None,
        "raw": [],
    }
    assert body["warnings"] == [] and body["samples"] == []


def test_it_accepts_a_file(client):
    upload = SimpleUploadedFile("t.txt", b"Human: hi\nAI: hello\n")
    response = client.post(URL, {"file": upload})
    assert response.status_code == 200
    assert len(response.json()["turns"]) == 2


def test_it_says_where_a_transcript_is_wrong(client):
    upload = SimpleUploadedFile("t.txt", b"User: a\nAssistant: b\x00c")
    response = client.post(URL, {"file": upload})
    assert response.status_code == 400
    body = response.json()
    assert body["line"] == 2 and "NUL" in body["detail"]


def test_it_says_which_format_it_tried(client):
    response = client.post(URL, {"content": "no labels", "format": "plain-text"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["format"] == "plain-text"


# A wrong request answers in the shape of a transcript error, its `field` naming the request field.
def request_error(*, field: str | None, detail: str) -> dict:
    return {"detail": detail, "format": None, "line": None, "turn": None, "field": field}


def test_it_refuses_an_unknown_format_name(client):
    response = client.post(URL, {"content": "User: a", "format": "klingon"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == request_error(field="format", detail="field 'format': \"klingon\" is not a valid choice.")


def test_it_refuses_both_or_neither(client):
    neither = client.post(URL, {}, content_type="application/json")
    assert neither.status_code == 400
    expected = request_error(
        field=None, detail="Send the transcript as either `content` or `file`, not both or neither."
    )
    assert neither.json() == expected
    upload = SimpleUploadedFile("t.txt", b"User: a")
    both = client.post(URL, {"file": upload, "content": "User: a"})
    assert both.status_code == 400 and both.json() == expected


def test_it_names_the_first_wrong_field_and_says_what_is_wrong_with_each(client):
    response = client.post(URL, {"content": ["User: a"], "sample": {}}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "content"
    assert body["detail"] == "field 'content': Not a valid string. field 'sample': Not a valid string."


def test_it_refuses_malformed_json_bodies(client):
    response = client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("JSON parse error")
    assert body == request_error(field=None, detail=body["detail"])


def test_it_refuses_a_body_that_is_not_an_object(client):
    response = client.post(URL, ["User: a"], content_type="application/json")
    assert response.status_code == 400
    assert response.json() == request_error(field=None, detail="Invalid data. Expected a dictionary, but got list.")


def test_it_refuses_oversized_input_before_parsing(client, settings):
    settings.TRANSCRIPT_MAX_BYTES = 100
    upload = SimpleUploadedFile("t.txt", b"User: " + b"x" * 500)
    response = client.post(URL, {"file": upload})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_it_throttles_anonymous_callers(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "transcript_parse": "2/min"},
    }
    from rest_framework.settings import api_settings

    api_settings.reload()
    from rest_framework.throttling import ScopedRateThrottle

    ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        codes = [
            client.post(URL, {"content": "User: a"}, content_type="application/json").status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        last = client.post(URL, {"content": "User: a"}, content_type="application/json")
        assert int(last["Retry-After"]) > 0
    finally:
        api_settings.reload()
        ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
