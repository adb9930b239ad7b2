"""OpenAI Chat Completions: a request body ``{"messages": [...], "model": ..., "tools": ...}``, a bare list of
messages, a response object (``choices[].message``), or a request and its response together (one object
holding both ``messages`` and ``choices``, or ``{"request": {...}, "response": {...}}``); the response's
message is appended after the request's messages.

Each message becomes one turn; ``function`` messages (the legacy tool result) become ``tool`` turns, with
no ``tool_call_id`` since legacy calls have no id. ``reasoning_content`` / ``reasoning`` (non-standard, added
by DeepSeek-style servers) becomes ``reasoning``; a ``refusal`` is shown as the turn's text and also marked in
``raw``. What is not modelled is kept in ``raw``: images, audio and files (base64 payloads removed), the author
``name``, unknown tool call types, unknown message keys, and the request's/response's own fields (model,
tools, usage, finish reason) on the first turn / the response's turn. Messages carry no time in the API: a
response's ``created`` (unix seconds) times its turn, and a per-message ``timestamp`` / ``created_at`` (which
some loggers add) is read too. A response with several choices lists them as samples ``choice-<n>``.

The per-message conversion (``message_turn``) and the content-part conversion (``content_text``) are
shared with the JSON Lines and Responses API parsers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, make_turn, tool_call
from incidents.transcripts.common import parser_errors, select_sample

FORMAT_ID = "openai-chat"
LABEL = "OpenAI Chat Completions (messages / response JSON)"

# Message roles of the Chat Completions API; ``function`` is the deprecated tool result.
CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_ROLE_MAP = {"function": "tool"}

# Keys of a message that are turned into turn fields; any other key is kept in ``raw``.
_MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "refusal", "reasoning_content",
     "reasoning", "audio", "annotations"}
)  # fmt: skip

# Non-standard per-message time fields that loggers add.
_TIME_KEYS = ("timestamp", "created_at", "created")

# Content part types by what they carry (Chat Completions, Responses API, and a few lenient aliases).
TEXT_PARTS = frozenset({"text", "input_text", "output_text"})
REASONING_PARTS = frozenset({"reasoning", "reasoning_text", "summary_text"})
MEDIA_PARTS = {
    "image_url": "image",
    "input_image": "image",
    "image": "image",
    "computer_screenshot": "image",
    "input_audio": "audio",
    "audio": "audio",
    "output_audio": "audio",
    "file": "file",
    "input_file": "file",
}

# Block types that only the Anthropic Messages API uses: their presence means "not OpenAI".
ANTHROPIC_BLOCKS = frozenset(
    {"tool_use", "tool_result", "thinking", "redacted_thinking", "document", "search_result", "server_tool_use",
     "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result", "mcp_tool_use",
     "mcp_tool_result", "container_upload", "mid_conv_system", "bash_code_execution_tool_result",
     "text_editor_code_execution_tool_result", "tool_search_tool_result"}
)  # fmt: skip
# Content part types of the Responses API, which has its own parser.
RESPONSES_PARTS = frozenset({"input_text", "output_text", "input_image", "input_file"})

# Top-level keys that belong to other formats (Anthropic system prompt, Gemini, ShareGPT, Inspect, Responses,
# ChatGPT export, agent logs): a messages object carrying one of them is not ours.
_FOREIGN_KEYS = frozenset(
    {"system", "contents", "systemInstruction", "conversations", "input", "output", "epoch", "samples", "mapping",
     "sessionId", "events", "payload"}
)  # fmt: skip

MAX_WARNINGS = 20
_PAYLOAD_KEYS = frozenset({"data", "file_data", "b64_json", "result", "image_data", "audio_data", "base64"})
_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+)?(;[\w-]+=[^;,]*)*;base64,", re.IGNORECASE)
_BASE64 = re.compile(r"[A-Za-z0-9+/=_\-\s]+")


@dataclass
class Context:
    """Where the conversion is (for error messages) and what it has noticed."""

    format_id: str = FORMAT_ID
    line: int | None = None
    warnings: list[str] = field(default_factory=list)

    def error(self, message: str, path: str = "", turn: int | None = None) -> TranscriptError:
        return TranscriptError(message, line=self.line, turn=turn, field=path or None, format_id=self.format_id)


# --- small helpers shared with the other OpenAI-shaped parsers -------------------------------------------------


def join(path: str, key: str | int) -> str:
    """``messages`` + 3 → ``messages[3]``; ``messages[3]`` + ``role`` → ``messages[3].role``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def kind(value: Any) -> str:
    """A JSON value's kind, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def strip_payloads(value: Any) -> Any:
    """A copy of ``value`` with base64 payloads (data URLs, ``data``/``file_data``/… fields) replaced by a note."""
    if isinstance(value, dict):
        return {key: _strip(item, key in _PAYLOAD_KEYS) for key, item in value.items()}
    if isinstance(value, list):
        return [strip_payloads(item) for item in value]
    return _strip(value, False)


def _strip(value: Any, payload_key: bool) -> Any:
    if isinstance(value, (dict, list)):
        return strip_payloads(value)
    if not isinstance(value, str):
        return value
    if value[:5].lower() == "data:":
        match = _DATA_URL.match(value)
        if match:
            return match.group(0) + f"[{len(value) - match.end()} characters omitted]"
    if payload_key and len(value) > 256 and _BASE64.fullmatch(value):
        return f"[base64, {len(value)} characters omitted]"
    return value


def iso_time(value: Any) -> str | None:
    """An ISO 8601 timestamp from unix seconds (or milliseconds) or from an ISO string; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) > 1e11 else value  # 1e11 s is year 5138: larger values are ms
        try:
            return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value.strip():
        try:
            datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return value.strip()
    return None


