"""Dataset snapshots: CSV and JSON Lines of published incidents, redacted, with a SHA-256 manifest."""

import csv
import hashlib
import io
import json

import pytest
from django.core.management import call_command

from incidents import dataset
from incidents.models import DatasetSnapshot, Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path)}},
    }


def test_it_writes_published_incidents_only_redacted_and_digested(make_incident):
    published = make_incident(Status.PUBLISHED, action_taken="It emailed jane.doe@example.org the file.")
    make_incident(Status.VENDOR_NOTIFIED, title="Embargoed")
    snapshot = dataset.build()
    assert snapshot.incidents == 1
    body = snapshot.csv_file.read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["public_id"] for r in rows] == [published.public_id]
    assert "jane.doe@example.org" not in body
    assert "reporter_type" not in rows[0] and "intake_channel" not in rows[0]
    lines = snapshot.jsonl_file.read().decode().splitlines()
    assert json.loads(lines[0])["public_id"] == published.public_id
    files = {f["name"]: f for f in snapshot.manifest["files"]}
    for field in (snapshot.csv_file, snapshot.jsonl_file):
        field.open("rb")
        data = field.read()
        name = next(n for n in files if field.name.endswith(n.rsplit(".", 1)[1]))
        assert files[name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert files[name]["bytes"] == len(data)
    assert {c["name"] for c in snapshot.manifest["columns"]} == set(rows[0])


def test_it_serves_the_latest_snapshot_with_manifest_and_checksums(client, make_incident):
    make_incident(Status.PUBLISHED)
    call_command("build_dataset", "--no-progress", stdout=io.StringIO())
    snapshot = DatasetSnapshot.objects.get()
    page = client.get("/stats/dataset/")
    assert page.status_code == 200
    assert b"Data dictionary" in page.content and snapshot.manifest["files"][0]["sha256"].encode() in page.content
    name = snapshot.manifest["files"][0]["name"]
    download = client.get(f"/stats/dataset/{snapshot.pk}/{name}")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == snapshot.manifest["files"][0]["sha256"]
    sums = client.get(f"/stats/dataset/{snapshot.pk}/SHA256SUMS").content.decode()
    assert f"{snapshot.manifest['files'][0]['sha256']}  {name}" in sums
    assert client.get(f"/stats/dataset/{snapshot.pk}/manifest.json").json()["incidents"] == 1
    assert client.get(f"/stats/dataset/{snapshot.pk}/../../settings.py").status_code == 404
    assert client.get(f"/stats/dataset/{snapshot.pk}/other.csv").status_code == 404


def test_it_shows_progress_on_the_command_line(make_incident):
    make_incident(Status.PUBLISHED)
    err = io.StringIO()
    call_command("build_dataset", stdout=io.StringIO(), stderr=err)
    assert "100%" in err.getvalue()
