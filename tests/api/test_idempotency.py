import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from api.idempotency import purge_idempotency_keys
from incidents.models import IdempotencyKey, Incident
from tests.api.test_submit import TRANSCRIPT, URL, report

pytestmark = pytest.mark.django_db


def post(api, body, key: str, **extra):
    return api.post(URL, body, format=extra.pop("format", "json"), HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_it_answers_a_retry_with_the_first_answer(api):
    first = post(api, report(), "key-1")
    again = post(api, report(), "key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Incident.objects.count() == 1


def test_it_treats_a_reordered_json_body_as_the_same_request(api):
    body = report()
    post(api, body, "key-1")
    reordered = dict(reversed(list(body.items())))
    assert post(api, reordered, "key-1")["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1


def test_it_refuses_the_same_key_with_a_different_body(api):
    post(api, report(), "key-1")
    response = post(api, report(title="Something else entirely"), "key-1")
    assert response.status_code == 422
    assert "different request" in response.json()["detail"]
    assert Incident.objects.count() == 1


def test_it_keeps_keys_apart_per_caller(api, monitor, analyst):
    assert post(api, report(), "shared", **monitor.headers).status_code == 201
    assert post(api, report(), "shared", **analyst.headers).status_code == 201
    assert post(api, report(), "shared").status_code == 201
    assert Incident.objects.count() == 3
    assert set(IdempotencyKey.objects.values_list("owner", flat=True)) == {
        f"token:{monitor.token.split('_')[1]}",
        f"token:{analyst.token.split('_')[1]}",
        "anon:127.0.0.1",
    }


def test_it_does_not_keep_a_refused_request(api):
    refused = post(api, report(title=""), "key-1")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert post(api, report(), "key-1").status_code == 201


def test_it_replays_multipart_uploads_by_content(api):
    def body(content: bytes) -> dict:
        data = report(transcript=..., severity="OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y")
        data["transcript_file"] = SimpleUploadedFile("chat.txt", content)
        return data

    first = post(api, body(TRANSCRIPT.encode()), "upload", format="multipart")
    assert first.status_code == 201
    assert post(api, body(TRANSCRIPT.encode()), "upload", format="multipart")["Idempotent-Replayed"] == "true"
    assert post(api, body(TRANSCRIPT.encode() + b"User: more\n"), "upload", format="multipart").status_code == 422
    assert Incident.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
def test_it_refuses_a_malformed_key(api, key):
    response = post(api, report(), key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not Incident.objects.exists()


def test_it_purges_keys_older_than_a_day_only(api):
    post(api, report(), "old")
    post(api, report(), "new")
    IdempotencyKey.objects.filter(key="old").update(created=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys(older_than=timedelta(hours=1)) == 1  # never less than 24 hours
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_it_files_one_incident_when_the_same_key_arrives_in_parallel():
    parallel = 8
    barrier = threading.Barrier(parallel)
    responses: list = []
    errors: list = []

    def send() -> None:
        try:
            barrier.wait(timeout=10)
            responses.append(post(APIClient(), report(), "parallel-key"))
        except Exception as exc:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert Incident.objects.count() == 1
    assert len(responses) == parallel
    created = [r for r in responses if r.status_code == 201]
    # Every request waits for the first and gets its answer (409 only if the first took over 10 s).
    assert {r.status_code for r in responses} <= {201, 409} and created
    assert {r.json()["public_id"] for r in created} == {Incident.objects.get().public_id}
    assert sum("Idempotent-Replayed" not in r for r in created) == 1


@pytest.mark.django_db(transaction=True)
def test_it_answers_409_while_the_first_request_is_in_flight(monkeypatch):
    """A request holding the key longer than the wait limit: the second is told to retry."""
    if connection.vendor != "postgresql":
        pytest.skip("lock_timeout is PostgreSQL's")
    from api import idempotency, views

    monkeypatch.setattr(idempotency, "LOCK_WAIT", "200ms")
    inside, release = threading.Event(), threading.Event()
    real_submit = views.IncidentList._submit

    def slow_submit(self, request):
        response = real_submit(self, request)
        inside.set()
        release.wait(timeout=10)
        return response

    monkeypatch.setattr(views.IncidentList, "_submit", slow_submit)
    results: dict = {}

    def first() -> None:
        try:
            results["first"] = post(APIClient(), report(), "slow-key")
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(timeout=10)
    try:
        second = post(APIClient(), report(), "slow-key")
    finally:
        release.set()
        thread.join(timeout=30)
    assert second.status_code == 409 and second.json()["code"] == "idempotency_key_in_progress"
    assert second["Retry-After"]
    assert results["first"].status_code == 201
    assert post(APIClient(), report(), "slow-key")["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1


def test_the_scheduled_task_purges_old_keys(api):
    from api.tasks import purge_idempotency_keys as task

    post(api, report(), "old")
    IdempotencyKey.objects.update(created=timezone.now() - timedelta(days=2))
    assert task.delay().get() == 1
    assert not IdempotencyKey.objects.exists()
