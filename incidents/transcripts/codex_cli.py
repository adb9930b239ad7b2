"""Codex CLI rollouts (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``).

Since September 2025 every line is ``{"timestamp", "type", "payload"}`` with ``type`` session_meta,
response_item, event_msg, turn_context, compacted (newer: world_state, inter_agent_communication…).
Older rollouts start with a bare ``{"id", "timestamp", "instructions", "git"}`` line followed by bare
response items and ``{"record_type": "state"}`` markers; both shapes are read.

How it is read:

* ``response_item`` payloads are OpenAI Responses items and make the turns. Consecutive assistant-side
  items (reasoning, assistant message, function_call, custom_tool_call, local_shell_call, …) form one
  assistant turn until a user/developer message or a tool output comes; a new reasoning item or text
  after tool calls starts a new assistant turn. Outputs (``*_output``) become tool turns, paired by
  ``call_id``. Reasoning summaries and plain reasoning text → ``reasoning``; encrypted reasoning,
  web searches and unknown items → ``raw``.
* ``event_msg`` user_message / agent_message / agent_reasoning repeat the response items and are
  ignored, unless the rollout has no message items at all (then they are the turns). Telemetry events
  (token_count, task_started…) are skipped; the rest (turn_aborted, thread_rolled_back, error, …) is
  kept as ``raw`` on the latest turn.
* ``session_meta``: ``base_instructions`` (the system prompt) → a system turn; ``instructions``
  (AGENTS.md and configured user instructions) → a developer turn, unless the same text already
  appears in a message item (Codex also sends it as a ``<user_instructions>`` message).
* ``compacted`` → a system turn holding the summary the model continued from.
* turn_context, world_state, ghost_snapshot and state markers are configuration bookkeeping: skipped.
* The file is read a line at a time, twice: first up to the first message item (are event messages needed?),
  then to build the turns.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, TurnLimit, tool_call
from incidents.transcripts.common import TurnDraft, finish_turns, id_text, json_type, object_lines, trim_payloads

FORMAT_ID = "codex-cli"
LABEL = "Codex CLI rollout (JSONL)"

LINE_TYPES = frozenset({"session_meta", "response_item", "event_msg", "turn_context", "compacted"})
SKIPPED_LINE_TYPES = frozenset({"turn_context", "world_state", "inter_agent_communication_metadata"})
MESSAGE_ROLES = {"user": "user", "assistant": "assistant", "developer": "developer", "system": "system"}
# Events that repeat response items, or are telemetry: never turns, never raw.
IGNORED_EVENTS = frozenset(
    {
        "user_message",
        "agent_message",
        "agent_reasoning",
        "agent_reasoning_raw_content",
        "agent_reasoning_section_break",
        "token_count",
        "task_started",
        "task_complete",
        "turn_started",
        "turn_complete",
        "exec_command_end",
        "patch_apply_end",
        "mcp_tool_call_end",
        "web_search_end",
        "image_generation_end",
        "view_image_tool_call",
        "item_completed",
        "thread_name_updated",
        "thread_settings_applied",
        "thread_goal_updated",
        "sub_agent_activity",
    }
)
SKIPPED_ITEMS = frozenset({"ghost_snapshot"})
DETECT_LINES = 20
# Opaque payloads (encrypted reasoning, data: URLs, base64 results) are replaced by their length.
HEAVY_KEYS = frozenset({"encrypted_content", "image_url", "data", "result"})


@dataclass(slots=True)
class _Turn(TurnDraft):
    is_message: bool = False  # built from a message item (checked for repeated instructions)


class _Builder:
    def __init__(self) -> None:
        self.turns: list[_Turn] = []
        self.open: _Turn | None = None  # the assistant turn still taking items
        self.pending_raw: list[dict] = []  # raw blocks seen before the first turn

    def add(self, turn: _Turn) -> _Turn:
        if self.pending_raw:
            turn.raw[:0] = self.pending_raw
            self.pending_raw = []
        self.turns.append(turn)
        self.open = turn if turn.role == "assistant" else None
        return turn

    def assistant(self, timestamp: str | None, *, after_calls: bool = False, fresh: bool = False) -> _Turn:
        """The open assistant turn, or a new one when the item would be out of order in it."""
        turn = self.open
        if turn is None or (after_calls and turn.tool_calls) or (fresh and (any(turn.text) or turn.tool_calls)):
            turn = self.add(_Turn("assistant", timestamp))
        return turn

    def raw(self, block: dict) -> None:
        if self.turns:
            self.turns[-1].raw.append(block)
        else:
            self.pending_raw.append(block)


def _is_envelope(record: Any) -> bool:
    return isinstance(record, dict) and isinstance(record.get("type"), str) and "payload" in record


def _is_bare_meta(record: Any) -> bool:
    """The first line of a pre-September-2025 rollout: {id, timestamp, instructions?, git?}."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("id"), str)
        and "timestamp" in record
        and ("instructions" in record or "git" in record)
        and not any(key in record for key in ("type", "role", "content", "messages"))
    )


