"""Transcript import: detect a format, parse it into normalised turns.

A turn is a dict (stored as JSON on ``Transcript.turns``):
``index``, ``role`` (system, developer, user, assistant, tool), ``content`` (text),
``tool_calls`` (list of {id, name, arguments}), ``tool_call_id`` (on tool results), ``reasoning``,
``timestamp`` (ISO 8601 string) and ``raw`` (blocks we do not model, kept as {type, data} rather
than dropped). Build turns with ``make_turn``.

Each format is one module in this package exposing ``FORMAT_ID``, ``LABEL``,
``detect(source) -> bool`` and ``parse(source, *, sample=None) -> ParsedTranscript``; a parser
raises only ``TranscriptError`` for input it cannot read. What several parsers need (sample choice,
error wording, opaque payloads, turns in progress) is in ``common``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings

ROLES = ("system", "developer", "user", "assistant", "tool")

# Detection order: the most specific formats first, the catch-alls last.
FORMAT_MODULES = (
    "inspect_eval",
    "otel_genai",
    "claude_code",
    "codex_cli",
    "chatgpt_export",
    "langchain",
    "sharegpt",
    "gemini",
    "openai_responses",
    "anthropic_messages",
    "openai_chat",
    "jsonl_messages",
    "plain_text",
)


class TranscriptError(ValueError):
    """A transcript that cannot be read, with where and why."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        turn: int | None = None,
        field: str | None = None,
        format_id: str | None = None,
    ) -> None:
        self.message = message
        self.line, self.turn, self.field, self.format_id = line, turn, field, format_id
        where = []
        if line is not None:
            where.append(f"Line {line}")
        if turn is not None:
            where.append(f"turn {turn}")
        if field:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "detail": str(self),
            "format": self.format_id,
            "line": self.line,
            "turn": self.turn,
            "field": self.field,
        }


@dataclass
class ParsedTranscript:
    format: str
    turns: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Sources holding several conversations (eval logs, exports) list them; ``sample`` is the one parsed.
    samples: list[dict] = field(default_factory=list)
    sample: str | None = None


def make_turn(
    index: int,
    role: str,
    content: str,
    *,
    tool_calls: list[dict] | None = None,
    tool_call_id: str | None = None,
    reasoning: str | None = None,
    timestamp: str | None = None,
    raw: list[dict] | None = None,
) -> dict:
    if role not in ROLES:
        raise TranscriptError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", turn=index)
    return {
        "index": index,
        "role": role,
        "content": content,
        "tool_calls": tool_calls or [],
        "tool_call_id": tool_call_id,
        "reasoning": reasoning,
        "timestamp": timestamp,
        "raw": raw or [],
    }


def tool_call(call_id: str | None, name: str, arguments: Any, *, parse_json: bool = True) -> dict:
    """A tool call; ``arguments`` is kept as given when it is not valid JSON (never fail on it).

    ``parse_json=False`` keeps free-text input (custom tools) as text even when it looks like JSON.
    """
    if parse_json and isinstance(arguments, str):
        with contextlib.suppress(ValueError):
            arguments = json.loads(arguments)
    return {"id": call_id, "name": name, "arguments": arguments}


class Source:
    """The uploaded bytes, with lazily decoded views; each view raises TranscriptError when it fails."""

    def __init__(self, data: bytes, filename: str = "") -> None:
        self.data = data
        self.filename = filename

    @cached_property
    def text(self) -> str:
        return decode(self.data)

    @cached_property
    def json(self) -> Any:
        return load_json(self.text)

    @cached_property
    def is_json(self) -> bool:
        head = self.data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head[:1] not in (b"{", b"["):
            return False
        try:
            self.json  # noqa: B018 - parsed once and cached for the parser
        except TranscriptError:
            return False
        return True

    @cached_property
    def jsonl_lines(self) -> list[tuple[int, Any]]:
        """(line number, JSON value) per non-blank line; a bad line names its number."""
        return list(iter_jsonl(self.text))

    @cached_property
    def jsonl(self) -> list[Any]:
        """One JSON value per non-blank line; a bad line names its number."""
        return [value for _, value in self.jsonl_lines]

    @cached_property
    def is_jsonl(self) -> bool:
        """JSON Lines of objects. False for a one-line file, which is plain JSON: see ``records``."""
        if self.is_json or self.data.lstrip()[:1] != b"{":
            return False
        try:
            return bool(self.jsonl) and all(isinstance(r, dict) for r in self.jsonl)
        except TranscriptError:
            return False

    @cached_property
    def starts_with_object(self) -> bool:
        """Whether the first non-blank character (after a BOM) is ``{``, as in JSON Lines of objects."""
        return self.data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"

    @cached_property
    def first_line(self) -> int:
        """The number of the first non-blank line (1 when there is none)."""
        return next((n for n, line in enumerate(self.text.split("\n"), start=1) if line.strip()), 1)

    def records(self, format_id: str | None = None) -> Iterator[tuple[int, Any]]:
        """(line number, JSON value) per record of a JSON Lines source, read lazily.

        A one-line file is also valid JSON as a whole (``is_jsonl`` is False for it): a source that is
        JSON as a whole is one record, numbered by its first non-blank line. A bad line raises with its
        number, attributed to ``format_id``.
        """
        if self.is_json:
            yield self.first_line, self.json
        else:
            yield from iter_jsonl(self.text, format_id)

    @cached_property
    def is_text(self) -> bool:
        try:
            self.text  # noqa: B018 - decoded once and cached
        except TranscriptError:
            return False
        return True

    @cached_property
    def is_zip(self) -> bool:
        return self.data[:4] == b"PK\x03\x04"

    def zip(self) -> zipfile.ZipFile:
        try:
            archive = zipfile.ZipFile(io.BytesIO(self.data))
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            raise TranscriptError(f"The archive cannot be read: {exc}.") from None
        members = archive.infolist()
        most = settings.TRANSCRIPT_MAX_ARCHIVE_MEMBERS
        if len(members) > most:
            raise TranscriptError(f"The archive has {len(members)} members; the limit is {most}.")
        declared = sum(member.file_size for member in members)
        if declared > settings.TRANSCRIPT_MAX_UNCOMPRESSED_BYTES:
            raise TranscriptError(
                f"The archive unpacks to {megabytes(declared)}; "
                f"the limit is {megabytes(settings.TRANSCRIPT_MAX_UNCOMPRESSED_BYTES)}."
            )
        return archive


