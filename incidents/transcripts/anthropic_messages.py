"""Anthropic Messages API JSON: a request ``{"system": ..., "messages": [...]}``, a bare list of messages
using Anthropic content blocks, a response ``Message`` (``{"type": "message", "role": "assistant",
"content": [...]}``), or a list of messages whose last entry is that response.

Mapping:

- top-level ``system`` (a string or text blocks) → a system turn; ``role: "system"`` messages and their
  ``mid_conv_system`` blocks → system turns;
- ``text`` → content (blocks joined with a blank line; ``citations`` kept in ``raw``);
- ``thinking`` → reasoning (its ``signature`` is an opaque check value and is not kept, unless the
  thinking text is empty: then the block goes to ``raw`` so the hidden reasoning stays visible);
- ``tool_use`` / ``server_tool_use`` / ``mcp_tool_use`` → tool calls on the assistant turn;
- ``tool_result`` (inside a user message) → one tool turn per result, split out of the user message, so a
  message made only of results yields only tool turns; ``is_error`` becomes a ``raw`` ``tool_error`` entry;
- server results (``web_search_tool_result``, ``mcp_tool_result``, …) → tool turns when their
  ``tool_use_id`` names an earlier server call, otherwise ``raw``;
- everything else (``redacted_thinking``, images, documents, unknown blocks) → ``raw``, with base64 and
  encrypted payloads replaced by a length note.

The request's own fields (model, tools, …) are kept in ``raw`` as ``request`` on the first turn, and a
response ``Message``'s (id, model, stop_reason, usage) as ``response`` on its last turn; a stop reason
other than a normal end adds a warning.
"""

from __future__ import annotations

import json
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, make_turn, tool_call
from incidents.transcripts.common import (
    Segment,
    has_media_type,
    join_path,
    json_kind,
    omit_payloads,
    parser_errors,
    show,
)

FORMAT_ID = "anthropic-messages"
LABEL = "Anthropic Messages API (JSON)"

MESSAGE_ROLES = ("user", "assistant", "system")
CALL_TYPES = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
SERVER_CALL_TYPES = frozenset({"server_tool_use", "mcp_tool_use"})
# Block types only the Messages API uses: text blocks alone are shared with OpenAI chat and prove nothing.
EVIDENCE_TYPES = frozenset(
    {
        "thinking",
        "redacted_thinking",
        "tool_use",
        "tool_result",
        "server_tool_use",
        "mcp_tool_use",
        "mcp_tool_result",
        "mid_conv_system",
        "search_result",
        "container_upload",
    }
)
# Content-part types of other APIs (OpenAI chat / Responses): their presence means "not ours".
FOREIGN_TYPES = frozenset(
    {"image_url", "input_audio", "input_text", "input_image", "input_file", "output_text", "refusal", "file"}
)
KNOWN_BLOCK_TYPES = EVIDENCE_TYPES | {"text", "image", "document"}
# Keys whose long string values are opaque payloads (base64, encrypted blobs): replaced in ``raw``.
PAYLOAD_KEYS = frozenset({"data", "encrypted_content", "encrypted_index", "signature"})
NORMAL_STOPS = ("end_turn", "tool_use", "stop_sequence", "pause_turn")
PAYLOAD_LIMIT = 200
DETECT_SCAN = 500


# --- detection --------------------------------------------------------------------------------------


def detect(source: Source) -> bool:
    if not source.is_json:
        return False
    data = source.json
    if isinstance(data, dict):
        if data.get("type") == "message" and "messages" not in data:
            return _is_response_message(data)
        messages = data.get("messages")
        if not isinstance(messages, list):
            return False
        verdict = _scan_messages(messages)
        # A top-level system prompt beside the messages is itself Anthropic evidence.
        return verdict is True or (verdict is None and "system" in data and _is_system_value(data["system"]))
    if isinstance(data, list):
        return _scan_messages(data) is True
    return False