def as_text(value: Any) -> str:
    """Text for a value that should be text but may be structured (tool outputs, errors)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def optional_id(value: Any) -> str | None:
    """A call id; numbers are accepted (some servers number their calls), anything else counts as missing."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def cap_warnings(warnings: list[str]) -> list[str]:
    """The first warnings and a count of the rest, so a large file cannot flood the page."""
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    return [*warnings[:MAX_WARNINGS], f"…and {len(warnings) - MAX_WARNINGS} more warnings."]


def choose_sample(samples: list[dict], sample: str | None, ctx: Context) -> str | None:
    """The chosen sample id: ``sample`` if listed, else the first (None when nothing is listed); an unknown id
    is refused."""
    if not samples:
        if sample is not None:
            raise ctx.error(f"This transcript holds a single conversation; there is no sample {sample!r}.")
        return None
    return samples[select_sample(samples, sample, ctx.format_id)]["id"]


# --- content ---------------------------------------------------------------------------------------------------


def content_text(content: Any, *, ctx: Context, path: str, turn: int | None) -> tuple[str, list[dict], list[str]]:
    """Text, raw blocks and reasoning pieces from message content: a string, null, or a list of parts."""
    if content is None:
        return "", [], []
    if isinstance(content, str):
        return content, [], []
    if isinstance(content, dict):  # a single part where a list was expected: read it as a one-part list
        content = [content]
        single = True
    elif isinstance(content, list):
        single = False
    else:
        raise ctx.error(f"expected text, a list of content parts or null; got {kind(content)}", path, turn)
    texts: list[str] = []
    raw: list[dict] = []
    reasoning: list[str] = []
    for position, part in enumerate(content):
        where = path if single else join(path, position)
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise ctx.error(f"expected a content part object or text; got {kind(part)}", where, turn)
        part_type = part.get("type")
        if part_type is None and "text" in part:
            part_type = "text"
        if part_type in TEXT_PARTS:
            text = part.get("text")
            if not isinstance(text, str):
                raise ctx.error(f"expected text; got {kind(text)}", join(where, "text"), turn)
            texts.append(text)
            annotations = part.get("annotations")
            if annotations:
                raw.append({"type": "annotations", "data": strip_payloads(annotations)})
            if part.get("logprobs"):
                raw.append({"type": "logprobs", "data": part["logprobs"]})
        elif part_type == "refusal":
            refusal = part.get("refusal", part.get("text"))
            if not isinstance(refusal, str):
                raise ctx.error(f"expected text; got {kind(refusal)}", join(where, "refusal"), turn)
            texts.append(refusal)
            raw.append({"type": "refusal", "data": {"refusal": refusal}})
        elif part_type in REASONING_PARTS:
            text = part.get(part_type if part_type == "reasoning" else "text")
            if isinstance(text, str) and not part.get("redacted"):  # redacted reasoning is an opaque payload
                reasoning.append(text)
                extra = {k: v for k, v in part.items() if k not in ("type", "text", "reasoning") and v}
                if extra:
                    raw.append({"type": part_type, "data": strip_payloads(extra)})
            else:
                raw.append({"type": part_type, "data": strip_payloads(part)})
        elif part_type in MEDIA_PARTS:
            raw.append({"type": MEDIA_PARTS[part_type], "data": strip_payloads(part)})
        else:
            label = part_type if isinstance(part_type, str) and part_type else "unknown"
            raw.append({"type": label, "data": strip_payloads(part)})
    return "\n\n".join(texts), raw, reasoning


