"""LangChain messages as JSON: ``messages_to_dict`` output (``[{"type": "human", "data": {...}}]``), also
wrapped as ``{"messages": [...]}`` (a LangGraph state), and the ``dumpd`` form
(``{"lc": 1, "type": "constructor", "id": [..., "HumanMessage"], "kwargs": {...}}``).

Mapping:

- types ``human`` → user, ``ai`` → assistant, ``system`` → system (developer when
  ``additional_kwargs.__openai_role__`` says so), ``developer``, ``tool`` / ``function`` → tool, ``chat`` →
  its ``role``; the ``…MessageChunk`` types like their message; ``remove`` (a LangGraph control message) is
  skipped with a warning;
- ``content`` string, or blocks: ``text`` → content; ``thinking`` / ``reasoning`` → reasoning; ``tool_use``
  / ``tool_call`` / ``function_call`` blocks → tool calls unless ``tool_calls`` already lists that id;
  anything else (images, files, ``redacted_thinking``, chunks, unknown) → ``raw`` without base64 payloads;
- ``tool_calls`` → tool calls; if empty, the provider's ``additional_kwargs.tool_calls`` (OpenAI shape) or
  legacy ``function_call``; ``invalid_tool_calls`` → tool calls with their unparsed arguments plus a
  ``raw`` entry with the parse error; ``additional_kwargs.reasoning_content`` / ``reasoning`` →
  reasoning; ``refusal`` → ``raw``;
- tool messages: ``tool_call_id``; ``status: "error"`` → a ``raw`` ``tool_error`` entry; ``artifact`` → ``raw``;
  a legacy ``function`` message is paired with the latest unanswered ``function_call`` of its name;
- an assistant message's ``response_metadata`` (model, stop reason, usage) → ``raw`` ``response``;
  timestamps from ``response_metadata.created_at`` (ISO or unix seconds) or ``created`` (unix seconds).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, make_turn, tool_call
from incidents.transcripts.common import has_media_type, json_kind, omit_payloads, parser_errors, show

FORMAT_ID = "langchain"
LABEL = "LangChain messages (JSON)"

TYPE_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "developer": "developer",
    "tool": "tool",
    "function": "tool",
    "chat": "chat",
    "remove": "remove",
}
CHUNK_TYPES = {
    "HumanMessageChunk": "human",
    "AIMessageChunk": "ai",
    "SystemMessageChunk": "system",
    "ToolMessageChunk": "tool",
    "FunctionMessageChunk": "function",
    "ChatMessageChunk": "chat",
}
CLASS_TYPES = {
    "HumanMessage": "human",
    "AIMessage": "ai",
    "SystemMessage": "system",
    "DeveloperMessage": "developer",
    "ToolMessage": "tool",
    "FunctionMessage": "function",
    "ChatMessage": "chat",
    "RemoveMessage": "remove",
    **CHUNK_TYPES,
}
CHAT_ROLES = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "system": "system",
    "developer": "developer",
    "tool": "tool",
    "function": "tool",
}
CALL_BLOCKS = frozenset({"tool_use", "tool_call", "function_call"})
REASONING_BLOCKS = frozenset({"thinking", "reasoning"})
PAYLOAD_KEYS = frozenset({"data", "base64", "image_url", "url", "encrypted_content", "signature", "file_data"})
PAYLOAD_LIMIT = 200
DETECT_SCAN = 20


# --- detection --------------------------------------------------------------------------------------


def detect(source: Source) -> bool:
    if not source.is_json:
        return False
    messages = _messages(source.json)
    return bool(messages) and all(_is_message(m) for m in messages[:DETECT_SCAN])


def _messages(data: Any) -> list | None:
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        return data["messages"]
    return None


def _is_message(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if value.get("lc") == 1 and value.get("type") == "constructor":
        ids = value.get("id")
        return isinstance(ids, list) and _class_type(ids) is not None and isinstance(value.get("kwargs"), dict)
    kind = value.get("type")
    return isinstance(kind, str) and (kind in TYPE_ROLES or kind in CHUNK_TYPES) and isinstance(value.get("data"), dict)


def _class_type(ids: Any) -> str | None:
    """The message type named by a ``dumpd`` class path such as ``[..., "messages", "AIMessage"]``."""
    name = ids[-1] if isinstance(ids, list) and ids else None
    return CLASS_TYPES.get(name) if isinstance(name, str) else None


# --- parsing ----------------------------------------------------------------------------------------


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    with parser_errors(FORMAT_ID):
        return _Parser().run(source.json)


class _Parser:
    def __init__(self) -> None:
        self.turns: list[dict] = []
        self.warnings: list[str] = []
        self.call_ids: set[str] = set()
        self.legacy_calls = 0
        self.open_functions: dict[str, list[str]] = {}  # name → ids of unanswered legacy function calls

    def run(self, data: Any) -> ParsedTranscript:
        messages = _messages(data)
        if messages is None:
            raise _error(
                'expected a list of messages ({"type": ..., "data": ...}) or an object with a "messages" list; '
                f"got {json_kind(data)}"
            )
        prefix = "messages" if isinstance(data, dict) else ""
        for number, message in enumerate(messages):
            self.message(message, f"{prefix}[{number}]")
        return ParsedTranscript(format=FORMAT_ID, turns=self.turns, warnings=self.warnings)

    def emit(self, role: str, content: str, **extra: Any) -> None:
        self.turns.append(make_turn(len(self.turns), role, content, **extra))

    def message(self, message: Any, path: str) -> None:
        kind, data, data_path = self.unwrap(message, path)
        kind = CHUNK_TYPES.get(kind, kind)
        role = TYPE_ROLES[kind]
        raw: list[dict] = []
        if role == "remove":
            self.warnings.append(f"{path}: a RemoveMessage (a request to delete a message from the state) was skipped.")
            return
        extra = data.get("additional_kwargs")
        extra = extra if isinstance(extra, dict) else {}
        if role == "chat":
            chat_role = data.get("role")
            role = CHAT_ROLES.get(chat_role) if isinstance(chat_role, str) else None
            if role is None:
                self.warnings.append(
                    f"{data_path}.role: {show(chat_role)} is not a standard role; the message is shown as a user turn."
                )
                raw.append({"type": "chat_role", "data": chat_role})
                role = "user"
        elif role == "system" and extra.get("__openai_role__") == "developer":
            role = "developer"

        texts: list[str] = []
        reasoning: list[str] = []
        block_calls: list[dict] = []
        self.content(data.get("content"), texts, reasoning, block_calls, raw, f"{data_path}.content")

        calls: list[dict] = []
        tool_call_id: str | None = None
        if role == "assistant":
            calls = self.assistant_calls(data, extra, block_calls, raw, data_path)
            reasoning[:0] = _extra_reasoning(extra)
            if isinstance(extra.get("refusal"), str):
                raw.append({"type": "refusal", "data": extra["refusal"]})
            metadata = data.get("response_metadata")
            if isinstance(metadata, dict) and metadata:
                raw.append({"type": "response", "data": _strip(metadata)})
        elif block_calls:
            calls = block_calls
        if role == "tool":
            tool_call_id = self.result_id(kind, data, data_path)
            if data.get("status") == "error":
                raw.insert(0, {"type": "tool_error", "data": {"status": "error"}})
            if data.get("artifact") is not None:
                raw.append({"type": "artifact", "data": _strip(data["artifact"])})
        self.emit(
            role,
            "\n\n".join(texts),
            tool_calls=calls,
            tool_call_id=tool_call_id,
            reasoning="\n\n".join(reasoning) or None,
            timestamp=_timestamp(data.get("response_metadata")),
            raw=raw,
        )

    def unwrap(self, message: Any, path: str) -> tuple[str, dict, str]:
        """The message type, its fields and the path to them, for both serialised forms."""
        if not isinstance(message, dict):
            raise _error(f'expected a message object ({{"type": ..., "data": ...}}); got {json_kind(message)}', path)
        if message.get("lc") == 1 and message.get("type") == "constructor":
            ids = message.get("id")
            kind = _class_type(ids)
            if kind is None:
                known = ", ".join(c for c in CLASS_TYPES if not c.endswith("Chunk"))
                name = ids[-1] if isinstance(ids, list) and ids else ids
                raise _error(f"expected a message class ({known}) last; got {show(name)}", f"{path}.id")
            kwargs = message.get("kwargs")
            if not isinstance(kwargs, dict):
                raise _error(f"expected an object with the message fields; got {json_kind(kwargs)}", f"{path}.kwargs")
            return kind, kwargs, f"{path}.kwargs"
        kind = message.get("type")
        if not isinstance(kind, str) or (kind not in TYPE_ROLES and kind not in CHUNK_TYPES):
            known = ", ".join(k for k in TYPE_ROLES)
            raise _error(f"expected one of {known}; got {show(kind)}", f"{path}.type")
        data = message.get("data")
        if not isinstance(data, dict):
            raise _error(f"expected an object with the message fields; got {json_kind(data)}", f"{path}.data")
        return kind, data, f"{path}.data"

    def content(
        self, content: Any, texts: list[str], reasoning: list[str], calls: list[dict], raw: list[dict], path: str
    ) -> None:
        if content is None:
            return
        if isinstance(content, str):
            if content:
                texts.append(content)
            return
        if not isinstance(content, list):
            raise _error(f"expected a string or a list of content blocks; got {json_kind(content)}", path)
        for number, block in enumerate(content):
            if isinstance(block, str):
                texts.append(block)
                continue
            kind = block.get("type") if isinstance(block, dict) else None
            kind = kind if isinstance(kind, str) else None
            if not isinstance(block, dict):
                self.warnings.append(
                    f"{path}[{number}]: expected a content block; got {json_kind(block)}; kept as raw."
                )
                raw.append({"type": "unknown", "data": block})
            elif kind == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
                for key in ("annotations", "citations"):
                    if block.get(key):
                        raw.append({"type": key, "data": _strip(block[key])})
            elif kind in REASONING_BLOCKS and (text := _reasoning_text(block)):
                reasoning.append(text)
            elif kind in CALL_BLOCKS:
                calls.append(_block_call(block))
            else:
                raw.append({"type": kind or "unknown", "data": _strip(block)})

    def assistant_calls(self, data: dict, extra: dict, block_calls: list[dict], raw: list[dict], path: str) -> list:
        calls: list[dict] = []
        listed = data.get("tool_calls")
        if isinstance(listed, list) and listed:
            for number, call in enumerate(listed):
                if not isinstance(call, dict):
                    self.warnings.append(f"{path}.tool_calls[{number}]: expected an object; kept as raw.")
                    raw.append({"type": "tool_call", "data": call})
                    continue
                calls.append(tool_call(_str(call.get("id")), _name(call.get("name")), call.get("args")))
        elif isinstance(extra.get("tool_calls"), list):
            # Older messages kept the provider's own (OpenAI) tool calls only here.
            for call in extra["tool_calls"]:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    calls.append(
                        tool_call(_str(call.get("id")), _name(function.get("name")), function.get("arguments"))
                    )
                else:
                    raw.append({"type": "tool_call", "data": _strip(call)})
        elif isinstance(extra.get("function_call"), dict):
            function = extra["function_call"]
            name = _name(function.get("name"))
            self.legacy_calls += 1
            call_id = f"#{self.legacy_calls}"  # legacy function calls carry no id; one is assigned for pairing
            self.open_functions.setdefault(name, []).append(call_id)
            calls.append(tool_call(call_id, name, function.get("arguments")))
        seen = {call["id"] for call in calls if call["id"] is not None}
        invalid = data.get("invalid_tool_calls")
        if isinstance(invalid, list):
            for call in invalid:
                raw.append({"type": "invalid_tool_call", "data": _strip(call)})
                # The provider's copy of the same call may already be listed, from additional_kwargs.
                if isinstance(call, dict) and (_str(call.get("id")) is None or call.get("id") not in seen):
                    calls.append(tool_call(_str(call.get("id")), _name(call.get("name")), call.get("args")))
        seen.update(call["id"] for call in calls if call["id"] is not None)
        calls.extend(call for call in block_calls if call["id"] is None or call["id"] not in seen)
        self.call_ids.update(call["id"] for call in calls if isinstance(call["id"], str))
        return calls

    def result_id(self, kind: str, data: dict, path: str) -> str | None:
        if kind == "function":
            name = _name(data.get("name"))
            waiting = self.open_functions.get(name)
            if waiting:
                return waiting.pop()
            self.warnings.append(f"{path}: no earlier function_call of {name!r} is waiting for this result.")
            return None
        call_id = data.get("tool_call_id")
        if not isinstance(call_id, str):
            self.warnings.append(f"{path}.tool_call_id: expected a string; got {json_kind(call_id)}.")
            return None
        if call_id not in self.call_ids:
            self.warnings.append(f"{path}.tool_call_id: {call_id!r} matches no earlier tool call.")
        return call_id


# --- helpers ----------------------------------------------------------------------------------------


def _reasoning_text(block: dict) -> str:
    for key in ("thinking", "reasoning", "text"):
        if isinstance(block.get(key), str) and block[key]:
            return block[key]
    summary = block.get("summary")
    if isinstance(summary, list):  # OpenAI Responses reasoning: [{"type": "summary_text", "text": ...}]
        return "\n\n".join(s["text"] for s in summary if isinstance(s, dict) and isinstance(s.get("text"), str))
    return ""


def _extra_reasoning(extra: dict) -> list[str]:
    content = extra.get("reasoning_content")
    if isinstance(content, str) and content:
        return [content]
    reasoning = extra.get("reasoning")
    if isinstance(reasoning, dict) and (text := _reasoning_text(reasoning)):
        return [text]
    if isinstance(reasoning, str) and reasoning:
        return [reasoning]
    return []


def _block_call(block: dict) -> dict:
    """A tool call written in the content: Anthropic ``tool_use``, standard ``tool_call``, OpenAI
    Responses ``function_call``."""
    call_id = _str(block.get("call_id")) if block.get("type") == "function_call" else None
    call_id = call_id or _str(block.get("id"))
    for key in ("input", "args", "arguments"):
        if key in block:
            return tool_call(call_id, _name(block.get("name")), block[key])
    return tool_call(call_id, _name(block.get("name")), None)


def _timestamp(metadata: Any) -> str | None:
    if not isinstance(metadata, dict):
        return None
    for key in ("created_at", "created"):
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value, tz=UTC).isoformat()
            except (OverflowError, OSError, ValueError):
                return None
    return None


def _strip(value: Any) -> Any:
    """A copy of ``value`` with long base64 payloads (data URLs, encrypted content) replaced by a note."""
    return omit_payloads(value, _is_payload)


def _is_payload(holder: dict, key: str, text: str) -> bool:
    # A file's "data" / "base64" is the file itself; elsewhere only long encoded text is a payload.
    return key in PAYLOAD_KEYS and (
        (len(text) > PAYLOAD_LIMIT and _is_encoded(text)) or (key in ("data", "base64") and has_media_type(holder))
    )


def _is_encoded(text: str) -> bool:
    """A data URL or base64-like text, not an ordinary (if long) URL."""
    return text.startswith("data:") or (" " not in text[:PAYLOAD_LIMIT] and "://" not in text[:16])


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _name(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value)


def _error(message: str, field: str | None = None) -> TranscriptError:
    return TranscriptError(message, field=field or None, format_id=FORMAT_ID)