def _is_system_value(value: Any) -> bool:
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(b, dict) and b.get("type") == "text" for b in value[:20])


def _is_response_message(value: dict) -> bool:
    """A ``Message`` object, told apart from an OpenAI Responses ``message`` item by its blocks and keys."""
    if value.get("role") != "assistant" or not isinstance(value.get("content"), list):
        return False
    types = [_type(b) for b in value["content"][:DETECT_SCAN]]
    if not all(t in KNOWN_BLOCK_TYPES or (isinstance(t, str) and t.endswith("_tool_result")) for t in types):
        return False
    return "stop_reason" in value or "usage" in value or any(t in EVIDENCE_TYPES for t in types)


def _scan_messages(messages: list) -> bool | None:
    """True: Anthropic evidence; None: compatible but unproven; False: not Anthropic messages."""
    evidence = False
    for message in messages[:DETECT_SCAN]:
        if not isinstance(message, dict) or message.get("role") not in MESSAGE_ROLES:
            return False
        if "tool_calls" in message or "tool_call_id" in message or "function_call" in message:
            return False
        if message.get("type") == "message":
            if not _is_response_message(message):
                return False
            evidence = True
            continue
        content = message.get("content")
        if isinstance(content, str) or content is None:
            continue
        if not isinstance(content, list):
            return False
        for block in content:
            if not isinstance(block, dict):
                return False
            kind = _type(block)
            if kind in FOREIGN_TYPES:
                return False
            if (
                kind in EVIDENCE_TYPES
                or (isinstance(kind, str) and kind.endswith("_tool_result"))
                or (kind in ("image", "document") and isinstance(block.get("source"), dict))
            ):
                evidence = True
    return True if evidence else None


# --- parsing ----------------------------------------------------------------------------------------


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    with parser_errors(FORMAT_ID):
        return _Parser().run(source.json)