# --- messages --------------------------------------------------------------------------------------------------


def message_turn(
    message: Any,
    index: int,
    *,
    ctx: Context,
    path: str = "",
    default_role: str | None = None,
    timestamp: str | None = None,
) -> dict:
    """One Chat Completions message as one turn (``index``); ``path`` names the message in error messages."""
    if not isinstance(message, dict):
        raise ctx.error(f"expected a message object with a role; got {kind(message)}", path, index)
    role = message.get("role")
    if role is None:
        role = default_role
    if not isinstance(role, str) or role not in CHAT_ROLES:
        got = "nothing" if role is None else repr(role) if isinstance(role, str) else kind(role)
        raise ctx.error(f"expected one of {', '.join(CHAT_ROLES)}; got {got}", join(path, "role"), index)

    content, raw, reasoning = content_text(message.get("content"), ctx=ctx, path=join(path, "content"), turn=index)
    texts = [content] if content else []

    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        texts.append(refusal)
        raw.append({"type": "refusal", "data": {"refusal": refusal}})
    elif refusal not in (None, ""):
        raw.append({"type": "refusal", "data": strip_payloads(refusal)})

    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str):
            if value:
                reasoning.append(value)
        elif value is not None:  # e.g. OpenRouter's structured reasoning: not text, keep it whole
            raw.append({"type": key, "data": strip_payloads(value)})

    calls, call_raw = _tool_calls(message.get("tool_calls"), ctx=ctx, path=join(path, "tool_calls"), turn=index)
    raw.extend(call_raw)
    function_call = message.get("function_call")
    if function_call is not None:
        calls.append(_function_call(function_call, ctx=ctx, path=join(path, "function_call"), turn=index))

    name = message.get("name")
    if name is not None:
        raw.append({"type": "name", "data": name})
    for key in ("audio", "annotations"):
        if message.get(key):
            raw.append({"type": key, "data": strip_payloads(message[key])})
    extra = {key: value for key, value in message.items() if key not in _MESSAGE_KEYS and value is not None}
    if timestamp is None:  # not in the API, but logged chats often stamp each message
        for key in _TIME_KEYS:
            timestamp = iso_time(extra.get(key))
            if timestamp is not None:
                del extra[key]
                break
    if extra:
        raw.append({"type": "fields", "data": strip_payloads(extra)})

    tool_call_id = None
    if role in ("tool", "function"):
        tool_call_id = optional_id(message.get("tool_call_id"))
        if tool_call_id is None and role == "tool":
            ctx.warnings.append(f"The tool result at {_where(path, index, ctx)} has no tool_call_id.")
    elif message.get("tool_call_id") is not None:
        raw.append({"type": "tool_call_id", "data": message["tool_call_id"]})

    return make_turn(
        index,
        _ROLE_MAP.get(role, role),
        "\n\n".join(texts),
        tool_calls=calls,
        tool_call_id=tool_call_id,
        reasoning="\n\n".join(reasoning) or None,
        timestamp=timestamp,
        raw=raw,
    )


def _where(path: str, index: int, ctx: Context) -> str:
    if path:
        return path
    return f"line {ctx.line}" if ctx.line is not None else f"turn {index}"


def _tool_calls(entries: Any, *, ctx: Context, path: str, turn: int) -> tuple[list[dict], list[dict]]:
    if entries is None:
        return [], []
    if not isinstance(entries, list):
        raise ctx.error(f"expected a list of tool calls; got {kind(entries)}", path, turn)
    calls: list[dict] = []
    raw: list[dict] = []
    for position, entry in enumerate(entries):
        where = join(path, position)
        if not isinstance(entry, dict):
            raise ctx.error(f"expected a tool call object; got {kind(entry)}", where, turn)
        call_type = entry.get("type", "function")
        call_id = optional_id(entry.get("id"))
        if call_type == "custom":
            custom = entry.get("custom")
            if not isinstance(custom, dict):
                raise ctx.error(
                    f"expected an object with name and input; got {kind(custom)}", join(where, "custom"), turn
                )
            name = _name(custom.get("name"), ctx=ctx, path=join(where, "custom.name"), turn=turn)
            call = tool_call(call_id, name, None)
            call["arguments"] = custom.get("input")  # free text, not JSON: keep it exactly as given
            calls.append(call)
        elif "function" in entry:
            function = entry["function"]
            if isinstance(function, str):  # Inspect-style call: {"function": name, "arguments": {...}}
                calls.append(tool_call(call_id, function, entry.get("arguments", {})))
            elif isinstance(function, dict):
                name = _name(function.get("name"), ctx=ctx, path=join(where, "function.name"), turn=turn)
                calls.append(tool_call(call_id, name, function.get("arguments", {})))
            else:
                raise ctx.error(
                    f"expected an object with name and arguments; got {kind(function)}", join(where, "function"), turn
                )
        else:
            label = call_type if isinstance(call_type, str) and call_type else "tool_call"
            raw.append({"type": label, "data": strip_payloads(entry)})
    return calls, raw


