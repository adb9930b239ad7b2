"""Transcript import: detect a format, parse it into normalised turns.

A turn is a dict: ``index``, ``role`` (system, developer, user, assistant, tool), ``content`` (text),
``tool_calls`` (list of {id, name, arguments}), ``tool_call_id``, ``reasoning`` and ``timestamp``
(both may be None). Each format lives in its own module and exposes ``FORMAT_ID``, ``LABEL``,
``detect(text) -> bool`` and ``parse(text) -> ParsedTranscript``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

ROLES = ("system", "developer", "user", "assistant", "tool")


class TranscriptError(ValueError):
    """A transcript that cannot be read, with where and why."""

    def __init__(self, message: str, *, line: int | None = None, format_id: str | None = None) -> None:
        self.line = line
        self.format_id = format_id
        super().__init__(f"Line {line}: {message}" if line else message)


@dataclass
class ParsedTranscript:
    format: str
    turns: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def make_turn(index: int, role: str, content: str, **extra: object) -> dict:
    return {
        "index": index,
        "role": role,
        "content": content,
        "tool_calls": extra.get("tool_calls", []),
        "tool_call_id": extra.get("tool_call_id"),
        "reasoning": extra.get("reasoning"),
        "timestamp": extra.get("timestamp"),
    }


def decode(data: bytes) -> str:
    """Uploaded bytes as text: UTF-8 (with or without BOM), nothing else guessed."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptError(
            f"The file is not UTF-8 text (undecodable byte at position {exc.start})."
        ) from exc
    check_text(text)
    return text


def check_text(text: str) -> None:
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise TranscriptError("The transcript contains a NUL character; is it a binary file?", line=line)


def formats() -> list:
    from incidents.transcripts import plain_text

    return [plain_text]


def format_choices() -> list[tuple[str, str]]:
    return [(module.FORMAT_ID, module.LABEL) for module in formats()]


def parse(text: str, format_id: str | None = None) -> ParsedTranscript:
    """Parse ``text`` in the named format, or the first format that recognises it."""
    check_text(text)
    if len(text.encode()) > settings.TRANSCRIPT_MAX_BYTES:
        raise TranscriptError(
            f"The transcript is larger than {settings.TRANSCRIPT_MAX_BYTES // 1_000_000} MB."
        )
    modules = formats()
    if format_id:
        chosen = [m for m in modules if format_id == m.FORMAT_ID]
        if not chosen:
            known = ", ".join(m.FORMAT_ID for m in modules)
            raise TranscriptError(f"Unknown transcript format {format_id!r}; known formats: {known}.")
    else:
        chosen = [m for m in modules if m.detect(text)]
        if not chosen:
            raise TranscriptError(
                "The transcript format was not recognised. Plain text needs speaker labels at the "
                "start of lines, such as “User:” and “Assistant:”."
            )
    parsed = chosen[0].parse(text)
    if len(parsed.turns) > settings.TRANSCRIPT_MAX_TURNS:
        raise TranscriptError(
            f"The transcript has {len(parsed.turns)} turns; the limit is {settings.TRANSCRIPT_MAX_TURNS}.",
            format_id=parsed.format,
        )
    return parsed