class _Parser:
    def __init__(self) -> None:
        self.turns: list[dict] = []
        self.warnings: list[str] = []
        self.call_ids: set[str] = set()
        self.server_call_ids: set[str] = set()

    def run(self, data: Any) -> ParsedTranscript:
        if isinstance(data, dict):
            if data.get("type") == "message" and "messages" not in data:
                self.message(data, "")
            elif "messages" in data:
                if data.get("system") is not None:
                    self.system(data["system"])
                messages = data["messages"]
                if not isinstance(messages, list):
                    raise _error(f"expected a list of messages; got {json_kind(messages)}", "messages")
                for number, message in enumerate(messages):
                    self.message(message, f"messages[{number}]")
                request = {key: value for key, value in data.items() if key not in ("messages", "system")}
                if request and self.turns:
                    self.turns[0]["raw"].insert(0, {"type": "request", "data": _strip(request)})
            else:
                raise _error(
                    'expected a Messages API request with a "messages" list, a list of messages, '
                    'or a response Message object ("type": "message")'
                )
        elif isinstance(data, list):
            for number, message in enumerate(data):
                self.message(message, f"messages[{number}]")
        else:
            raise _error(f"expected a JSON object or a list of messages; got {json_kind(data)}")
        return ParsedTranscript(format=FORMAT_ID, turns=self.turns, warnings=self.warnings)

    # Turns --------------------------------------------------------------------------------------------

    def emit(self, role: str, content: str, **extra: Any) -> None:
        self.turns.append(make_turn(len(self.turns), role, content, **extra))

    def flush(self, segment: Segment) -> None:
        segment.emit_to(self.emit)

    def system(self, value: Any) -> None:
        if isinstance(value, str):
            if value:
                self.emit("system", value)
            return
        if not isinstance(value, list):
            raise _error(f"expected a string or a list of text blocks; got {json_kind(value)}", "system")
        segment = Segment("system")
        for number, block in enumerate(value):
            segment = self.block(block, segment, f"system[{number}]")
        self.flush(segment)

    def message(self, message: Any, path: str) -> None:
        if not isinstance(message, dict):
            raise _error(f"expected a message object with role and content; got {json_kind(message)}", path)
        role = message.get("role")
        if role not in MESSAGE_ROLES:
            raise _error(f"expected one of {', '.join(MESSAGE_ROLES)}; got {show(role)}", join_path(path, "role"))
        content = message.get("content")
        first = len(self.turns)
        segment = Segment(role)
        if isinstance(content, str):
            segment.texts.append(content)
        elif isinstance(content, list):
            for number, block in enumerate(content):
                segment = self.block(block, segment, join_path(path, f"content[{number}]"))
        elif content is not None:
            raise _error(
                f"expected a string or a list of content blocks; got {json_kind(content)}", join_path(path, "content")
            )
        self.flush(segment)
        if len(self.turns) == first:  # keep an empty message visible rather than losing it
            self.emit(role, "")
        if message.get("type") == "message":
            meta = {key: value for key, value in message.items() if key not in ("type", "role", "content")}
            if meta:
                self.turns[-1]["raw"].append({"type": "response", "data": _strip(meta)})
            stop_reason = message.get("stop_reason")
            if stop_reason is not None and stop_reason not in NORMAL_STOPS:
                where = f" ({path})" if path else ""
                self.warnings.append(
                    f"The response{where} stopped with stop_reason {show(stop_reason)}; "
                    "its last turn may be cut off or withheld."
                )

    def block(self, block: Any, segment: Segment, path: str) -> Segment:
        """Adds one block to ``segment``; returns the segment later blocks of the message go to."""
        if isinstance(block, str):
            segment.texts.append(block)
            return segment
        if not isinstance(block, dict):
            self.warnings.append(f"{path}: expected a content block object; got {json_kind(block)}; kept as raw data.")
            segment.raw.append({"type": "unknown", "data": block})
            return segment
        kind = _type(block)
        if kind is None and isinstance(block.get("text"), str):
            kind = "text"
        if kind == "text":
            text = block.get("text")
            if isinstance(text, str):
                segment.texts.append(text)
            else:
                self.warnings.append(f"{path}.text: expected a string; got {json_kind(text)}; kept as raw data.")
                segment.raw.append({"type": "text", "data": _strip(block)})
            if block.get("citations"):
                segment.raw.append({"type": "citations", "data": _strip(block["citations"])})
        elif kind == "thinking":
            thinking = block.get("thinking")
            if isinstance(thinking, str) and thinking:
                segment.reasoning.append(thinking)
            else:
                segment.raw.append({"type": "thinking", "data": _strip(block)})
        elif kind in CALL_TYPES:
            segment.calls.append(self.call(block, path, server=kind in SERVER_CALL_TYPES))
        elif kind is not None and (kind == "tool_result" or kind.endswith("_tool_result")):
            return self.result(block, kind, segment, path)
        elif kind == "mid_conv_system":
            self.flush(segment)
            self.emit("system", self.mid_conv_system(block, path))
            return Segment(segment.role)
        else:
            segment.raw.append({"type": kind or "unknown", "data": _strip(block)})
        return segment

    def call(self, block: dict, path: str, *, server: bool) -> dict:
        call_id = block.get("id")
        if not isinstance(call_id, str):
            self.warnings.append(f"{path}.id: expected a tool_use id string; got {json_kind(call_id)}.")
            call_id = None
        else:
            (self.server_call_ids if server else self.call_ids).add(call_id)
        name = block.get("name")
        if not isinstance(name, str):
            self.warnings.append(f"{path}.name: expected the tool name as a string; got {json_kind(name)}.")
            name = "" if name is None else json.dumps(name)
        return tool_call(call_id, name, block.get("input"))

    def result(self, block: dict, kind: str, segment: Segment, path: str) -> Segment:
        call_id = block.get("tool_use_id")
        call_id = call_id if isinstance(call_id, str) else None
        if kind != "tool_result" and call_id not in self.server_call_ids:
            # A server result with no server call to answer: not a turn of its own.
            segment.raw.append({"type": kind, "data": _strip(block)})
            return segment
        if call_id is None:
            self.warnings.append(f"{path}.tool_use_id: missing; the result cannot be paired with its call.")
        elif call_id not in self.call_ids and call_id not in self.server_call_ids:
            self.warnings.append(f"{path}: the tool_use_id {call_id!r} matches no earlier tool_use block.")
        self.flush(segment)
        raw: list[dict] = []
        content = block.get("content")
        if kind == "tool_result":
            text = self.result_content(content, raw, join_path(path, "content"))
        else:
            text = _server_result_text(content)
            raw.append({"type": kind, "data": _strip(block)})
        if block.get("is_error") is True:
            raw.insert(0, {"type": "tool_error", "data": {"is_error": True}})
        self.emit("tool", text, tool_call_id=call_id, raw=raw)
        return Segment(segment.role)

    def result_content(self, content: Any, raw: list[dict], path: str) -> str:
        if content is None:
            return ""
        if isinstance(content, str):
            return content
        if not isinstance(content, list):
            self.warnings.append(f"{path}: expected a string or a list of blocks; got {json_kind(content)}.")
            return _dumps(content)
        texts = []
        for block in content:
            if isinstance(block, str):
                texts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            else:
                raw.append({"type": _type(block) or "unknown", "data": _strip(block)})
        return "\n\n".join(texts)

    def mid_conv_system(self, block: dict, path: str) -> str:
        content = block.get("content")
        if isinstance(content, str):
            return content
        if not isinstance(content, list):
            raise _error(f"expected a list of text blocks; got {json_kind(content)}", join_path(path, "content"))
        texts = []
        for number, part in enumerate(content):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, str):
                texts.append(part)
            else:
                self.warnings.append(f"{path}.content[{number}]: expected a text block; it was not kept.")
        return "\n\n".join(texts)