def _function_call(value: Any, *, ctx: Context, path: str, turn: int) -> dict:
    if not isinstance(value, dict):
        raise ctx.error(f"expected an object with name and arguments; got {kind(value)}", path, turn)
    name = _name(value.get("name"), ctx=ctx, path=join(path, "name"), turn=turn)
    return tool_call(None, name, value.get("arguments", {}))


def _name(value: Any, *, ctx: Context, path: str, turn: int) -> str:
    if not isinstance(value, str):
        raise ctx.error(f"expected the tool name as text; got {kind(value)}", path, turn)
    return value


# --- whole conversations ---------------------------------------------------------------------------------------


def conversation(data: Any, *, ctx: Context, sample: str | None = None) -> ParsedTranscript:
    """Turns from a request body, a bare message list, a response, or a request with its response."""
    if isinstance(data, list):
        request: dict | None = None
        messages: Any = data
        response: dict | None = None
    elif isinstance(data, dict):
        request, response = _split(data)
        messages = request.get("messages") if request is not None else None
        if messages is None and response is None:
            raise ctx.error(
                "expected a list of messages, an object with a 'messages' list, or a response with 'choices'"
            )
    else:
        raise ctx.error(f"expected a list of messages or an object with 'messages'; got {kind(data)}")
    # One object holding both request and response fields: each field goes with its own side.
    merged = request is data and response is data
    # Keys of a wrapper object that were read as the request or the response; the others are kept in raw.
    used = (
        {"messages"}
        | ({"request"} if request is not data else set())
        | ({"response"} if response is not data else set())
    )

    turns: list[dict] = []
    if messages is not None:
        prefix = _prefix(data, request)
        if not isinstance(messages, list):
            raise ctx.error(f"expected a list of messages; got {kind(messages)}", prefix)
        for position, message in enumerate(messages):
            turns.append(message_turn(message, len(turns), ctx=ctx, path=join(prefix, position)))
        if request is data:
            skip = used | _RESPONSE_KEYS if merged else used
            extra = {key: value for key, value in data.items() if key not in skip}
        else:
            extra = {key: value for key, value in (request or {}).items() if key != "messages"}
        if extra and turns:
            turns[0]["raw"].append({"type": "request", "data": strip_payloads(extra)})

    samples: list[dict] = []
    chosen = None
    if response is not None:
        samples, chosen = _append_response(response, turns, ctx=ctx, sample=sample, merged=merged, data=data)
    else:
        choose_sample([], sample, ctx)
    if isinstance(data, dict) and request is not data and response is not data:
        outer = {key: value for key, value in data.items() if key not in used}
        if outer and turns:
            turns[0]["raw"].append({"type": "fields", "data": strip_payloads(outer)})
    check_pairing(turns, ctx)
    return ParsedTranscript(
        format=ctx.format_id, turns=turns, warnings=cap_warnings(ctx.warnings), samples=samples, sample=chosen
    )


# Fields of a chat.completion object (kept on the response's turn rather than the request's first turn).
_RESPONSE_KEYS = frozenset({"id", "object", "created", "usage", "system_fingerprint", "service_tier", "choices"})


def _prefix(data: Any, request: dict | None) -> str:
    """How error messages name the message list."""
    if request is None:
        return ""
    return "messages" if request is data else "request.messages"


def _split(data: dict) -> tuple[dict | None, dict | None]:
    """The request part and the response part of a top-level object (either may be missing)."""
    wrapped_request = data.get("request")
    wrapped_response = data.get("response")
    if isinstance(wrapped_request, dict) and "messages" in wrapped_request and "messages" not in data:
        request = wrapped_request
    else:
        request = data if "messages" in data else None
    if isinstance(wrapped_response, dict) and "choices" in wrapped_response and "choices" not in data:
        response = wrapped_response
    else:
        response = data if "choices" in data else None
    return request, response


