"""Plain text with speaker labels: ``User:``, ``Assistant:``, ``Human:``, ``AI:``, ``System:``,
``Tool:``, ``Developer:``, also as Markdown headings (``## User``) or in bold (``**User:**``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, TurnLimit, make_turn

FORMAT_ID = "plain-text"
LABEL = "Plain text with speaker labels"

SPEAKERS = {
    "system": "system",
    "developer": "developer",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "model": "assistant",
    "tool": "tool",
    "function": "tool",
}

# A label is a line start: optional Markdown heading or bold, a known speaker, then a colon
# (the colon is optional only for a heading such as "## Assistant").
_LABEL = re.compile(
    r"^(?:#{1,6}\s*(?P<heading>[A-Za-z]+)\s*:?\s*$"
    r"|\*{0,2}(?P<speaker>[A-Za-z]+)\*{0,2}\s*:\*{0,2}[ \t]?(?P<rest>.*)$)"
)


def _speaker(line: str) -> tuple[str, str] | None:
    match = _LABEL.match(line)
    if not match:
        return None
    name = (match["heading"] or match["speaker"] or "").lower()
    role = SPEAKERS.get(name)
    if role is None:
        return None
    return role, (match["rest"] or "")


def detect(source: Source) -> bool:
    if source.is_zip or not source.is_text or source.is_json or source.is_jsonl:
        return False
    return any(_speaker(line) for line in source.head_text.splitlines()[:200])


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    turns: list[dict] = []
    warnings: list[str] = []
    role: str | None = None
    lines: list[str] = []
    preamble_end = 0
    limit = TurnLimit(FORMAT_ID)

    def close() -> None:
        if role is not None:
            turns.append(make_turn(len(turns), role, "\n".join(lines).strip("\n")))
            limit.check(len(turns))

    for number, line in enumerate(_lines(source), start=1):
        found = _speaker(line)
        if found:
            close()
            role, first = found
            lines = [first] if first else []
        elif role is None:
            if line.strip():
                preamble_end = number
        else:
            lines.append(line)
    close()

    if not turns:
        raise TranscriptError(
            "No speaker labels such as “User:” or “Assistant:” were found.", line=1, format_id=FORMAT_ID
        )
    if preamble_end:
        warnings.append(f"Lines 1–{preamble_end} come before the first speaker label and were not kept as a turn.")
    return ParsedTranscript(format=FORMAT_ID, turns=turns, warnings=warnings)


def _lines(source: Source) -> Iterator[str]:
    """The lines of ``str.splitlines`` (which also breaks at "\\r", U+2028 and the like), read a run at a time: runs
    end at a newline, so their lines are those of the whole text."""
    for run in source.text_runs():
        yield from run.splitlines()
