"""Inspect AI (UK AISI) eval logs: ``.eval`` ZIP archives and ``.json`` logs.

An ``.eval`` archive holds ``header.json`` (the log without samples), ``_journal/…``,
``summaries.json`` and one ``samples/<id>_epoch_<n>.json`` per sample; members are deflated, or
zstd-compressed (zip method 93) by Inspect 0.3.206 and later, which Python 3.12's ``zipfile``
cannot read, so those members are decompressed here with ``zstandard``. A ``.json`` log is a
single ``EvalLog`` object with ``samples[]``.

Each sample is one conversation: ``samples`` lists them as ``{"id": "<id>_epoch_<n>", "label",
"epoch", "scores"}`` and the turns come from the chosen sample's ``messages[]``.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import zstandard
from django.conf import settings

from incidents.transcripts import (
    ParsedTranscript,
    Source,
    TranscriptError,
    decode,
    load_json,
    make_turn,
    megabytes,
    tool_call,
)
from incidents.transcripts.common import drop_base64, json_kind, parser_errors, scalar_text, unknown_sample

FORMAT_ID = "inspect-eval"
LABEL = "Inspect AI eval log (.eval or .json)"

_ROLES = ("system", "user", "assistant", "tool")
_SAMPLE_MEMBER = re.compile(r"^samples/(?P<id>.+)_epoch_(?P<epoch>\d+)\.json$")
_ZSTD = 93
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CHUNK = 1 << 20
_LABEL_CHARS = 80
# Older logs wrote "tc://" where newer ones write "attachment://"; Inspect resolves both.
_REFERENCE_PREFIXES = ("attachment://", "tc://")
# zipfile and the decompressors raise many different types for damaged archives.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    zstandard.ZstdError,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    RuntimeError,
    NotImplementedError,
    struct.error,
    OverflowError,
)


def detect(source: Source) -> bool:
    try:
        if source.is_zip:
            names = zipfile.ZipFile(io.BytesIO(source.data)).namelist()
            return any(name == "header.json" or name.startswith(("samples/", "_journal/")) for name in names)
        if source.is_json:
            log = source.json
            return (
                isinstance(log, dict) and isinstance(log.get("eval"), dict) and ("samples" in log or "version" in log)
            )
    except Exception:  # detection must never raise, whatever the bytes
        return False
    return False


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    with parser_errors(FORMAT_ID, too_deep="The Inspect log is nested too deeply to read."):
        log: _Log = _Archive(source) if source.is_zip else _JsonLog(source)
        entry = _choose(log.entries, sample)
        data = log.load(entry)
        warnings = list(log.warnings)
        turns = _Sample(data, entry.prefix, warnings).turns()
    if not turns:
        raise TranscriptError(f"Sample {entry.id!r} holds no messages.", format_id=FORMAT_ID)
    samples = [entry.summary() for entry in log.entries]
    return ParsedTranscript(format=FORMAT_ID, turns=turns, warnings=warnings, samples=samples, sample=entry.id)


# --- Logs and their samples ---------------------------------------------------------------------


@dataclass
class _Entry:
    id: str
    sample_id: str
    epoch: int | None
    label: str = ""
    scores: dict | None = None
    member: str | None = None  # archive member holding the sample
    position: int | None = None  # index in a JSON log's samples[]

    @property
    def prefix(self) -> str:
        """Where error messages say a sample field is: ``samples[2].`` in a JSON log."""
        return f"samples[{self.position}]." if self.position is not None else ""

    def summary(self) -> dict:
        summary: dict[str, Any] = {"id": self.id, "label": self.label or self.id}
        if self.epoch is not None:
            summary["epoch"] = self.epoch
        if self.scores:
            summary["scores"] = self.scores
        return summary


@dataclass
class _Log:
    entries: list[_Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def load(self, entry: _Entry) -> dict:
        raise NotImplementedError


def _choose(entries: list[_Entry], wanted: str | None) -> _Entry:
    if wanted is None:
        return entries[0]
    for entry in entries:
        if entry.id == wanted:
            return entry
    # A bare sample id picks its first epoch.
    for entry in entries:
        if entry.sample_id == wanted:
            return entry
    raise unknown_sample(wanted, [entry.id for entry in entries])


class _JsonLog(_Log):
    def __init__(self, source: Source) -> None:
        super().__init__()
        log = source.json
        if not isinstance(log, dict) or not isinstance(log.get("eval"), dict):
            raise TranscriptError("This is not an Inspect log: expected a JSON object with 'eval' and 'samples'.")
        self.samples = log.get("samples")
        if self.samples is None or self.samples == []:
            raise TranscriptError(
                "The Inspect log holds no samples (it was written without samples, or is a header only)."
            )
        if not isinstance(self.samples, list):
            raise TranscriptError(f"expected a list of samples; got {json_kind(self.samples)}", field="samples")
        _status_warning(log.get("status"), self.warnings)
        for position, data in enumerate(self.samples):
            if not isinstance(data, dict):
                self.warnings.append(f"samples[{position}] is not an object and was skipped.")
                continue
            sample_id = scalar_text(data.get("id")) or str(position + 1)
            epoch = data.get("epoch") if _is_int(data.get("epoch")) else 1
            self.entries.append(
                _Entry(
                    id=f"{sample_id}_epoch_{epoch}",
                    sample_id=sample_id,
                    epoch=epoch,
                    label=_label(data.get("input"), data.get("attachments")),
                    scores=_scores(data.get("scores")),
                    position=position,
                )
            )
        if not self.entries:
            raise TranscriptError("expected sample objects; none of the samples is an object", field="samples")

    def load(self, entry: _Entry) -> dict:
        return self.samples[entry.position]


class _Archive(_Log):
    def __init__(self, source: Source) -> None:
        super().__init__()
        self.data = source.data
        try:
            self.archive = source.zip()  # refuses too many members or a declared size over the limit
        except TranscriptError:
            raise
        except _ARCHIVE_ERRORS as exc:  # a few zipfile errors (e.g. an unknown zip version) get past it
            raise TranscriptError(f"The archive cannot be read: {exc}.") from None
        self.limit = settings.TRANSCRIPT_MAX_UNCOMPRESSED_BYTES
        self.unpacked = 0
        self.members = {info.filename: info for info in self.archive.infolist()}
        names = list(self.members)
        if not any(name == "header.json" or name.startswith(("samples/", "_journal/")) for name in names):
            raise TranscriptError("The archive is not an Inspect log: it has no header.json or samples/ members.")
        for name in names:
            match = _SAMPLE_MEMBER.match(name)
            if match:
                epoch = int(match["epoch"])
                self.entries.append(
                    _Entry(id=f"{match['id']}_epoch_{epoch}", sample_id=match["id"], epoch=epoch, member=name)
                )
        if not self.entries:
            raise TranscriptError(
                "The Inspect log holds no samples (no samples/<id>_epoch_<n>.json members): it was written "
                "without samples, or the run stopped before the first sample finished."
            )
        self._read_header()
        self._read_summaries()

    def load(self, entry: _Entry) -> dict:
        data = self.read_json(entry.member)
        if not isinstance(data, dict):
            raise TranscriptError(f"{entry.member}: expected a sample object; got {json_kind(data)}.")
        return data

    def _read_header(self) -> None:
        if "header.json" not in self.members:
            self.warnings.append("The archive has no header.json, so the run may not have finished.")
            return
        try:
            header = self.read_json("header.json")
        except TranscriptError as exc:
            self.warnings.append(f"header.json could not be read ({exc}).")
            return
        if isinstance(header, dict):
            _status_warning(header.get("status"), self.warnings)

    def _read_summaries(self) -> None:
        """Labels and scores come from the small summary members, not from every sample."""
        names = ["summaries.json"] if "summaries.json" in self.members else []
        names = names or sorted((name for name in self.members if name.startswith("_journal/summaries/")), key=_natural)
        wanted = {entry.id: entry for entry in self.entries}
        for name in names:
            try:
                summaries = self.read_json(name)
            except TranscriptError as exc:
                self.warnings.append(f"{name} could not be read ({exc}); samples are listed without labels.")
                return
            for summary in summaries if isinstance(summaries, list) else []:
                if not isinstance(summary, dict):
                    continue
                epoch = summary.get("epoch") if _is_int(summary.get("epoch")) else 1
                entry = wanted.pop(f"{scalar_text(summary.get('id'))}_epoch_{epoch}", None)
                if entry is not None:
                    entry.label = _label(summary.get("input"))
                    entry.scores = _scores(summary.get("scores"))
            if not wanted:
                return

    def read_json(self, name: str) -> Any:
        data = self.read(name)
        try:
            return load_json(decode(data))
        except TranscriptError as exc:
            raise TranscriptError(f"{name}: {exc}") from None

    def read(self, name: str) -> bytes:
        """A member's bytes, never unpacking more than its declared size or the configured limit."""
        info = self.members[name]
        if info.flag_bits & 0x1:
            raise TranscriptError(f"The archive member {name} is encrypted.")
        # The declared sizes were checked against the limit; a member claiming less than it holds
        # is stopped at its claim, so a lying header cannot unpack into a bomb.
        remaining = self.limit - self.unpacked
        cap = min(remaining, info.file_size)
        try:
            if info.compress_type == _ZSTD:
                data = self._unzstd(info, cap)
            else:
                with self.archive.open(info) as stream:
                    data = _drain(stream.read, cap)
        except TranscriptError:
            raise
        except _ARCHIVE_ERRORS as exc:
            raise TranscriptError(f"The archive member {name} cannot be read: {exc}.") from None
        if data is None:
            if info.file_size < remaining:
                raise TranscriptError(
                    f"The archive member {name} unpacks to more than the {info.file_size} bytes its header "
                    "declares; the archive is damaged or unsafe."
                )
            raise TranscriptError(
                f"The archive unpacks to more than the limit of {megabytes(self.limit)} "
                f"({self.limit} bytes) while reading {name}."
            )
        self.unpacked += len(data)
        return data

    def _unzstd(self, info: zipfile.ZipInfo, cap: int) -> bytes | None:
        offset = info.header_offset
        header = self.data[offset : offset + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size:
            raise TranscriptError(f"The archive member {info.filename} lies outside the file.")
        fields = _LOCAL_HEADER.unpack(header)
        if fields[0] != b"PK\x03\x04":
            raise TranscriptError(f"The archive member {info.filename} has no local header where the index says.")
        start = offset + _LOCAL_HEADER.size + fields[9] + fields[10]
        compressed = self.data[start : start + info.compress_size]
        if len(compressed) < info.compress_size:
            raise TranscriptError(f"The archive member {info.filename} is truncated.")
        reader = zstandard.ZstdDecompressor().stream_reader(compressed, read_across_frames=True)
        data = _drain(reader.read, cap)
        if data is not None and zlib.crc32(data) != info.CRC:
            raise TranscriptError(f"The archive member {info.filename} fails its CRC check; the archive is damaged.")
        return data


def _drain(read: Callable[[int], bytes], cap: int) -> bytes | None:
    """Everything ``read`` yields, or None as soon as it yields more than ``cap`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = read(min(_CHUNK, cap - total + 1))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > cap:
            return None
        chunks.append(chunk)


def _status_warning(status: Any, warnings: list[str]) -> None:
    if isinstance(status, str) and status != "success":
        warnings.append(f"The eval log's status is {status!r}, so it may be incomplete.")


# --- One sample into turns ----------------------------------------------------------------------


class _Sample:
    def __init__(self, data: dict, prefix: str, warnings: list[str]) -> None:
        self.data = data
        self.prefix = prefix
        self.warnings = warnings
        attachments = data.get("attachments")
        self.attachments = attachments if isinstance(attachments, dict) else {}
        self.unresolved = 0

    def turns(self) -> list[dict]:
        messages = self._messages()
        times = _message_times(self.data)
        turns: list[dict] = []
        for position, message in enumerate(messages):
            turns.append(self._turn(len(turns), position, message, times))
        if self.unresolved:
            self.warnings.append(
                f"{self.unresolved} attachment reference(s) could not be resolved and are shown as references."
            )
        error = self.data.get("error")
        if error:
            detail = error.get("message") if isinstance(error, dict) else error
            self.warnings.append(f"The sample ended with an error: {scalar_text(detail)}")
        limit = self.data.get("limit")
        if isinstance(limit, dict) and limit.get("type"):
            self.warnings.append(f"The sample stopped at its {scalar_text(limit.get('type'))} limit.")
        return turns

    def _messages(self) -> list:
        messages = self.data.get("messages")
        if isinstance(messages, list) and messages:
            return messages
        if messages is not None and not isinstance(messages, list):
            raise TranscriptError(
                f"expected a list of chat messages; got {json_kind(messages)}", field=f"{self.prefix}messages"
            )
        # A sample still running, or written by a writer that left messages out: rebuild from input/output.
        rebuilt: list = []
        given = self.data.get("input")
        if isinstance(given, str):
            rebuilt.append({"role": "user", "content": given})
        elif isinstance(given, list):
            rebuilt.extend(given)
        output = self.data.get("output")
        choices = output.get("choices") if isinstance(output, dict) else None
        first = choices[0] if isinstance(choices, list) and choices else None
        if isinstance(first, dict) and isinstance(first.get("message"), dict):
            rebuilt.append(first["message"])
        if rebuilt:
            self.warnings.append("The sample has no messages; its turns were rebuilt from its input and output.")
        return rebuilt

    def _turn(self, index: int, position: int, message: Any, times: dict[str, str]) -> dict:
        where = f"{self.prefix}messages[{position}]"
        if not isinstance(message, dict):
            raise TranscriptError(f"expected a chat message object; got {json_kind(message)}", field=where)
        role = message.get("role")
        if role not in _ROLES:
            raise TranscriptError(f"expected one of {', '.join(_ROLES)}; got {role!r}", field=f"{where}.role")
        content, reasoning, raw = self._content(message.get("content"), where)
        calls: list[dict] = []
        if role == "assistant":
            calls = self._tool_calls(message.get("tool_calls"), where, raw)
        call_id = scalar_text(message.get("tool_call_id")) or None
        if role == "tool":
            error = message.get("error")
            if isinstance(error, dict) or (isinstance(error, str) and error):
                raw.append({"type": "tool_error", "data": drop_base64(self._resolve_deep(error))})
                if not content:
                    content = _error_text(error)
        message_id = message.get("id")
        return make_turn(
            index,
            role,
            content,
            tool_calls=calls,
            tool_call_id=call_id,
            reasoning="\n\n".join(reasoning) or None,
            timestamp=times.get(message_id) if isinstance(message_id, str) else None,
            raw=raw,
        )

    def _content(self, value: Any, where: str) -> tuple[str, list[str], list[dict]]:
        if value is None:
            return "", [], []
        if isinstance(value, str):
            return self._resolve(value), [], []
        if not isinstance(value, list):
            raise TranscriptError(
                f"expected text or a list of content parts; got {json_kind(value)}", field=f"{where}.content"
            )
        texts: list[str] = []
        reasoning: list[str] = []
        raw: list[dict] = []
        for part in value:
            if isinstance(part, str):
                texts.append(self._resolve(part))
                continue
            if not isinstance(part, dict):
                raw.append({"type": "unknown", "data": drop_base64(part)})
                continue
            kind = part.get("type")
            if kind == "text":
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(self._resolve(text))
                if part.get("refusal"):
                    raw.append({"type": "refusal", "data": {"refusal": True}})
                if part.get("citations"):
                    raw.append({"type": "citations", "data": drop_base64(self._resolve_deep(part["citations"]))})
            elif kind == "reasoning":
                text = part.get("reasoning")
                summary = part.get("summary")
                if part.get("redacted"):
                    # Encrypted reasoning is opaque; a provider summary, when given, is readable.
                    raw.append({"type": "reasoning", "data": drop_base64(self._resolve_deep(part))})
                    if isinstance(summary, str) and summary:
                        reasoning.append(self._resolve(summary))
                elif isinstance(text, str) and text:
                    reasoning.append(self._resolve(text))
                elif isinstance(summary, str) and summary:
                    reasoning.append(self._resolve(summary))
            else:
                data = {key: item for key, item in part.items() if key != "type"}
                raw.append(
                    {
                        "type": kind if isinstance(kind, str) and kind else "unknown",
                        "data": drop_base64(self._resolve_deep(data)),
                    }
                )
        return "\n\n".join(texts), reasoning, raw

    def _tool_calls(self, value: Any, where: str, raw: list[dict]) -> list[dict]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise TranscriptError(f"expected a list of tool calls; got {json_kind(value)}", field=f"{where}.tool_calls")
        calls = []
        for position, call in enumerate(value):
            if not isinstance(call, dict):
                raise TranscriptError(
                    f"expected a tool call object; got {json_kind(call)}", field=f"{where}.tool_calls[{position}]"
                )
            name = call.get("function")
            if not isinstance(name, str):
                name = scalar_text(name)
                self.warnings.append(f"{where}.tool_calls[{position}] has no function name.")
            call_id = scalar_text(call.get("id")) or None
            calls.append(tool_call(call_id, name, self._resolve_deep(call.get("arguments"))))
            if call.get("parse_error"):
                raw.append(
                    {
                        "type": "tool_call_parse_error",
                        "data": {"id": call_id, "function": name, "parse_error": drop_base64(call["parse_error"])},
                    }
                )
        return calls

    def _resolve(self, text: str) -> str:
        if not text.startswith(_REFERENCE_PREFIXES):
            return text
        key = text.split("://", 1)[1]
        body = self.attachments.get(key)
        if isinstance(body, str):
            return body
        self.unresolved += 1
        return text

    def _resolve_deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._resolve(value)
        if isinstance(value, list):
            return [self._resolve_deep(item) for item in value]
        if isinstance(value, dict):
            return {key: self._resolve_deep(item) for key, item in value.items()}
        return value


def _message_times(sample: dict) -> dict[str, str]:
    """Message id -> when it appeared, from the events (``messages[]`` carries no timestamps).

    An assistant message is dated by the model call that produced it, a tool result by its tool
    event, anything else by the state change or sample start that first added it.
    """
    events = sample.get("events")
    if not isinstance(events, list):
        transcript = sample.get("transcript")  # writers before events[] nested them here
        events = transcript.get("events") if isinstance(transcript, dict) else None
    times: dict[str, str] = {}
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        when = _iso(event.get("timestamp"))
        if kind == "model":
            output = event.get("output")
            choices = output.get("choices") if isinstance(output, dict) else None
            when = _iso(event.get("completed")) or when
            for choice in choices if isinstance(choices, list) else []:
                if isinstance(choice, dict):
                    _date(times, choice.get("message"), when)
        elif kind == "tool":
            message_id = event.get("message_id")
            stamp = _iso(event.get("completed")) or when
            if isinstance(message_id, str) and stamp:
                times.setdefault(message_id, stamp)
        elif kind == "sample_init":
            state = event.get("state")
            messages = state.get("messages") if isinstance(state, dict) else None
            for message in messages if isinstance(messages, list) else []:
                _date(times, message, when)
        elif kind == "state":
            changes = event.get("changes")
            for change in changes if isinstance(changes, list) else []:
                if isinstance(change, dict) and change.get("op") in ("add", "replace"):
                    value = change.get("value")
                    for message in value if isinstance(value, list) else [value]:
                        _date(times, message, when)
    return times


def _date(times: dict[str, str], message: Any, when: str | None) -> None:
    if when and isinstance(message, dict) and isinstance(message.get("id"), str) and "role" in message:
        times.setdefault(message["id"], when)


# --- Small helpers ------------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    if isinstance(value, str) and value:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return None
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _label(given: Any, attachments: Any = None) -> str:
    """The first words of a sample's input: a string, or the first user message of a list."""
    text = ""
    if isinstance(given, str) and given.startswith(_REFERENCE_PREFIXES) and isinstance(attachments, dict):
        given = attachments.get(given.split("://", 1)[1], given)
    if isinstance(given, str):
        text = given
    elif isinstance(given, list):
        for message in given:
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, str):
                    text = content
                elif isinstance(content, list):
                    text = " ".join(
                        part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
                    )
                break
    text = " ".join(text.split())
    if text.startswith(_REFERENCE_PREFIXES):
        return ""
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _scores(scores: Any) -> dict | None:
    """Scorer name -> value (the answer and explanation stay in the log)."""
    if not isinstance(scores, dict):
        return None
    summary = {}
    for name, score in scores.items():
        value = score.get("value") if isinstance(score, dict) else score
        if isinstance(value, str | int | float | bool | dict | list) or value is None:
            summary[str(name)] = value
    return summary or None


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        message = scalar_text(error.get("message"))
        kind = error.get("type")
        return f"Error ({kind}): {message}" if isinstance(kind, str) and kind else f"Error: {message}"
    return f"Error: {scalar_text(error)}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _natural(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