def _append_response(
    response: dict, turns: list[dict], *, ctx: Context, sample: str | None, merged: bool, data: Any
) -> tuple[list[dict], str | None]:
    path = "choices" if response is data else "response.choices"
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ctx.error(f"expected a non-empty list of choices; got {kind(choices)}", path)
    samples: list[dict] = []
    if len(choices) > 1:
        for position, choice in enumerate(choices):
            number = choice.get("index") if isinstance(choice, dict) else None
            number = number if isinstance(number, int) and not isinstance(number, bool) else position
            finish = choice.get("finish_reason") if isinstance(choice, dict) else None
            label = f"Choice {number}" + (f" ({finish})" if isinstance(finish, str) else "")
            samples.append({"id": f"choice-{number}", "label": label})
        if len({entry["id"] for entry in samples}) < len(samples):  # duplicate indexes: number by position
            samples = [{**entry, "id": f"choice-{position}"} for position, entry in enumerate(samples)]
    chosen = choose_sample(samples, sample, ctx)
    position = next((i for i, entry in enumerate(samples) if entry["id"] == chosen), 0)
    choice = choices[position]
    where = join(path, position)
    if not isinstance(choice, dict):
        raise ctx.error(f"expected a choice object; got {kind(choice)}", where)
    timestamp = iso_time(response.get("created"))
    message = choice.get("message")
    turn = message_turn(
        message, len(turns), ctx=ctx, path=join(where, "message"), default_role="assistant", timestamp=timestamp
    )
    # A merged request+response object: only the response's own fields describe the response.
    meta = {key: value for key, value in response.items() if key != "choices" and (not merged or key in _RESPONSE_KEYS)}
    details = {key: value for key, value in choice.items() if key != "message"}
    if details:
        meta["choice"] = details
    if meta:
        turn["raw"].append({"type": "response", "data": strip_payloads(meta)})
    finish = choice.get("finish_reason")
    if finish in ("length", "content_filter"):
        ctx.warnings.append(f"The response stopped early (finish_reason {finish!r}); its last turn may be cut off.")
    turns.append(turn)
    return samples, chosen


def check_pairing(turns: list[dict], ctx: Context) -> None:
    """Warn about tool results whose call is not in the transcript (a partial export, or mismatched ids)."""
    made: set[str] = set()
    for turn in turns:
        made.update(call["id"] for call in turn["tool_calls"] if call["id"])
        answered = turn["tool_call_id"]
        if answered and answered not in made:
            ctx.warnings.append(f"Turn {turn['index']} answers tool call {answered!r}, which no earlier turn made.")


# --- detection -------------------------------------------------------------------------------------------------


def looks_like_messages(messages: Any) -> bool:
    """Whether ``messages`` is a non-empty list of Chat Completions messages (and not Anthropic, Gemini,
    OpenTelemetry or Responses API items, which have their own parsers)."""
    if not isinstance(messages, list) or not messages:
        return False
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in CHAT_ROLES or "type" in message:
            return False
        if not ("content" in message or "tool_calls" in message or "function_call" in message):
            return False
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and (
                    part.get("type") in ANTHROPIC_BLOCKS or part.get("type") in RESPONSES_PARTS
                ):
                    return False
                if isinstance(part, dict) and part.get("type") == "image" and "source" in part:  # Anthropic image
                    return False
        elif not (content is None or isinstance(content, str)):
            return False
    return True


def _looks_like_response(response: Any) -> bool:
    if not isinstance(response, dict) or "system" in response:
        return False
    choices = response.get("choices")
    return (
        isinstance(choices, list)
        and bool(choices)
        and isinstance(choices[0], dict)
        and isinstance(choices[0].get("message"), dict)
    )


def _looks_like_request(request: Any) -> bool:
    return (
        isinstance(request, dict)
        and not (_FOREIGN_KEYS & request.keys())
        and looks_like_messages(request.get("messages"))
    )


def detect(source: Source) -> bool:
    try:
        if not source.is_json:
            return False
        data = source.json
        if isinstance(data, list):
            return looks_like_messages(data)
        if not isinstance(data, dict):
            return False
        if "messages" not in data and "choices" not in data and ("request" in data or "response" in data):
            request, response = data.get("request"), data.get("response")
            if request is None and response is None:
                return False
            request_ok = request is None or _looks_like_request(request)
            return request_ok and (response is None or _looks_like_response(response))
        if "messages" in data:
            return _looks_like_request(data) and ("choices" not in data or _looks_like_response(data))
        return _looks_like_response(data) and not (_FOREIGN_KEYS & data.keys())
    except Exception:  # detection must never raise
        return False


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    with parser_errors(FORMAT_ID):
        return conversation(source.json, ctx=Context(), sample=sample)
