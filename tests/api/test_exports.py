import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse

from api import exports
from incidents.models import Status
from tests.incidents.test_eval_dataset import AGENT_FIELDS, AGENT_TRANSCRIPT, VIOLATION_TURN, mark

pytestmark = pytest.mark.django_db

CSV_URL = "/api/v1/exports/incidents.csv"
JSONL_URL = "/api/v1/exports/incidents.jsonl"
EVAL_URL = "/api/v1/exports/eval-dataset.jsonl"


def body(response) -> str:
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response))))


def jsonl(response) -> list[dict]:
    return [json.loads(line) for line in body(response).splitlines()]


@pytest.fixture
def spread(make_incident, acme_system, globex_system):
    return {
        "acme_notified": make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system),
        "globex_notified": make_incident(Status.VENDOR_NOTIFIED, ai_system=globex_system),
        "submitted": make_incident(Status.SUBMITTED, email="hidden.reporter@example.org"),
        "published": make_incident(Status.PUBLISHED, ai_system=acme_system, email="hidden.reporter@example.org"),
    }


# ---------------------------------------------------------------------------------------------
# CSV and JSON Lines


def test_it_streams_a_csv_of_what_the_caller_may_see(api, spread):
    response = api.get(CSV_URL)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="override-watch-incidents-')
    assert response["Cache-Control"] == "private, no-store"
    rows = csv_rows(response)
    assert [row["public_id"] for row in rows] == [spread["published"].public_id]
    assert list(rows[0]) == exports.FIELDNAMES
    assert rows[0]["vendor"] == "acme"
    assert rows[0]["url"].endswith(f"/api/v1/incidents/{spread['published'].public_id}/")


def test_it_streams_json_lines_with_the_same_fields(api, spread):
    response = api.get(JSONL_URL)
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    (row,) = jsonl(response)
    assert list(row) == exports.FIELDNAMES
    assert row["public_id"] == spread["published"].public_id
    assert row["secondary_override_types"] == []


def test_it_shows_a_vendor_its_embargoed_incidents_but_never_another_vendors(api, spread, acme_member, globex_member):
    acme = {row["public_id"] for row in jsonl(api.get(JSONL_URL, **acme_member.headers))}
    assert acme == {spread["acme_notified"].public_id, spread["published"].public_id}
    globex = {row["public_id"] for row in csv_rows(api.get(CSV_URL, **globex_member.headers))}
    assert globex == {spread["globex_notified"].public_id, spread["published"].public_id}


def test_it_shows_staff_everything(api, spread, staff):
    rows = jsonl(api.get(JSONL_URL, **staff.headers))
    assert {row["public_id"] for row in rows} == {i.public_id for i in spread.values()}


def test_it_never_exports_the_reporter(api, spread, staff):
    for url in (CSV_URL, JSONL_URL):
        text = body(api.get(url, **staff.headers))
        assert "hidden.reporter" not in text
        assert spread["published"].receipt_token not in text
        assert "reporter_type" not in text and "intake_channel" not in text


def test_it_honours_the_list_filters(api, make_incident):
    lab = make_incident(Status.PUBLISHED, environment="evaluation")
    production = make_incident(Status.PUBLISHED, environment="production")
    assert [r["public_id"] for r in jsonl(api.get(JSONL_URL, {"environment": "evaluation"}))] == [lab.public_id]
    assert [r["public_id"] for r in csv_rows(api.get(CSV_URL, {"exclude_lab": "true"}))] == [production.public_id]


def test_it_answers_a_bad_filter_with_json_before_the_file(api, spread):
    response = api.get(CSV_URL, {"environment": "moon"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "environment" in response.json()
    # The public cannot even name an unpublished status.
    assert api.get(JSONL_URL, {"status": "submitted"}).status_code == 400


def test_it_keeps_spreadsheets_from_running_reported_text_as_formulas(api, make_incident):
    make_incident(Status.PUBLISHED, title='=HYPERLINK("http://evil.example","click")')
    (row,) = csv_rows(api.get(CSV_URL))
    assert row["title"].startswith("'=HYPERLINK(")
    (line,) = jsonl(api.get(JSONL_URL))
    assert line["title"].startswith("=HYPERLINK(")  # JSON is data, not a spreadsheet


def test_it_redacts_free_text(api, make_incident):
    make_incident(Status.PUBLISHED, instruction="Never email ops@example.com about this.")
    (row,) = jsonl(api.get(JSONL_URL))
    assert row["instruction"] == "Never email [EMAIL_1] about this."


def test_it_reads_in_keyset_chunks_with_bounded_queries(api, make_incident, monkeypatch, django_assert_max_num_queries):
    for _ in range(5):
        make_incident(Status.PUBLISHED)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    response = api.get(CSV_URL)
    # Three chunks of rows and the empty one that ends them: one query each, nothing per row.
    with django_assert_max_num_queries(4):
        assert len(csv_rows(response)) == 5


# ---------------------------------------------------------------------------------------------
# Evaluation dataset


@pytest.fixture
def marked(make_incident, acme_system):
    def make(status=Status.PUBLISHED, **fields):
        incident = make_incident(status, transcript=AGENT_TRANSCRIPT, **{**AGENT_FIELDS, **fields})
        return mark(incident, violations=[VIOLATION_TURN], instruction_turn=0)

    return make


def test_it_exports_an_eval_dataset_that_inspect_loads(api, marked, tmp_path):
    from inspect_ai.dataset import json_dataset
    from inspect_ai.model import ChatMessageSystem, ChatMessageTool, ChatMessageUser

    incident = marked()
    response = api.get(EVAL_URL)
    path = tmp_path / "override-watch.jsonl"
    path.write_text(body(response))
    (sample,) = json_dataset(str(path))
    assert sample.id == incident.public_id
    assert isinstance(sample.input[0], ChatMessageSystem)
    assert isinstance(sample.input[2], ChatMessageUser) and "[EMAIL_1]" in sample.input[2].text
    assert isinstance(sample.input[-1], ChatMessageTool) and sample.input[-1].tool_call_id == "call_1"
    assert sample.target.startswith("Comply with the instruction: Never delete files in /data.")
    assert sample.metadata["public_id"] == incident.public_id
    assert sample.metadata["override_type"] == "prohibited_action"
    assert sample.metadata["system"] == "MailPilot"


def test_it_puts_only_published_incidents_in_the_eval_dataset_even_for_staff(api, marked, staff, acme_member):
    published = marked(Status.PUBLISHED)
    marked(Status.VENDOR_NOTIFIED)
    marked(Status.TRIAGE)
    for headers in ({}, staff.headers, acme_member.headers):
        assert [r["id"] for r in jsonl(api.get(EVAL_URL, **headers))] == [published.public_id]


def test_it_filters_the_eval_dataset_like_the_list(api, marked):
    marked(environment="evaluation")
    production = marked(environment="production")
    rows = jsonl(api.get(EVAL_URL, {"exclude_lab": "true"}))
    assert [r["id"] for r in rows] == [production.public_id]
    assert api.get(EVAL_URL, {"score_min": "eleven"}).status_code == 400


def test_it_never_puts_the_reporter_in_the_eval_dataset(api, marked):
    incident = marked(email="hidden.reporter@example.org")
    text = body(api.get(EVAL_URL))
    assert "hidden.reporter" not in text and incident.receipt_token not in text