def detect(source: Source) -> bool:
    try:
        if source.is_zip:
            return False
        if source.is_json:
            value = source.json
            return _is_envelope(value) and value["type"] == "session_meta"
        if not source.starts_with_object:
            return False
        for count, (_, record) in enumerate(islice(source.head_records(), DETECT_LINES), start=1):
            if _is_envelope(record) and record["type"] in LINE_TYPES:
                return True
            if (count == 1 and _is_bare_meta(record)) or (
                isinstance(record, dict) and record.get("record_type") == "state"
            ):
                return True
    except TranscriptError:
        pass
    return False


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    has_messages = _has_messages(source)
    builder = _Builder()
    warnings: list[str] = []
    notes: dict[str, list[int]] = {"session_meta": [], "compacted": [], "thread_rolled_back": []}  # line numbers
    base_instructions = user_instructions = None
    meta_seen = False
    unknown: Counter[str] = Counter()
    limit = TurnLimit(FORMAT_ID)

    for number, kind, payload, timestamp in _items(source):
        if kind in SKIPPED_LINE_TYPES:
            continue
        if not isinstance(payload, dict):
            raise TranscriptError(
                f"expected an object; got {json_type(payload)}", line=number, field="payload", format_id=FORMAT_ID
            )
        if kind == "session_meta":
            if meta_seen:
                notes["session_meta"].append(number)
                continue
            meta_seen = True
            base_instructions = _instruction_text(payload.get("base_instructions"))
            user_instructions = _instruction_text(payload.get("instructions"))
        elif kind == "response_item":
            _response_item(builder, payload, timestamp, number, unknown)
        elif kind == "event_msg":
            _event(builder, payload, timestamp, number, has_messages, notes)
        elif kind == "compacted":
            message = payload.get("message")
            history = payload.get("replacement_history")
            data = {key: value for key, value in payload.items() if key not in ("message", "replacement_history")}
            if isinstance(history, list):
                data["replacement_history_items"] = len(history)
            builder.add(
                _Turn(
                    "system",
                    timestamp,
                    [message] if isinstance(message, str) else [],
                    raw=[{"type": "compacted", "data": data}],
                )
            )
            notes["compacted"].append(number)
        else:
            builder.raw({"type": kind, "data": _trim(payload)})
        limit.check(len(builder.turns))

    turns = builder.turns
    if builder.pending_raw and turns:
        turns[-1].raw.extend(builder.pending_raw)
    preamble = []
    if base_instructions:
        preamble.append(_Turn("system", None, [base_instructions]))
    if user_instructions and not any(
        user_instructions in part for turn in turns if turn.is_message for part in turn.text
    ):
        preamble.append(_Turn("developer", None, [user_instructions]))
    turns = preamble + turns
    if notes["session_meta"]:
        warnings.append(
            f"{_where(notes['session_meta'])} another session_meta (a forked or sub-agent session replaying its "
            "parent's history); everything is kept in file order."
        )
    if notes["compacted"]:
        warnings.append(
            f"{_where(notes['compacted'])} a context compaction; the summary the model continued from is kept "
            "as a system turn."
        )
    if notes["thread_rolled_back"]:
        warnings.append(
            f"{_where(notes['thread_rolled_back'])} a rollback of the last turns by the user; the rolled-back "
            "turns are still shown."
        )
    if not has_messages and turns:
        warnings.append(
            "This rollout has no message items; the turns were rebuilt from its user_message and agent_message events."
        )
    if unknown:
        listed = ", ".join(f"{name} ×{count}" for name, count in unknown.most_common())
        warnings.append(f"Response items of a type this importer does not know are kept as raw blocks: {listed}.")
    if not turns:
        raise TranscriptError("No messages or tool calls were found in this Codex rollout.", format_id=FORMAT_ID)
    return ParsedTranscript(format=FORMAT_ID, turns=finish_turns(turns), warnings=warnings)