def megabytes(size: int) -> str:
    """A size as people read it, in MiB like the limits are set (a small limit is not "0 MB")."""
    return f"{size / 1024 / 1024:.1f} MB" if size < 10 * 1024 * 1024 else f"{size // (1024 * 1024)} MB"


def decode(data: bytes) -> str:
    """Uploaded bytes as text: UTF-8 (with or without BOM), nothing else guessed."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"The file is not UTF-8 text (undecodable byte at position {exc.start}).") from None
    check_text(text)
    return text


def check_text(text: str) -> None:
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise TranscriptError("The transcript contains a NUL character; is it a binary file?", line=line)


def iter_jsonl(text: str, format_id: str | None = None) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) per non-blank line of ``text``, read lazily; a bad line names its number.

    Splits on "\\n" only: ``str.splitlines`` also breaks at U+2028 and friends, which JSON.stringify
    leaves unescaped inside strings.
    """
    start, number, size = 0, 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end == -1:
            end = size
        number += 1
        line = text[start:end]
        start = end + 1
        if line.strip():
            try:
                yield number, load_json(line)
            except TranscriptError as exc:
                raise TranscriptError(exc.message, line=number, format_id=format_id) from None


def load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except RecursionError:
        raise TranscriptError("The JSON is nested too deeply to read.") from None


def formats() -> list:
    return [importlib.import_module(f"incidents.transcripts.{name}") for name in FORMAT_MODULES]


def format_choices() -> list[tuple[str, str]]:
    return [(module.FORMAT_ID, module.LABEL) for module in formats()]


def parse(
    data: bytes | str, format_id: str | None = None, *, sample: str | None = None, filename: str = ""
) -> ParsedTranscript:
    """Parse ``data`` in the named format, or in the first format that recognises it."""
    raw = data.encode() if isinstance(data, str) else data
    limit = settings.TRANSCRIPT_MAX_BYTES
    if len(raw) > limit:
        raise TranscriptError(f"The transcript is {megabytes(len(raw))}; the limit is {megabytes(limit)}.")
    source = Source(raw, filename)
    modules = formats()
    if format_id:
        chosen = next((m for m in modules if format_id == m.FORMAT_ID), None)
        if chosen is None:
            known = ", ".join(m.FORMAT_ID for m in modules)
            raise TranscriptError(f"Unknown transcript format {format_id!r}; known formats: {known}.")
    else:
        if not source.is_zip:
            source.text  # noqa: B018 - refuse undecodable or NUL-bearing text before any detection
        chosen = next((m for m in modules if m.detect(source)), None)
        if chosen is None:
            raise TranscriptError(
                "The transcript format was not recognised. Name the format, or for plain text put "
                "speaker labels at the start of lines, such as “User:” and “Assistant:”."
            )
    try:
        parsed = chosen.parse(source, sample=sample)
    except TranscriptError as exc:
        exc.format_id = exc.format_id or chosen.FORMAT_ID
        raise
    except RecursionError:
        raise TranscriptError("The transcript is nested too deeply to read.", format_id=chosen.FORMAT_ID) from None
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, NotImplementedError) as exc:
        # A parser bug or a shape no parser expected: still a clear refusal, never a server error.
        raise TranscriptError(
            f"The {chosen.LABEL} transcript has an unexpected structure ({type(exc).__name__}: {exc}).",
            format_id=chosen.FORMAT_ID,
        ) from exc
    if not parsed.turns:
        raise TranscriptError("The transcript holds no turns.", format_id=chosen.FORMAT_ID)
    if len(parsed.turns) > settings.TRANSCRIPT_MAX_TURNS:
        raise TranscriptError(
            f"The transcript has {len(parsed.turns)} turns; the limit is {settings.TRANSCRIPT_MAX_TURNS}.",
            format_id=parsed.format,
        )
    return parsed
