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

``parse`` takes text, bytes or an uploaded file. A ``Source`` reads a file only as far as it must: detection
reads its head, line-oriented formats read it a block of lines at a time (and stop at the turn limit), and
only JSON documents and archives are read whole.
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
from typing import Any, BinaryIO

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


# Detection reads this much of the start of a file (and on to the end of a first line that starts with "{").
DETECT_BYTES = 1024 * 1024
# Files are read in chunks of this size, a block of whole lines at a time.
LINE_CHUNK = 256 * 1024
_BOM = b"\xef\xbb\xbf"
# What may come before the first character of JSON: a BOM and whitespace.
_BLANK_BYTES = _BOM + b" \t\r\n"
# JSON's whitespace within a line.
_JSON_SPACE = " \t\r"


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
    """The upload, with lazily computed views; each view raises TranscriptError when it fails.

    The upload is bytes or a seekable binary file (such as a Django upload, in memory or on disk), always read
    from its start. Views of the whole document (``data``, ``json``) read the whole file; ``head`` and
    what detection asks of it read only the start; ``lines``, ``records`` and ``text_runs`` read a block of lines
    at a time.
    """

    def __init__(self, data: bytes | BinaryIO, filename: str = "") -> None:
        self._bytes = data if isinstance(data, bytes) else None
        self.file: BinaryIO = io.BytesIO(data) if isinstance(data, bytes) else data
        self.filename = filename

    @cached_property
    def size(self) -> int:
        return self.file.seek(0, io.SEEK_END)

    @cached_property
    def data(self) -> bytes:
        return self._read()

    def _read(self) -> bytes:
        if self._bytes is not None:
            return self._bytes
        if len(self.head) >= self.size:
            return self.head
        self.file.seek(0)
        return self.file.read()

    @cached_property
    def json(self) -> Any:
        first = self._first_line_json
        if first is not None and first[2]:
            return first[1]
        # Neither the bytes nor the text is kept: a file that is not JSON after all is then read line by line.
        return load_json(decode(self._read()))

    @cached_property
    def head(self) -> bytes:
        """The start of the file, all that detection reads: ``DETECT_BYTES``, and on to the end of the first line
        when that starts with ``{`` (a JSON Lines record, or an object written on one line, is read whole)."""
        size = self.size  # before reading: finding the size moves the file's position
        self.file.seek(0)
        head = self.file.read(DETECT_BYTES)
        content = head.lstrip(_BLANK_BYTES)
        if content[:1] == b"{" and b"\n" not in content and len(head) < size:
            parts = [head]
            while chunk := self.file.read(LINE_CHUNK):
                parts.append(chunk)
                if b"\n" in chunk:
                    break
            head = b"".join(parts)
        return head

    @cached_property
    def _head_lines_bytes(self) -> bytes:
        """The head without a last line it cuts off."""
        if len(self.head) >= self.size:
            return self.head
        return self.head[: self.head.rfind(b"\n") + 1]

    @cached_property
    def head_text(self) -> str:
        """The complete lines of the head as text."""
        return decode(self._head_lines_bytes)

    def lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text) per line of the file, read and decoded a block of lines at a time; a byte that is
        not UTF-8 or a NUL character is refused with its line.

        Splits on "\\n" only: ``str.splitlines`` also breaks at U+2028 and friends, which JSON.stringify leaves
        unescaped inside strings.
        """
        return _decoded_lines(self.file)

    def text_runs(self) -> Iterator[str]:
        """The text of the file in runs of whole lines (each ends with a newline, but the last of a file that does
        not), read and decoded one run at a time; ``lines`` tells what is refused."""
        return _decoded_runs(self.file)

    def head_lines(self) -> Iterator[tuple[int, str]]:
        """``lines`` of the head only."""
        return _decoded_lines(io.BytesIO(self._head_lines_bytes))

    def records(self, format_id: str | None = None) -> Iterator[tuple[int, Any]]:
        """(line number, JSON value) per record of a JSON Lines source, read one line at a time.

        A one-line file is also valid JSON as a whole (``is_jsonl`` is False for it): a source that is JSON as a
        whole is one record, numbered by its first non-blank line. A bad line raises with its number, attributed
        to ``format_id``.
        """
        if self.is_json:
            yield self.first_line, self.json
        else:
            yield from _json_lines(self.lines(), format_id)

    def head_records(self) -> Iterator[tuple[int, Any]]:
        """``records`` of the head's lines, for detection: the same up to the first bad line, which raises."""
        values, error = self._head_values
        yield from values
        if error is not None:
            raise error

    @cached_property
    def _head_values(self) -> tuple[list[tuple[int, Any]], TranscriptError | None]:
        values: list[tuple[int, Any]] = []
        try:
            values.extend(_json_lines(self.head_lines()))
        except TranscriptError as exc:
            return values, exc
        return values, None

    @cached_property
    def _first_line_json(self) -> tuple[int, Any, bool] | None:
        """(line number, value, whether nothing else follows) when the first non-blank line is a JSON value on
        its own, as in JSON Lines and in JSON written on one line; None when it is not, or the head cuts it off.

        Nothing else follows when the rest of the file is JSON whitespace; reading stops at the first other
        character, so a JSON Lines file is told from a one-line JSON file by its second record.
        """
        lines = self.head_lines()
        try:
            number, line = next((n, line) for n, line in lines if line.strip(_JSON_SPACE))
            value = load_json(line)
        except (StopIteration, TranscriptError):
            return None
        try:
            alone = not any(line.strip(_JSON_SPACE) for _, line in lines)
            if alone and len(self.head) < self.size:  # only blank lines in the head: read on
                alone = not any(line.strip(_JSON_SPACE) for n, line in self.lines() if n > number)
        except TranscriptError:  # an undecodable or NUL-bearing line further on: not JSON as a whole
            alone = False
        return number, value, alone

    @cached_property
    def is_json(self) -> bool:
        if self.head.lstrip(_BLANK_BYTES)[:1] not in (b"{", b"[") or not self.is_text:
            return False
        first = self._first_line_json
        if first is not None:
            return first[2]
        try:
            self.json  # noqa: B018 - parsed once and cached for the parser
        except TranscriptError:
            return False
        return True

    @cached_property
    def is_jsonl(self) -> bool:
        """JSON Lines of objects, judged by the head: every complete line it holds is a JSON object. False for a
        one-line file, which is plain JSON: see ``records``."""
        if self.is_json or not self.starts_with_object:
            return False
        values, error = self._head_values
        return error is None and bool(values) and all(isinstance(value, dict) for _, value in values)

    @cached_property
    def starts_with_object(self) -> bool:
        """Whether the first non-blank character (after a BOM) is ``{``, as in JSON Lines of objects."""
        return self.head.lstrip(_BLANK_BYTES)[:1] == b"{"

    @cached_property
    def first_line(self) -> int:
        """The number of the first non-blank line (1 when there is none)."""
        return next((number for number, line in self.lines() if line.strip()), 1)

    @cached_property
    def is_text(self) -> bool:
        """Whether the head is UTF-8 text without NUL characters (a bad byte further on is found when read)."""
        try:
            self.head_text  # noqa: B018 - decoded once and cached
        except TranscriptError:
            return False
        return True

    def check_text(self) -> None:
        """Refuse the file if a line of it is not UTF-8 text or holds a NUL character, reading a block at a time."""
        for _ in self.text_runs():
            pass

    @cached_property
    def is_zip(self) -> bool:
        return self.head[:4] == b"PK\x03\x04"

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
    """Uploaded bytes as text: UTF-8 (with or without BOM), nothing else guessed; a bad byte or a NUL character
    is refused with its line."""
    return _decode_lines(data, 0, 0)