def _items(source: Source) -> Iterator[tuple[int, str, Any, str | None]]:
    """(line number, line type, payload, timestamp) per line that holds an item, read one line at a time."""
    for position, (number, record) in enumerate(object_lines(source, FORMAT_ID, "a Codex rollout")):
        if not isinstance(record, dict):
            raise TranscriptError(
                f"expected a JSON object (one rollout line); got a JSON {json_type(record)}",
                line=number,
                format_id=FORMAT_ID,
            )
        if _is_envelope(record):
            yield number, record["type"], record["payload"], _timestamp(record.get("timestamp"))
        elif position == 0 and _is_bare_meta(record):
            yield number, "session_meta", record, _timestamp(record.get("timestamp"))
        elif "record_type" in record and "type" not in record:
            continue  # a state marker of the old format
        elif isinstance(record.get("type"), str):
            yield number, "response_item", record, _timestamp(record.get("timestamp"))
        else:
            raise TranscriptError(
                "expected a rollout line with “type” and “payload”, or a bare response item with “type”",
                line=number,
                format_id=FORMAT_ID,
            )


def _has_messages(source: Source) -> bool:
    """Whether the rollout has message items (else its user and agent message events make the turns), read up
    to the first one. A line that cannot be read ends the search: reading the items then refuses it."""
    with contextlib.suppress(TranscriptError):
        return any(
            kind == "response_item" and isinstance(payload, dict) and payload.get("type") == "message"
            for _, kind, payload, _ in _items(source)
        )
    return False


def _response_item(builder: _Builder, item: dict, timestamp: str | None, number: int, unknown: Counter[str]) -> None:
    kind = id_text(item.get("type"))
    if kind == "message":
        role = MESSAGE_ROLES.get(item["role"]) if isinstance(item.get("role"), str) else None
        if role is None:
            raise TranscriptError(
                f"expected one of {', '.join(MESSAGE_ROLES)}; got {item.get('role')!r}",
                line=number,
                field="payload.role",
                format_id=FORMAT_ID,
            )
        text, raw = _content(item.get("content"))
        if role == "assistant":
            turn = builder.assistant(timestamp, after_calls=True)
            turn.text.append(text)
            turn.raw.extend(raw)
            turn.is_message = True
        else:
            builder.add(_Turn(role, timestamp, [text], raw=raw, is_message=True))
    elif kind == "reasoning":
        turn = builder.assistant(timestamp, fresh=True)
        for key in ("summary", "content"):
            parts = item.get(key)
            if isinstance(parts, list):
                turn.reasoning.extend(
                    part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str)
                )
            elif isinstance(parts, str):
                turn.reasoning.append(parts)
        if item.get("encrypted_content"):  # the readable parts are in reasoning already
            opaque = {key: value for key, value in item.items() if key not in ("summary", "content")}
            turn.raw.append({"type": "reasoning", "data": _trim(opaque)})
    elif kind == "function_call":
        name = id_text(item.get("name")) or ""
        namespace = id_text(item.get("namespace"))
        builder.assistant(timestamp).tool_calls.append(
            tool_call(_call_id(item), f"{namespace}.{name}" if namespace else name, item.get("arguments"))
        )
    elif kind == "custom_tool_call":
        builder.assistant(timestamp).tool_calls.append(
            tool_call(_call_id(item), id_text(item.get("name")) or "", item.get("input"))
        )
    elif kind == "local_shell_call":
        builder.assistant(timestamp).tool_calls.append(tool_call(_call_id(item), "local_shell", item.get("action")))
    elif kind and kind.endswith("_output") and "call_id" in item:
        text, raw = _output(item.get("output", item.get("result")))
        builder.add(_Turn("tool", timestamp, [text], tool_call_id=id_text(item.get("call_id")), raw=raw))
    elif kind and kind.endswith("_call") and id_text(item.get("call_id")):
        arguments = next((item[key] for key in ("arguments", "input", "action") if key in item), None)
        builder.assistant(timestamp).tool_calls.append(
            tool_call(_call_id(item), id_text(item.get("name")) or kind.removesuffix("_call"), arguments)
        )
    elif kind in SKIPPED_ITEMS:
        return
    elif kind and (kind.endswith("_call") or "compaction" in kind):
        # Server-side tools (web search, image generation) and compaction markers: no tool turn follows.
        builder.assistant(timestamp).raw.append({"type": kind, "data": _trim(item)})
    else:
        name = kind or repr(item.get("type"))
        unknown[name] += 1
        builder.raw({"type": name, "data": _trim(item)})


