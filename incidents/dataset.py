"""Dated, citable snapshots of every published incident: CSV and JSON Lines, with a manifest.

Only what the public pages show goes in, with free text redacted like transcripts are; nothing
about the reporter (neither identity nor reporter type nor intake channel, whose breakdowns the
statistics suppress). The manifest carries the data dictionary and the SHA-256 of each file, so a
citation can name the snapshot and anyone can check their copy.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from incidents import rollup
from incidents.models import DatasetSnapshot, Environment, Incident
from incidents.redaction import redact_text

FORMAT_VERSION = "1"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    value: Callable[[Incident], object]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _redacted(name: str) -> Callable[[Incident], str]:
    return lambda incident: redact_text(getattr(incident, name) or "")


COLUMNS: tuple[Column, ...] = (
    Column(
        "public_id", "string", "Stable public identifier, never reused (e.g. AIO-2026-00042).", lambda i: i.public_id
    ),
    Column("url", "string", "The incident's public page.", lambda i: settings.SITE_URL + i.get_absolute_url()),
    Column("title", "string", "Short title (redacted).", _redacted("title")),
    Column("status", "string", "published or resolved.", lambda i: i.status),
    Column("published_at", "datetime", "When it was published (UTC, ISO 8601).", lambda i: _iso(i.published_at)),
    Column("occurred_on", "date", "When the override happened, as reported.", lambda i: i.occurred_on.isoformat()),
    Column(
        "vendor",
        "string",
        "Vendor of the canonical AI system; empty until staff link it.",
        lambda i: i.vendor.name if i.vendor else "",
    ),
    Column(
        "ai_system",
        "string",
        "Canonical AI system; empty until staff link it.",
        lambda i: i.ai_system.name if i.ai_system else "",
    ),
    Column(
        "system_name_reported", "string", "The AI system as the reporter named it.", lambda i: i.system_name_reported
    ),
    Column("system_version_reported", "string", "Version as reported.", lambda i: i.system_version_reported),
    Column("agent_framework", "string", "Agent framework, where known.", lambda i: i.agent_framework),
    Column("override_type", "string", "Primary kind of override (taxonomy code).", lambda i: i.override_type),
    Column(
        "secondary_override_types",
        "list of strings",
        "Other kinds of override (CSV: separated by “;”).",
        lambda i: list(i.secondary_override_types or []),
    ),
    Column("instruction_source", "string", "Where the instruction was given.", lambda i: i.instruction_source),
    Column("instruction", "string", "The instruction, quoted (redacted).", _redacted("instruction")),
    Column("action_taken", "string", "What the AI did instead (redacted).", _redacted("action_taken")),
    Column("reversibility", "string", "Whether the action could be undone.", lambda i: i.reversibility),
    Column(
        "acknowledged",
        "string",
        "Whether the AI acknowledged the instruction before breaking it.",
        lambda i: i.acknowledged,
    ),
    Column("context", "string", "Deployment context.", lambda i: i.context),
    Column("environment", "string", "production, pilot or evaluation.", lambda i: i.environment),
    Column(
        "lab_demonstration",
        "boolean",
        "True for evaluation / red-team incidents (lab demonstrations).",
        lambda i: i.environment == Environment.EVALUATION,
    ),
    Column("harms", "string", "Harms described (redacted).", _redacted("harms")),
    Column(
        "severity_score",
        "number",
        "Effective severity score 0.0–10.0 (the triager's once given, else the reporter's); empty if unrated.",
        lambda i: float(i.severity_score) if i.severity_score is not None else None,
    ),
    Column(
        "severity_band", "string", "none, low, medium, high or critical; empty if unrated.", lambda i: i.severity_band
    ),
    Column(
        "reporter_severity_vector", "string", "The reporter's severity vector.", lambda i: i.reporter_severity_vector
    ),
    Column("triager_severity_vector", "string", "The triager's severity vector.", lambda i: i.triager_severity_vector),
    Column("vendor_severity_vector", "string", "The vendor's severity vector.", lambda i: i.vendor_severity_vector),
    Column("report_count", "integer", "Reports of this incident, duplicates included.", lambda i: i.report_count),
    Column("reproduction_count", "integer", "Confirmed independent reproductions.", lambda i: i.reproduction_count),
    Column("vendor_notified_at", "datetime", "When the vendor was notified.", lambda i: _iso(i.vendor_notified_at)),
    Column(
        "first_vendor_response_at", "datetime", "The vendor's first answer.", lambda i: _iso(i.first_vendor_response_at)
    ),
    Column("vendor_statement", "string", "The vendor's public statement (redacted).", _redacted("vendor_statement")),
    Column("references", "list of strings", "Reference URLs (CSV: separated by “;”).", lambda i: i.reference_urls),
    Column("modified", "datetime", "Last change to the record.", lambda i: _iso(i.modified)),
)


def dictionary() -> list[dict[str, str]]:
    return [{"name": c.name, "type": c.type, "description": c.description} for c in COLUMNS]


def incidents():
    """Everything the statistics count, oldest publication first."""
    return rollup.counted_incidents().select_related("vendor", "ai_system").order_by("published_at", "id")


def _csv_value(value: object) -> object:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if value is None:
        return ""
    return value


class _HashingWriter(io.RawIOBase):
    """Writes to a file while hashing and counting what goes through."""

    def __init__(self, handle) -> None:
        self.handle, self.sha256, self.size = handle, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.handle.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


def build(*, progress: Callable[[int, int], None] | None = None, now: datetime | None = None) -> DatasetSnapshot:
    """Write a new snapshot and record it; readers keep the previous one until it exists."""
    now = now or timezone.now()
    stem = f"override-watch-incidents-{now:%Y-%m-%d-%H%M%S}"
    queryset = incidents()
    expected = queryset.count() if progress else 0
    if progress:
        progress(0, expected)
    count = 0
    with tempfile.TemporaryDirectory() as directory:
        csv_path, jsonl_path = Path(directory) / f"{stem}.csv", Path(directory) / f"{stem}.jsonl"
        with csv_path.open("wb") as csv_raw, jsonl_path.open("wb") as jsonl_raw:
            csv_hash, jsonl_hash = _HashingWriter(csv_raw), _HashingWriter(jsonl_raw)
            csv_text = io.TextIOWrapper(io.BufferedWriter(csv_hash), encoding="utf-8", newline="")
            jsonl_text = io.TextIOWrapper(io.BufferedWriter(jsonl_hash), encoding="utf-8", newline="\n")
            writer = csv.writer(csv_text)
            writer.writerow([c.name for c in COLUMNS])
            for incident in queryset.iterator(chunk_size=2000):
                record = {c.name: c.value(incident) for c in COLUMNS}
                writer.writerow([_csv_value(v) for v in record.values()])
                jsonl_text.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
                if progress and (count % 500 == 0 or count == expected):
                    progress(count, max(expected, count))
            csv_text.flush()
            jsonl_text.flush()
            csv_text.detach()
            jsonl_text.detach()
        files = [
            {
                "name": csv_path.name,
                "media_type": "text/csv",
                "bytes": csv_hash.size,
                "sha256": csv_hash.sha256.hexdigest(),
            },
            {
                "name": jsonl_path.name,
                "media_type": "application/jsonl",
                "bytes": jsonl_hash.size,
                "sha256": jsonl_hash.sha256.hexdigest(),
            },
        ]
        manifest = {
            "title": "Override Watch: published AI instruction override incidents",
            "format_version": FORMAT_VERSION,
            "created": now.isoformat(),
            "incidents": count,
            "includes": "Published and resolved incidents; duplicates are counted on their canonical incident.",
            "excludes": "Unpublished, rejected and duplicate incidents; reporter identity, reporter type and "
            "intake channel; transcripts.",
            "redaction": "Free-text fields have emails, phone numbers, keys and secrets, card numbers, IP addresses "
            "and detectable personal names replaced by placeholders.",
            "files": files,
            "columns": dictionary(),
        }
        snapshot = DatasetSnapshot(created=now, incidents=count, manifest=manifest)
        with csv_path.open("rb") as handle:
            snapshot.csv_file.save(csv_path.name, File(handle), save=False)
        with jsonl_path.open("rb") as handle:
            snapshot.jsonl_file.save(jsonl_path.name, File(handle), save=False)
    snapshot.save()
    if progress:
        progress(count, max(expected, count))
    return snapshot


def sha256sums(snapshot: DatasetSnapshot) -> str:
    """The manifest's digests in the format ``sha256sum --check`` reads."""
    return "".join(f"{f['sha256']}  {f['name']}\n" for f in snapshot.manifest["files"])


def latest() -> DatasetSnapshot | None:
    return DatasetSnapshot.objects.order_by("-created", "-id").first()
