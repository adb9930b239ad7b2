"""The OpenAPI schema as served (/api/v1/schema/): the answers every operation shares, the shape
of the dry run's 400, and the bounds of the query parameters."""

import pytest
from django.test import Client

HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def schema() -> dict:
    response = Client().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict) -> list[tuple[str, dict]]:
    found = [
        (f"{method.upper()} {path}", operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert len(found) >= 20  # every operation of the API, not an empty schema
    return found


def detail_error(schema: dict, response: dict) -> bool:
    body = response["content"]["application/json"]["schema"]
    return body == {"$ref": "#/components/schemas/DetailError"} and schema["components"]["schemas"]["DetailError"][
        "required"
    ] == ["detail"]


def parameters(schema: dict, path: str) -> dict[str, dict]:
    return {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}


def test_it_documents_throttling_with_retry_after_on_every_operation(schema):
    for label, operation in operations(schema):
        throttled = operation["responses"].get("429")
        assert throttled is not None, label
        assert detail_error(schema, throttled), label
        assert throttled["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}, label


def test_it_documents_a_refused_token_on_every_operation(schema):
    for label, operation in operations(schema):
        refused = operation["responses"].get("401")
        assert refused is not None, label
        assert detail_error(schema, refused), label
        assert refused["headers"]["WWW-Authenticate"]["required"] is True, label


def test_it_says_anonymous_callers_are_served_where_they_are(schema):
    public = schema["paths"]["/api/v1/incidents/"]["get"]["responses"]["401"]["description"]
    members_only = schema["paths"]["/api/v1/webhooks/"]["get"]["responses"]["401"]["description"]
    assert "act as the public" in public
    assert "act as the public" not in members_only


def test_it_documents_unsupported_bodies_and_csrf_on_writes(schema):
    for label, operation in operations(schema):
        responses = operation["responses"]
        assert ("415" in responses) == ("requestBody" in operation), label
        if not label.startswith("GET"):
            assert "403" in responses, label


def test_it_describes_the_dry_runs_400_as_a_transcript_error(schema, client):
    documented = schema["paths"]["/api/v1/transcripts/parse/"]["post"]["responses"]["400"]
    assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TranscriptError"}
    shape = schema["components"]["schemas"]["TranscriptError"]

    response = client.post(
        "/api/v1/transcripts/parse/", {"content": "User: a", "format": "klingon"}, content_type="application/json"
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == set(shape["properties"]) == set(shape["required"])
    assert body["field"] == "format" and "klingon" in body["detail"]
    assert body["format"] is None and body["line"] is None and body["turn"] is None


def test_it_gives_validation_errors_an_open_shape(schema):
    shape = schema["components"]["schemas"]["ValidationError"]
    assert shape["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert set(shape["properties"]) == {"non_field_errors", "detail"}
    assert "field" not in shape["properties"]  # no stand-in property a client generator would take literally


def test_it_states_the_bounds_of_the_list_filters(schema):
    listed = parameters(schema, "/api/v1/incidents/")
    for name in ("score_min", "score_max"):
        assert listed[name] == {"type": "number", "minimum": 0, "maximum": 10}
    assert listed["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert listed["q"]["maxLength"] == 200
    for name in ("occurred_after", "occurred_before", "published_after", "published_before"):
        assert listed[name]["format"] == "date"
    assert listed["modified_since"]["format"] == "date-time"
    assert listed["exclude_lab"]["type"] == "boolean"
    # Exports take the same filters, documented the same way.
    assert parameters(schema, "/api/v1/exports/incidents.csv")["score_max"]["maximum"] == 10


def test_it_states_the_values_the_statistics_filters_take(schema):
    for path in ("/api/v1/stats/summary/", "/api/v1/stats/timeseries/"):
        given = parameters(schema, path)
        assert given["from"]["pattern"] == given["to"]["pattern"] == "^[0-9]{4}-(0[1-9]|1[0-2])$"
        assert "unrated" in given["severity_band"]["enum"]
        assert "evaluation" in given["environment"]["enum"]
        assert given["exclude_lab"]["type"] == "boolean"
        assert given["system"]["type"] == "integer"
        invalid = schema["paths"][path]["get"]["responses"]["400"]["content"]["application/json"]["schema"]
        assert invalid == {"$ref": "#/components/schemas/ValidationError"}
    assert parameters(schema, "/api/v1/stats/timeseries/")["interval"]["enum"] == ["month"]