def _event(
    builder: _Builder, event: dict, timestamp: str | None, number: int, has_messages: bool, notes: dict[str, list[int]]
) -> None:
    kind = id_text(event.get("type"))
    if not has_messages and kind in ("user_message", "agent_message", "agent_reasoning"):
        message = event.get("message", event.get("text"))
        text = message if isinstance(message, str) else ""
        if kind == "user_message":
            images = event.get("images")
            raw = (
                [{"type": "image", "data": _trim({"image_url": url})} for url in images]
                if isinstance(images, list)
                else []
            )
            builder.add(_Turn("user", timestamp, [text], raw=raw))
        elif kind == "agent_message":
            builder.assistant(timestamp, after_calls=True).text.append(text)
        else:
            builder.assistant(timestamp, fresh=True).reasoning.append(text)
        return
    if kind in IGNORED_EVENTS:
        return
    if kind == "thread_rolled_back":
        notes["thread_rolled_back"].append(number)
    builder.raw({"type": kind or "event", "data": _trim(event)})


def _where(numbers: list[int]) -> str:
    """Line 3 records / Lines 3, 9 and 12 record / Lines 3, 9, 12, 15, 20 and 7 more record."""
    if len(numbers) == 1:
        return f"Line {numbers[0]} records"
    head, tail = (numbers[:-1], str(numbers[-1])) if len(numbers) <= 5 else (numbers[:5], f"{len(numbers) - 5} more")
    return f"Lines {', '.join(map(str, head))} and {tail} record"


def _content(content: Any) -> tuple[str, list[dict]]:
    """Message content (a string or input_text/output_text/input_image parts) as text plus raw blocks."""
    if isinstance(content, str):
        return content, []
    if content is None:
        return "", []
    if not isinstance(content, list):
        return "", [{"type": "content", "data": content}]
    texts, raw = [], []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part, str):
            texts.append(part)
        elif kind in ("input_image", "image"):
            raw.append({"type": "image", "data": _trim(part)})
        else:
            raw.append({"type": kind if isinstance(kind, str) and kind else "part", "data": _trim(part)})
    return "\n\n".join(texts), raw


def _output(output: Any) -> tuple[str, list[dict]]:
    """A tool output: a string, content items, or (older rollouts) {content, success}."""
    if isinstance(output, str):
        return output, []
    if isinstance(output, list):
        return _content(output)
    if isinstance(output, dict):
        for key in ("content", "output", "text"):
            if isinstance(output.get(key), str):
                rest = {k: v for k, v in output.items() if k != key}
                return output[key], ([{"type": "output", "data": _trim(rest)}] if rest else [])
    if output is None:
        return "", []
    return json.dumps(output, ensure_ascii=False), []


def _instruction_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("text")
    return value if isinstance(value, str) and value.strip() else None


def _call_id(item: dict) -> str | None:
    return id_text(item.get("call_id")) or id_text(item.get("id"))


def _trim(value: Any) -> Any:
    return trim_payloads(value, HEAVY_KEYS)


def _timestamp(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