def _decode_lines(data: bytes, offset: int, before: int) -> str:
    """Whole lines of a file as text: ``offset`` is where they start in the file (a BOM is dropped at 0), ``before``
    the number of lines before them. A bad byte (at its position in the file) or a NUL character is refused with
    its line."""
    bom = len(_BOM) if offset == 0 and data.startswith(_BOM) else 0
    try:
        text = data[bom:].decode() if bom else data.decode()
    except UnicodeDecodeError as exc:
        position = bom + exc.start
        raise TranscriptError(
            f"The file is not UTF-8 text (undecodable byte at position {offset + position}).",
            line=before + data.count(b"\n", 0, position) + 1,
        ) from None
    if "\x00" in text:
        raise TranscriptError(
            "The transcript contains a NUL character; is it a binary file?",
            line=before + text.count("\n", 0, text.index("\x00")) + 1,
        )
    return text


def _line_runs(file: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of runs of whole lines of ``file`` from its start, each read in one chunk (or more, for a long
    line); every run ends with a newline but the last of a file that does not. Each read seeks first, so that
    several readers of one file never disturb each other."""
    position = start = 0  # where the next read starts; where the next run starts
    parts: list[bytes] = []
    while True:
        file.seek(position)
        chunk = file.read(LINE_CHUNK)
        if not chunk:
            break
        position += len(chunk)
        end = chunk.rfind(b"\n") + 1
        if not end:  # inside a long line
            parts.append(chunk)
            continue
        run = b"".join([*parts, chunk[:end]]) if parts else chunk[:end]
        yield start, run
        start += len(run)
        parts = [chunk[end:]] if end < len(chunk) else []
    if parts:
        yield start, b"".join(parts)


def _decoded_runs(file: BinaryIO) -> Iterator[str]:
    """The text of ``file`` in runs of whole lines, decoded one run at a time."""
    number = 0
    for offset, run in _line_runs(file):
        yield _decode_lines(run, offset, number)
        number += run.count(b"\n")


def _decoded_lines(file: BinaryIO) -> Iterator[tuple[int, str]]:
    """(line number, text) per "\\n"-separated line of ``file``, decoded a run of lines at a time."""
    number = 0
    for text in _decoded_runs(file):
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()  # the empty string after the last newline
        yield from enumerate(lines, start=number + 1)
        number += len(lines)


def _json_lines(lines: Iterator[tuple[int, str]], format_id: str | None = None) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) per non-blank line; a bad line raises with its number, attributed to ``format_id``."""
    try:
        for number, line in lines:
            if line and not line.isspace():
                try:
                    value = load_json(line)
                except TranscriptError as exc:
                    raise TranscriptError(exc.message, line=number) from None
                yield number, value
    except TranscriptError as exc:
        exc.format_id = exc.format_id or format_id
        raise


def load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except RecursionError:
        raise TranscriptError("The JSON is nested too deeply to read.") from None


class TurnLimit:
    """``TRANSCRIPT_MAX_TURNS``, checked by parsers that read a file line by line as they produce turns: a long
    file is refused as soon as it has too many, without reading the rest of it."""

    def __init__(self, format_id: str) -> None:
        self.most = settings.TRANSCRIPT_MAX_TURNS
        self.format_id = format_id

    def check(self, count: int) -> None:
        if count > self.most:
            raise TranscriptError(
                f"The transcript has at least {count} turns; the limit is {self.most}.", format_id=self.format_id
            )


def formats() -> list:
    return [importlib.import_module(f"incidents.transcripts.{name}") for name in FORMAT_MODULES]


def format_choices() -> list[tuple[str, str]]:
    return [(module.FORMAT_ID, module.LABEL) for module in formats()]


def parse(
    data: bytes | str | BinaryIO,
    format_id: str | None = None,
    *,
    sample: str | None = None,
    filename: str = "",
) -> ParsedTranscript:
    """Parse ``data`` in the named format, or in the first format that recognises it.

    ``data`` is text, bytes, or a seekable binary file such as an upload (read from its start, left open). Its
    size is checked before anything is read; detection reads only the head of a file, and line-oriented formats
    then read it one line at a time.
    """
    source = Source(data.encode() if isinstance(data, str) else data, filename)
    limit = settings.TRANSCRIPT_MAX_BYTES
    if source.size > limit:
        raise TranscriptError(f"The transcript is {megabytes(source.size)}; the limit is {megabytes(limit)}.")
    modules = formats()
    if format_id:
        chosen = next((m for m in modules if format_id == m.FORMAT_ID), None)
        if chosen is None:
            known = ", ".join(m.FORMAT_ID for m in modules)
            raise TranscriptError(f"Unknown transcript format {format_id!r}; known formats: {known}.")
    else:
        if not source.is_zip:
            source.head_text  # noqa: B018 - refuse a file that starts undecodable or NUL-bearing before any detection
        chosen = next((m for m in modules if m.detect(source)), None)
        if chosen is None:
            if not source.is_zip:
                source.check_text()  # a bad byte further on is a clearer answer than "not recognised"
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
