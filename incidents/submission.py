"""Filing an incident: one atomic act that stores the report, its evidence and its first history row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.core.files.base import ContentFile, File
from django.db import transaction

from incidents import workflow
from incidents.models import Incident, IntakeChannel, ReporterContact, Transcript
from incidents.severity import SeverityVector
from incidents.transcripts import ParsedTranscript


@dataclass(frozen=True)
class Evidence:
    raw: bytes | File  # the pasted text as bytes, or the uploaded or staged file (read from its start)
    parsed: ParsedTranscript
    filename: str = ""
    instruction_turn: int | None = None
    violation_turns: list[int] = field(default_factory=list)
    redaction_terms: list[str] = field(default_factory=list)


def file_incident(
    *,
    fields: dict,
    intake_channel: str = IntakeChannel.WEB,
    reporter_severity: SeverityVector | None = None,
    evidence: Evidence | None = None,
    reporter_email: str = "",
) -> Incident:
    """Create the incident with everything it came with, or nothing at all."""
    with transaction.atomic():
        incident = Incident(
            **fields,
            intake_channel=intake_channel,
            reporter_severity_vector=str(reporter_severity) if reporter_severity else "",
        )
        incident.save()
        if reporter_email:
            ReporterContact.objects.create(incident=incident, email=reporter_email)
        if evidence is not None:
            attach_transcript(incident, evidence)
        workflow.record_submission(incident)
    return incident


def fingerprint(raw: File) -> tuple[str, int]:
    """The file's SHA-256 (hex) and size, read from its start in chunks: an upload may be large, never held whole."""
    digest, size = hashlib.sha256(), 0
    for chunk in raw.chunks():
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def attach_transcript(incident: Incident, evidence: Evidence) -> Transcript:
    raw = evidence.raw if isinstance(evidence.raw, File) else ContentFile(evidence.raw)
    sha256, size = fingerprint(raw)
    transcript = Transcript(
        incident=incident,
        original_filename=evidence.filename[:255],
        sha256=sha256,
        size=size,
        format=evidence.parsed.format,
        turns=evidence.parsed.turns,
        warnings=evidence.parsed.warnings,
        instruction_turn=evidence.instruction_turn,
        violation_turns=evidence.violation_turns,
        redaction_terms=evidence.redaction_terms,
    )
    # The raw bytes are stored exactly as received, copied from the file; the file name is random (see upload_to).
    transcript.raw.save("upload", raw, save=False)
    transcript.save()
    return transcript