# --- helpers ----------------------------------------------------------------------------------------


def _server_result_text(content: Any) -> str:
    """Readable text for a server tool result (the full block is kept in ``raw`` beside it)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        if isinstance(content.get("error_code"), str):
            return f"{content.get('type', 'error')}: {content['error_code']}"
        streams = [
            f"{name}:\n{content[name]}" if name != "stdout" else content[name]
            for name in ("stdout", "stderr")
            if isinstance(content.get(name), str) and content[name]
        ]
        if streams:
            return "\n\n".join(streams)
        if isinstance(content.get("text"), str):
            return content["text"]
        if "content" in content:
            return _server_result_text(content["content"])
        return _dumps(_strip(content))
    if isinstance(content, list):
        lines = []
        for item in content:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                title = item.get("title")
                lines.append(f"{title}\n{item['url']}" if isinstance(title, str) and title else item["url"])
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                lines.append(item["text"])
            elif isinstance(item, str):
                lines.append(item)
        return "\n\n".join(lines)
    return _dumps(content)


def _strip(value: Any) -> Any:
    """A copy of ``value`` with long opaque payloads (base64, encrypted content) replaced by a note."""
    return omit_payloads(value, _is_payload)


def _is_payload(holder: dict, key: str, text: str) -> bool:
    # A media source's "data" is the file itself, whatever its length; a plain-text document's is kept.
    return key in PAYLOAD_KEYS and (
        len(text) > PAYLOAD_LIMIT or (has_media_type(holder) and holder.get("type") != "text")
    )


def _type(block: Any) -> str | None:
    kind = block.get("type") if isinstance(block, dict) else None
    return kind if isinstance(kind, str) else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _error(message: str, field: str | None = None) -> TranscriptError:
    return TranscriptError(message, field=field or None, format_id=FORMAT_ID)
