"""ShareGPT conversations (FastChat, Axolotl, LLaMA-Factory, glaive-derived datasets):
``{"id"?, "system"?, "tools"?, "conversations": [{"from": "human", "value": "..."}]}``, a JSON list of
such objects, or JSONL with one per line (each conversation is a sample; its id is its ``id`` field, or its
position counting from 1). Also read: ``conversations`` entries written as ``role`` / ``content``, and
a ``messages`` list of ``from`` / ``value`` entries (the same records under another key).

Mapping: ``human``/``user`` → user, ``gpt``/``assistant`` (and other model names) → assistant,
``system`` → system (as does the top-level ``system`` field), ``function_call`` / ``function-call`` /
``tool_call`` → an assistant turn whose ``value`` is a JSON call ``{"name", "arguments"}`` (or a list of
them), ``observation`` / ``function-response`` / ``tool`` … → tool turns. The format has no call ids, so
each call gets an id ``#n`` (n counting calls from 1) and a result is paired with the earliest call still
unanswered. A call value that is not such JSON stays as assistant text with a warning. The record's
other fields (``id``, ``tools`` — decoded when a JSON string —, dataset columns) are kept in ``raw`` as
``fields`` on the first turn.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from itertools import islice
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, make_turn, tool_call
from incidents.transcripts.common import join_path, json_kind, parser_errors, select_sample, show

FORMAT_ID = "sharegpt"
LABEL = "ShareGPT conversations (JSON / JSONL)"

SPEAKERS = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "system": "system",
    "developer": "developer",
    "function_call": "call",
    "function-call": "call",
    "tool_call": "call",
    "observation": "tool",
    "function_response": "tool",
    "function-response": "tool",
    "tool_response": "tool",
    "tool": "tool",
    "function": "tool",
    "ipython": "tool",
}
LABEL_LENGTH = 80
DETECT_SCAN = 5


# --- detection --------------------------------------------------------------------------------------


def detect(source: Source) -> bool:
    if source.is_json:
        data = source.json
        if isinstance(data, list):
            return bool(data) and all(_is_conversation(item) for item in data[:DETECT_SCAN])
        return _is_conversation(data)
    if source.is_jsonl:
        return all(_is_conversation(item) for _, item in islice(source.head_records(), DETECT_SCAN))
    return False


def _is_conversation(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    entries, key = _entries(value)
    if not isinstance(entries, list) or not entries:
        return False
    first = entries[0]
    if not isinstance(first, dict):
        return False
    # Under "messages", only from/value marks ShareGPT; role/content there is OpenAI's shape.
    return ("from" in first and "value" in first) or (key == "conversations" and "role" in first)


def _entries(value: dict) -> tuple[Any, str]:
    if "conversations" in value:
        return value["conversations"], "conversations"
    return value.get("messages"), "messages"


# --- parsing ----------------------------------------------------------------------------------------


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    with parser_errors(FORMAT_ID):
        return _parse(source, sample)


def _parse(source: Source, sample: str | None) -> ParsedTranscript:
    records: Iterable[tuple[int | None, Any]]  # (line number in JSON Lines, record)
    if source.is_json or not source.starts_with_object:
        data = source.json  # raises the JSON error, with its line, when it is neither JSON nor JSONL
        if isinstance(data, dict):
            given = data.get("id")
            own = str(given) if isinstance(given, str | int) and not isinstance(given, bool) else "1"
            if sample is not None and sample != own:
                raise _error(f"unknown sample {sample!r}; this file holds a single conversation ({own!r})")
            return _Conversation(data, "").parse()
        if not isinstance(data, list):
            raise _error(
                f'expected a conversation object with "conversations", or a list of them; got {json_kind(data)}'
            )
        records = ((None, record) for record in data)
    else:
        records = source.records(FORMAT_ID)  # read one line at a time; raises with the number of a bad line

    # Every record is listed as a sample; only the one asked for (the first by default) is kept.
    samples: list[dict] = []
    taken: set[str] = set()
    warnings: list[str] = []
    chosen: tuple[dict, str, int | None] | None = None
    for position, (line, record) in enumerate(records):
        path = "" if line is not None else f"[{position}]"
        if not isinstance(record, dict):
            raise _error(f"expected a conversation object; got {json_kind(record)}", path, line=line)
        given = record.get("id")
        sample_id = str(given) if isinstance(given, str | int) and not isinstance(given, bool) else str(position + 1)
        if sample_id in taken:
            unique = f"{sample_id}@{position + 1}"
            warnings.append(f"Conversation {position + 1} repeats the id {sample_id!r}; it is listed as {unique!r}.")
            sample_id = unique
        taken.add(sample_id)
        samples.append({"id": sample_id, "label": _label(record, position)})
        if chosen is None and sample in (None, sample_id):
            chosen = record, path, line
    if not samples:
        raise _error("the list holds no conversations")
    position = select_sample(samples, sample, FORMAT_ID)  # refuses a sample that is not listed
    assert chosen is not None  # select_sample refused a sample that no record is
    parsed = _Conversation(*chosen).parse()
    parsed.warnings[:0] = warnings
    parsed.samples = samples
    parsed.sample = samples[position]["id"]
    return parsed


class _Conversation:
    def __init__(self, record: dict, path: str, line: int | None = None) -> None:
        self.record = record
        self.path = path
        self.line = line
        self.turns: list[dict] = []
        self.warnings: list[str] = []
        self.calls = 0
        self.open: deque[str] = deque()  # ids of calls not yet answered, oldest first

    def error(self, message: str, field: str) -> TranscriptError:
        return _error(message, field, line=self.line)

    def emit(self, role: str, content: str, **extra: Any) -> None:
        self.turns.append(make_turn(len(self.turns), role, content, **extra))

    def parse(self) -> ParsedTranscript:
        entries, key = _entries(self.record)
        base = join_path(self.path, key)
        if "conversations" not in self.record and "messages" not in self.record:
            raise self.error('expected a "conversations" list of {"from", "value"} messages', self.path)
        if not isinstance(entries, list):
            raise self.error(f"expected a list of messages; got {json_kind(entries)}", base)
        system = self.record.get("system")
        if isinstance(system, str) and system:
            self.emit("system", system)
        elif system is not None and not isinstance(system, str):
            self.warnings.append(
                f"{join_path(self.path, 'system')}: expected a string; got {json_kind(system)}; kept as raw data."
            )
        for number, entry in enumerate(entries):
            self.entry(entry, f"{base}[{number}]", roles_allowed=key == "conversations")
        fields = {
            name: _decoded(value)
            for name, value in self.record.items()
            if name != key and not (name == "system" and isinstance(value, str))
        }
        if fields and self.turns:
            self.turns[0]["raw"].insert(0, {"type": "fields", "data": fields})
        return ParsedTranscript(format=FORMAT_ID, turns=self.turns, warnings=self.warnings)

    def entry(self, entry: Any, path: str, *, roles_allowed: bool) -> None:
        if not isinstance(entry, dict):
            raise self.error(f"expected a message object with from and value; got {json_kind(entry)}", path)
        if "from" in entry or "value" in entry:
            speaker_key, text_key = "from", "value"
        elif roles_allowed:
            speaker_key, text_key = "role", "content"
        else:
            # role/content under "messages" is the OpenAI chat shape, which has its own parser.
            raise self.error("expected a ShareGPT message with from and value (role/content is OpenAI chat)", path)
        speaker = entry.get(speaker_key)
        kind = SPEAKERS.get(speaker.lower()) if isinstance(speaker, str) else None
        if kind is None:
            known = ", ".join(("human", "gpt", "system", "function_call", "observation", "…"))
            raise self.error(f"expected one of {known}; got {show(speaker)}", f"{path}.{speaker_key}")
        value = entry.get(text_key)
        if kind == "call":
            self.call(value, path, text_key)
        elif kind == "tool":
            text = _text(value)
            if self.open:
                self.emit("tool", text, tool_call_id=self.open.popleft())
            else:
                self.warnings.append(f"{path}: a tool result with no function call before it to answer.")
                self.emit("tool", text)
        else:
            self.emit(kind, _text(value))

    def call(self, value: Any, path: str, text_key: str) -> None:
        parsed = value
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
        items = parsed if isinstance(parsed, list) and parsed else [parsed]
        if not all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in items):
            self.warnings.append(
                f'{path}.{text_key}: expected a JSON function call {{"name", "arguments"}}; kept as text.'
            )
            self.emit("assistant", _text(value), raw=[{"type": "function_call", "data": value}])
            return
        calls = []
        for item in items:
            self.calls += 1
            call_id = f"#{self.calls}"
            self.open.append(call_id)
            arguments = item.get("arguments", item.get("parameters"))
            calls.append(tool_call(call_id, item["name"], arguments))
        self.emit("assistant", "", tool_calls=calls)


# --- helpers ----------------------------------------------------------------------------------------


def _label(record: dict, position: int) -> str:
    """The first user words of a conversation, for the sample list."""
    entries, _ = _entries(record)
    if isinstance(entries, list):
        for entry in entries[:10]:
            if not isinstance(entry, dict):
                continue
            speaker = entry.get("from", entry.get("role"))
            text = entry.get("value", entry.get("content"))
            if isinstance(speaker, str) and SPEAKERS.get(speaker.lower()) == "user" and isinstance(text, str):
                words = " ".join(text[: LABEL_LENGTH * 4].split())
                if words:
                    return words if len(words) <= LABEL_LENGTH else words[: LABEL_LENGTH - 1] + "…"
    return f"Conversation {position + 1}"


def _decoded(value: Any) -> Any:
    """A field such as ``tools`` that datasets store as a JSON string, decoded when it is one."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in value):
        return "\n\n".join(p["text"] for p in value)  # role/content variants with OpenAI text parts
    return json.dumps(value, ensure_ascii=False)


def _error(message: str, field: str | None = None, *, line: int | None = None) -> TranscriptError:
    return TranscriptError(message, field=field or None, line=line, format_id=FORMAT_ID)
