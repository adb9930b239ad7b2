"""OpenTelemetry GenAI spans: OTLP JSON (``{"resourceSpans": [...]}``, also ``resourceLogs``), a
collector file export (one such object per line), or a plain list / JSONL of spans.

Messages are read, per span, from the current attributes ``gen_ai.system_instructions``,
``gen_ai.input.messages`` and ``gen_ai.output.messages`` (JSON strings or structured OTLP values,
on the span or on a ``gen_ai.client.inference.operation.details`` event), else from the
deprecated ``gen_ai.{system,user,assistant,tool}.message`` / ``gen_ai.choice`` events, else from
the removed ``gen_ai.prompt`` / ``gen_ai.completion`` attributes (whole JSON or OpenLLMetry's
flattened ``gen_ai.prompt.<n>.role`` keys).

Every inference span repeats the conversation so far as its input, so spans are read in start
order and each adds only what its input has beyond the context it continues, then its output.
``execute_tool`` spans give tool results that the messages do not carry. Several traces (or
``gen_ai.conversation.id`` values) become samples.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, make_turn, tool_call
from incidents.transcripts.common import drop_base64, json_kind, parser_errors, scalar_text, select_sample

FORMAT_ID = "otel-genai"
LABEL = "OpenTelemetry GenAI spans (OTLP JSON)"

_ROLE_NAMES = {
    "system": "system",
    "developer": "developer",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "model": "assistant",
    "ai": "assistant",
    "tool": "tool",
    "function": "tool",
    "ipython": "tool",
}
_LEGACY_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_DETAILS_EVENT = "gen_ai.client.inference.operation.details"
_FLAT = re.compile(r"^gen_ai\.(?P<side>prompt|completion)\.(?P<n>\d+)\.(?P<rest>.+)$")
_FLAT_CALL = re.compile(r"^tool_calls\.(?P<n>\d+)\.(?P<key>.+)$")
_LABEL_CHARS = 80
_DETECT_SPANS = 2000
_NOT_SPANS = (
    "Expected OpenTelemetry spans: an OTLP JSON object with 'resourceSpans', or a list of spans with 'attributes'."
)


def detect(source: Source) -> bool:
    try:
        if source.is_json:
            values = [source.json]
        elif source.is_jsonl:
            values = [value for _, value in islice(source.head_records(), 50)]
        else:
            return False
        budget = [_DETECT_SPANS]
        return any(_mentions_gen_ai(value, budget) for value in values)
    except Exception:  # detection must never raise, whatever the bytes
        return False


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    with parser_errors(FORMAT_ID, too_deep="The trace is nested too deeply to read."):
        spans, warnings = _spans(_documents(source))
        return _Reader(spans, warnings).parse(sample)


# --- Reading the envelope -----------------------------------------------------------------------


@dataclass
class _Event:
    name: str
    time: int | None
    attributes: dict[str, Any]


@dataclass
class _Span:
    order: int
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start: int | None
    end: int | None
    attributes: dict[str, Any]
    events: list[_Event] = field(default_factory=list)
    error: str | None = None

    @property
    def operation(self) -> str:
        operation = self.attributes.get("gen_ai.operation.name")
        return operation if isinstance(operation, str) else ""

    def describe(self) -> str:
        return f"span {self.name!r}" if self.name else f"span #{self.order + 1}"


def _documents(source: Source) -> Iterable[Any]:
    """The JSON document, or the values of a JSON Lines file (a collector's file export), read one line at a time."""
    if source.is_json:
        return [source.json]
    if source.is_jsonl or (source.starts_with_object and _several_lines(source)):
        return (value for _, value in source.records())  # raises with the number of a bad line
    source.json  # noqa: B018 - raises the JSON error, if that is what is wrong
    raise TranscriptError(_NOT_SPANS)


def _several_lines(source: Source) -> bool:
    non_blank = (number for number, line in source.lines() if line.strip())
    return next(non_blank, None) is not None and next(non_blank, None) is not None


def _spans(documents: Iterable[Any]) -> tuple[list[_Span], list[str]]:
    spans: list[_Span] = []
    skipped = 0
    logs: dict[tuple[str, str], _Span] = {}
    found_envelope = False
    for document in documents:
        pending: list[Any] = [document]
        while pending:
            value = pending.pop()
            if isinstance(value, list):
                pending.extend(reversed(value))
                continue
            if not isinstance(value, dict):
                skipped += 1
                continue
            if "resourceSpans" in value or "resourceLogs" in value:
                found_envelope = True
                for scope in _scopes(
                    value.get("resourceSpans"), "resourceSpans", ("scopeSpans", "instrumentationLibrarySpans")
                ):
                    records = scope.get("spans")
                    if records is not None and not isinstance(records, list):
                        raise TranscriptError(f"expected a list of spans; got {json_kind(records)}", field="spans")
                    for record in records or []:
                        if isinstance(record, dict):
                            spans.append(_span(record, len(spans)))
                        else:
                            skipped += 1
                for scope in _scopes(
                    value.get("resourceLogs"), "resourceLogs", ("scopeLogs", "instrumentationLibraryLogs")
                ):
                    records = scope.get("logRecords")
                    for record in records if isinstance(records, list) else []:
                        if isinstance(record, dict):
                            _log_record(record, logs, spans)
            elif _looks_like_span(value):
                spans.append(_span(value, len(spans)))
            else:
                skipped += 1
    if not spans:
        if found_envelope:
            raise TranscriptError("The OTLP export holds no spans.")
        raise TranscriptError(_NOT_SPANS)
    warnings = [f"{skipped} value(s) that are not spans were ignored."] if skipped else []
    return spans, warnings


def _scopes(resources: Any, name: str, scope_keys: tuple[str, ...]) -> list[dict]:
    if resources is None:
        return []
    if not isinstance(resources, list):
        raise TranscriptError(f"expected a list; got {json_kind(resources)}", field=name)
    scopes = []
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        for key in scope_keys:
            found = resource.get(key)
            scopes.extend(scope for scope in (found if isinstance(found, list) else []) if isinstance(scope, dict))
    return scopes


def _looks_like_span(value: dict) -> bool:
    return "attributes" in value and any(
        key in value for key in ("spanId", "span_id", "context", "traceId", "startTimeUnixNano", "start_time")
    )


def _span(record: dict, order: int) -> _Span:
    context = record.get("context") if isinstance(record.get("context"), dict) else {}
    status = record.get("status") if isinstance(record.get("status"), dict) else {}
    error = None
    if status.get("code") in (2, "STATUS_CODE_ERROR", "ERROR"):
        error = scalar_text(status.get("message")) or "error"
    events = []
    for event in record.get("events") if isinstance(record.get("events"), list) else []:
        if isinstance(event, dict):
            events.append(
                _Event(
                    name=scalar_text(event.get("name")),
                    time=_nanos(event.get("timeUnixNano"), event.get("timestamp")),
                    attributes=_attributes(event.get("attributes")),
                )
            )
    return _Span(
        order=order,
        trace_id=scalar_text(record.get("traceId") or context.get("trace_id") or record.get("trace_id")),
        span_id=scalar_text(record.get("spanId") or context.get("span_id") or record.get("span_id")),
        parent_id=scalar_text(record.get("parentSpanId") or record.get("parent_id") or record.get("parent_span_id")),
        name=scalar_text(record.get("name")),
        start=_nanos(record.get("startTimeUnixNano"), record.get("start_time")),
        end=_nanos(record.get("endTimeUnixNano"), record.get("end_time")),
        attributes=_attributes(record.get("attributes")),
        events=events,
        error=error,
    )


def _log_record(record: dict, logs: dict[tuple[str, str], _Span], spans: list[_Span]) -> None:
    """GenAI events exported as OTLP log records join a pseudo-span per (trace, span) id."""
    attributes = _attributes(record.get("attributes"))
    name = scalar_text(record.get("eventName")) or scalar_text(attributes.get("event.name"))
    if not name.startswith("gen_ai."):
        return
    body = _any_value(record.get("body")) if isinstance(record.get("body"), dict) else None
    if isinstance(body, dict):
        attributes = {**body, **attributes}
    elif body is not None:
        attributes.setdefault("content", body)
    time = _nanos(record.get("timeUnixNano"), None) or _nanos(record.get("observedTimeUnixNano"), None)
    key = (scalar_text(record.get("traceId")), scalar_text(record.get("spanId")))
    span = logs.get(key)
    if span is None or not key[1]:
        span = _Span(len(spans), key[0], key[1], "", "", time, time, {})
        logs[key] = span
        spans.append(span)
    if name == _DETAILS_EVENT:
        span.attributes.update(attributes)
    else:
        span.events.append(_Event(name, time, attributes))
    if time is not None:
        span.end = max(span.end or time, time)


def _attributes(value: Any) -> dict[str, Any]:
    """OTLP ``[{key, value: AnyValue}]`` or an SDK-style plain mapping, as a plain dict."""
    if isinstance(value, dict):
        return {str(key): item for key, item in value.items()}
    attributes: dict[str, Any] = {}
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            attributes[item["key"]] = _any_value(item.get("value"))
    return attributes


def _any_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        number = value["intValue"]
        if isinstance(number, str):
            try:
                return int(number)
            except ValueError:
                return number
        return number
    for key in ("boolValue", "doubleValue", "bytesValue"):
        if key in value:
            return value[key]
    if "arrayValue" in value:
        array = value["arrayValue"]
        items = array.get("values") if isinstance(array, dict) else None
        return [_any_value(item) for item in items] if isinstance(items, list) else []
    if "kvlistValue" in value:
        kvlist = value["kvlistValue"]
        return _attributes(kvlist.get("values") if isinstance(kvlist, dict) else None)
    return value or None


def _mentions_gen_ai(value: Any, budget: list[int]) -> bool:
    """Whether an OTLP object, span list or span carries gen_ai.* attributes or events (bounded)."""
    if isinstance(value, list):
        return any(_mentions_gen_ai(item, budget) for item in value[:_DETECT_SPANS] if budget[0] > 0)
    if not isinstance(value, dict):
        return False
    if "resourceSpans" in value or "resourceLogs" in value:
        for scope in _scopes_quiet(value.get("resourceSpans"), ("scopeSpans", "instrumentationLibrarySpans")):
            spans = scope.get("spans")
            if isinstance(spans, list) and any(_mentions_gen_ai(span, budget) for span in spans):
                return True
        for scope in _scopes_quiet(value.get("resourceLogs"), ("scopeLogs", "instrumentationLibraryLogs")):
            records = scope.get("logRecords")
            for record in records if isinstance(records, list) else []:
                if isinstance(record, dict) and (
                    scalar_text(record.get("eventName")).startswith("gen_ai.")
                    or _has_gen_ai_key(record.get("attributes"))
                ):
                    return True
        return False
    if not _looks_like_span(value):
        return False
    budget[0] -= 1
    if _has_gen_ai_key(value.get("attributes")):
        return True
    events = value.get("events")
    return isinstance(events, list) and any(
        isinstance(event, dict) and scalar_text(event.get("name")).startswith("gen_ai.") for event in events
    )


def _scopes_quiet(resources: Any, scope_keys: tuple[str, ...]) -> list[dict]:
    try:
        return _scopes(resources, "", scope_keys)
    except TranscriptError:
        return []


def _has_gen_ai_key(attributes: Any) -> bool:
    if isinstance(attributes, dict):
        return any(isinstance(key, str) and key.startswith("gen_ai.") for key in attributes)
    if isinstance(attributes, list):
        return any(
            isinstance(item, dict) and isinstance(item.get("key"), str) and item["key"].startswith("gen_ai.")
            for item in attributes
        )
    return False


# --- Messages on a span -------------------------------------------------------------------------


@dataclass
class _Exchange:
    """What one span says: the messages it sent (system instructions first) and received."""

    inputs: list[dict]
    outputs: list[dict]


def _exchange(span: _Span, warnings: list[str]) -> _Exchange | None:
    sources = [span.attributes] + [event.attributes for event in span.events if event.name == _DETAILS_EVENT]
    for attributes in sources:
        keys = ("gen_ai.system_instructions", "gen_ai.input.messages", "gen_ai.output.messages")
        if any(key in attributes for key in keys):
            inputs = []
            instructions = _decoded(attributes.get("gen_ai.system_instructions"), span, keys[0], warnings)
            if isinstance(instructions, str):
                instructions = [{"type": "text", "content": instructions}]
            elif isinstance(instructions, dict):
                instructions = [instructions]
            if isinstance(instructions, list) and instructions:
                inputs.append({"role": "system", "parts": instructions})
            inputs += _messages(_decoded(attributes.get(keys[1]), span, keys[1], warnings), "user")
            outputs = _messages(_decoded(attributes.get(keys[2]), span, keys[2], warnings), "assistant")
            return _Exchange(inputs, outputs)
    exchange = _legacy_events(span, warnings)
    if exchange is not None:
        return exchange
    return _legacy_attributes(span, warnings)


def _legacy_events(span: _Span, warnings: list[str]) -> _Exchange | None:
    inputs: list[dict] = []
    outputs: list[dict] = []
    found = False
    for event in span.events:
        attributes = event.attributes
        body = _decoded(attributes.get("gen_ai.event.content"), span, "gen_ai.event.content", warnings)
        if isinstance(body, dict):
            attributes = {**attributes, **body}
        if event.name in _LEGACY_EVENTS:
            found = True
            inputs += _messages([attributes], _LEGACY_EVENTS[event.name])
        elif event.name == "gen_ai.choice":
            found = True
            message = attributes.get("message")
            if isinstance(message, str):
                message = _json_or_text(message)
            if isinstance(message, dict):
                outputs += _messages([message], "assistant")
            elif message is not None:
                outputs += _messages([{"role": "assistant", "content": message}], "assistant")
            else:
                outputs += _messages([attributes], "assistant")
        elif event.name == "gen_ai.content.prompt":
            found = True
            inputs += _prompt(attributes.get("gen_ai.prompt"), "user")
        elif event.name == "gen_ai.content.completion":
            found = True
            outputs += _prompt(attributes.get("gen_ai.completion"), "assistant")
    return _Exchange(inputs, outputs) if found else None


def _legacy_attributes(span: _Span, warnings: list[str]) -> _Exchange | None:
    attributes = span.attributes
    if "gen_ai.prompt" in attributes or "gen_ai.completion" in attributes:
        return _Exchange(
            _prompt(attributes.get("gen_ai.prompt"), "user"), _prompt(attributes.get("gen_ai.completion"), "assistant")
        )
    # OpenLLMetry: gen_ai.prompt.0.role, gen_ai.completion.0.tool_calls.1.name, ...
    sides: dict[str, dict[int, tuple[dict, dict, dict]]] = {"prompt": {}, "completion": {}}
    for key, value in attributes.items():
        match = _FLAT.match(key)
        if not match:
            continue
        fields, calls, legacy_call = sides[match["side"]].setdefault(int(match["n"]), ({}, {}, {}))
        rest = match["rest"]
        call = _FLAT_CALL.match(rest)
        if call:
            calls.setdefault(int(call["n"]), {})[call["key"]] = value
        elif rest.startswith("function_call."):
            legacy_call[rest.removeprefix("function_call.")] = value
        else:
            fields[rest] = value
    if not sides["prompt"] and not sides["completion"]:
        return None
    flattened = []
    for side, default in (("prompt", "user"), ("completion", "assistant")):
        messages = []
        for _, (fields, calls, legacy_call) in sorted(sides[side].items()):
            message = {key: value for key, value in fields.items() if key not in ("tool_calls", "function_call")}
            if calls:
                message["tool_calls"] = [call for _, call in sorted(calls.items())]
            if legacy_call:
                message["function_call"] = legacy_call
            messages.append(message)
        flattened.append(_messages(messages, default))
    return _Exchange(*flattened)


def _prompt(value: Any, default_role: str) -> list[dict]:
    """The removed ``gen_ai.prompt`` / ``gen_ai.completion``: a JSON list of messages or choices, or text."""
    if isinstance(value, str):
        value = _json_or_text(value)
    if value is None:
        return []
    if isinstance(value, str):
        return _messages([{"role": default_role, "content": value}], default_role)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return _messages([{"role": default_role, "content": scalar_text(value)}], default_role)
    messages = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("message"), dict):
            item = item["message"]  # a completion choice
        elif isinstance(item, dict) and "text" in item and "role" not in item:
            item = {"role": default_role, "content": item.get("text")}  # a text-completion choice
        messages.append(item)
    return _messages(messages, default_role)


def _decoded(value: Any, span: _Span, key: str, warnings: list[str]) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            if key == "gen_ai.system_instructions":
                return value
            warnings.append(
                f"The {key} of {span.describe()} is not valid JSON (cut short by an exporter?) and was ignored."
            )
            return None
    return value


def _messages(value: Any, default_role: str) -> list[dict]:
    """Messages in the current schema ``{role, parts}``, converted from the older shapes as needed."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    messages = []
    for item in value:
        if isinstance(item, str):
            item = {"role": default_role, "content": item}
        if not isinstance(item, dict):
            continue
        role = item.get("role") if isinstance(item.get("role"), str) and item.get("role") else default_role
        parts: list[Any] = []
        if isinstance(item.get("parts"), list):
            parts = list(item["parts"])
        else:
            content = item.get("content")
            if isinstance(content, str):
                content = _blocks_or_text(content)
            if isinstance(content, str):
                parts.append({"type": "text", "content": content})
            elif isinstance(content, list):
                parts.extend(content)
            elif isinstance(content, dict):
                parts.append(content)
            tool_calls = item.get("tool_calls")
            if isinstance(tool_calls, str):
                tool_calls = _json_or_text(tool_calls)
            for call in tool_calls if isinstance(tool_calls, list) else []:
                if isinstance(call, dict):
                    function = call.get("function") if isinstance(call.get("function"), dict) else call
                    parts.append(
                        {
                            "type": "tool_call",
                            "id": call.get("id"),
                            "name": function.get("name"),
                            "arguments": function.get("arguments"),
                        }
                    )
            legacy_call = item.get("function_call")
            if isinstance(legacy_call, dict):
                parts.append({"type": "tool_call", "id": None, **legacy_call})
            if _ROLE_NAMES.get(role.lower()) == "tool":
                call_id = item.get("tool_call_id") or item.get("id")
                texts = [_part_text(part) for part in parts]
                if all(text is not None for text in texts):
                    parts = [{"type": "tool_call_response", "id": call_id, "response": "\n\n".join(texts)}]
        messages.append({"role": role, "parts": parts})
    return messages


def _part_text(part: Any) -> str | None:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and part.get("type") in ("text", None):
        text = part.get("content", part.get("text"))
        return text if isinstance(text, str) else None
    return None


def _key(message: dict) -> str:
    """What two records of the same message share, whichever span (input or output side) wrote it."""
    pieces: list[Any] = [_ROLE_NAMES.get(message["role"].lower(), message["role"])]
    for part in message["parts"]:
        if isinstance(part, str):
            pieces.append(("t", " ".join(part.split())))
            continue
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("reasoning", "thinking"):
            continue  # often dropped when a message is sent back as history
        text = _part_text(part)
        if text is not None:
            if text.strip():
                pieces.append(("t", " ".join(text.split())))
        elif kind == "tool_call":
            pieces.append(("c", scalar_text(part.get("id")), scalar_text(part.get("name"))))
        elif kind == "tool_call_response":
            pieces.append(("r", scalar_text(part.get("id")), " ".join(_response_text(part).split())))
        else:
            pieces.append(("o", scalar_text(kind)))
    return json.dumps(pieces, ensure_ascii=False)


def _response_text(part: dict) -> str:
    response = part.get("response", part.get("result"))
    if isinstance(response, str):
        return response
    if response is None:
        return ""
    return json.dumps(response, ensure_ascii=False)


def _overlap(previous: list[str], current: list[str]) -> tuple[int, bool]:
    """How many leading messages of ``current`` were already seen in ``previous``.

    Usually ``current`` starts with all of ``previous`` (history, then what is new); a trimmed
    context starts with a tail of it. Otherwise the common prefix counts, and the rest diverges.
    """
    if not previous or not current:
        return 0, False
    first = current[0]
    for position, key in enumerate(previous):
        if key == first:
            length = len(previous) - position
            if length <= len(current) and previous[position:] == current[:length]:
                return length, False
    common = 0
    while common < min(len(previous), len(current)) and previous[common] == current[common]:
        common += 1
    return common, common > 0


# --- Building the conversation ------------------------------------------------------------------


@dataclass
class _Conversation:
    id: str
    spans: list[_Span] = field(default_factory=list)
    label: str = ""


class _Reader:
    def __init__(self, spans: list[_Span], warnings: list[str]) -> None:
        self.spans = sorted(spans, key=lambda span: (span.start is None, span.start or 0, span.order))
        self.warnings = warnings

    def parse(self, wanted: str | None) -> ParsedTranscript:
        if not any(_gen_ai(span) for span in self.spans):
            raise TranscriptError("No spans with gen_ai.* attributes or events were found.")
        exchanges = {span.order: _exchange(span, self.warnings) for span in self.spans}
        conversations = self._conversations(exchanges)
        if not conversations:
            raise TranscriptError(
                "The GenAI spans carry no message content (gen_ai.input.messages / gen_ai.output.messages); "
                "export them with content capture on, e.g. OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true."
            )
        samples = [{"id": item.id, "label": item.label or item.id} for item in conversations]
        chosen = conversations[select_sample(samples, wanted)]
        turns = _Builder(self.warnings).build(chosen.spans, exchanges)
        if not turns:
            raise TranscriptError(f"Conversation {chosen.id!r} holds no messages.")
        several = len(conversations) > 1
        return ParsedTranscript(
            format=FORMAT_ID,
            turns=turns,
            warnings=self.warnings,
            samples=samples if several else [],
            sample=chosen.id if several else None,
        )

    def _conversations(self, exchanges: dict[int, _Exchange | None]) -> list[_Conversation]:
        """Traces, joined when they share a gen_ai.conversation.id; only those with content."""
        conversation_of_trace: dict[str, str] = {}
        for span in self.spans:
            conversation = span.attributes.get("gen_ai.conversation.id")
            if isinstance(conversation, str | int) and not isinstance(conversation, bool) and str(conversation):
                conversation_of_trace.setdefault(span.trace_id, str(conversation))
        conversations: dict[str, _Conversation] = {}
        for span in self.spans:
            key = conversation_of_trace.get(span.trace_id, span.trace_id)
            conversations.setdefault(key, _Conversation(id=key or "trace")).spans.append(span)
        kept = []
        for conversation in conversations.values():
            if any(_carries(exchanges[span.order]) or _tool_result(span) is not None for span in conversation.spans):
                conversation.label = _conversation_label(conversation.spans, exchanges)
                kept.append(conversation)
        return kept


def _carries(exchange: _Exchange | None) -> bool:
    return exchange is not None and bool(exchange.inputs or exchange.outputs)


def _gen_ai(span: _Span) -> bool:
    return any(key.startswith("gen_ai.") for key in span.attributes) or any(
        event.name.startswith("gen_ai.") for event in span.events
    )


def _conversation_label(spans: list[_Span], exchanges: dict[int, _Exchange | None]) -> str:
    for span in spans:
        exchange = exchanges[span.order]
        for message in exchange.inputs if exchange else []:
            if _ROLE_NAMES.get(message["role"].lower()) == "user":
                texts = [text for text in map(_part_text, message["parts"]) if text]
                text = " ".join(" ".join(texts).split())
                if text:
                    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"
    return ""


def _tool_result(span: _Span) -> dict | None:
    """An execute_tool span's call and result, when it recorded them."""
    if span.operation != "execute_tool" and not span.name.startswith("execute_tool"):
        return None
    attributes = span.attributes
    arguments = attributes.get("gen_ai.tool.call.arguments")
    result = attributes.get("gen_ai.tool.call.result")
    error = attributes.get("error.type") or span.error
    if arguments is None and result is None and not error:
        return None
    name = attributes.get("gen_ai.tool.name")
    if not isinstance(name, str) or not name:
        name = span.name.removeprefix("execute_tool").strip()
    return {
        "id": scalar_text(attributes.get("gen_ai.tool.call.id")) or None,
        "name": name,
        "arguments": arguments,
        "result": result,
        "error": scalar_text(error) if error else None,
    }


class _Builder:
    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.turns: list[dict] = []
        self.calls: set[str] = set()  # tool call ids already shown
        self.results: set[str] = set()  # tool call ids whose result is already shown
        self.roles_seen: set[str] = set()

    def build(self, spans: list[_Span], exchanges: dict[int, _Exchange | None]) -> list[dict]:
        skip = self._aggregates(spans, exchanges)
        contexts: dict[str, list[str]] = {}  # first message -> latest context that began with it
        last: list[str] = []
        diverged = 0
        synthetic = False
        for span in spans:
            exchange = exchanges[span.order]
            if exchange is not None and _carries(exchange) and span.order not in skip:
                messages = exchange.inputs + exchange.outputs
                keys = [_key(message) for message in messages]
                best, split = max(
                    _overlap(contexts.get(keys[0], []), keys), _overlap(last, keys), key=lambda found: found[0]
                )
                diverged += split
                for position in range(best, len(messages)):
                    is_input = position < len(exchange.inputs)
                    when = span.start if is_input else (span.end or span.start)
                    self._emit(messages[position], when)
                contexts[keys[0]] = keys
                last = keys
                continue
            result = _tool_result(span)
            if result is not None and (result["id"] is None or result["id"] not in self.results):
                synthetic |= self._emit_tool_span(result, span)
        if skip:
            self.warnings.append(
                f"{len(skip)} agent-level span(s) were not read because their child spans record the same "
                "conversation in more detail."
            )
        if diverged:
            self.warnings.append(
                f"{diverged} span(s) sent a history that differs from the one recorded before; their differing "
                "messages were added as new turns."
            )
        if synthetic:
            self.warnings.append(
                "Some tool calls were only recorded by execute_tool spans; they are shown as assistant tool calls."
            )
        for role in sorted(self.roles_seen):
            self.warnings.append(f"Messages with the role {role!r} are shown as user turns.")
        return self.turns

    def _aggregates(self, spans: list[_Span], exchanges: dict[int, _Exchange | None]) -> set[int]:
        """Spans (e.g. invoke_agent) whose descendants also carry messages."""
        by_id = {span.span_id: span for span in spans if span.span_id}
        with_messages = [
            span
            for span in spans
            if exchanges[span.order] is not None and (exchanges[span.order].inputs or exchanges[span.order].outputs)
        ]
        carrying = {span.order for span in with_messages}
        skip: set[int] = set()
        for span in with_messages:
            seen = {span.span_id}
            parent = by_id.get(span.parent_id)
            while parent is not None and parent.span_id not in seen:
                seen.add(parent.span_id)
                if parent.order in carrying:
                    skip.add(parent.order)
                parent = by_id.get(parent.parent_id)
        return skip

    def _emit(self, message: dict, when: int | None) -> None:
        original = message["role"]
        role = _ROLE_NAMES.get(original.lower())
        texts: list[str] = []
        reasoning: list[str] = []
        calls: list[dict] = []
        raw: list[dict] = []
        responses: list[tuple[str | None, str]] = []
        if role is None:
            self.roles_seen.add(original)
            raw.append({"type": "role", "data": {"role": original}})
            role = "user"
        for part in message["parts"]:
            self._part(part, texts, reasoning, calls, raw, responses)
        timestamp = _iso(when)
        for call_id, text in responses:
            if call_id is not None and call_id in self.results:
                continue
            self._turn("tool", text, tool_call_id=call_id, timestamp=timestamp)
            if call_id is not None:
                self.results.add(call_id)
        if responses and not (texts or reasoning or calls or raw):
            return
        self._turn(
            role,
            "\n\n".join(texts),
            tool_calls=calls,
            reasoning="\n\n".join(reasoning) or None,
            timestamp=timestamp,
            raw=raw,
        )

    def _part(
        self,
        part: Any,
        texts: list[str],
        reasoning: list[str],
        calls: list[dict],
        raw: list[dict],
        responses: list[tuple[str | None, str]],
    ) -> None:
        if isinstance(part, str):
            texts.append(part)
            return
        if not isinstance(part, dict):
            raw.append({"type": "unknown", "data": drop_base64(part)})
            return
        kind = part.get("type")
        if kind is None:
            part, kind = _converse_block(part)
        text = part.get("content", part.get("text"))
        if kind in ("text", None) and isinstance(text, str):
            texts.append(text)
        elif kind in ("reasoning", "thinking"):
            thought = part.get("content", part.get("thinking", part.get("text")))
            if isinstance(thought, str) and thought:
                reasoning.append(thought)
            else:
                raw.append({"type": scalar_text(kind), "data": drop_base64(part)})
        elif kind in ("tool_call", "tool_use", "function_call"):
            call_id = scalar_text(part.get("id") or part.get("call_id")) or None
            arguments = part.get("arguments", part.get("input"))
            calls.append(tool_call(call_id, scalar_text(part.get("name")), arguments))
            if call_id:
                self.calls.add(call_id)
        elif kind in ("tool_call_response", "tool_result", "function_call_output"):
            call_id = scalar_text(part.get("id") or part.get("tool_use_id") or part.get("call_id")) or None
            if kind == "tool_call_response":
                responses.append((call_id, _response_text(part)))
            else:
                content = part.get("content", part.get("output"))
                responses.append(
                    (call_id, content if isinstance(content, str) else _response_text({"response": content}))
                )
        else:
            data = {key: value for key, value in part.items() if key != "type"}
            if kind == "blob" and isinstance(data.get("content"), str):
                data["content"] = f"[{len(data['content'])} characters of base64 data removed]"
            raw.append({"type": scalar_text(kind) or "unknown", "data": drop_base64(data)})

    def _emit_tool_span(self, result: dict, span: _Span) -> bool:
        """A tool result from an execute_tool span; returns True when its call had to be shown too."""
        synthetic = False
        call_id = result["id"]
        if call_id is None or call_id not in self.calls:
            self._turn(
                "assistant",
                "",
                tool_calls=[tool_call(call_id, result["name"], result["arguments"])],
                timestamp=_iso(span.start),
            )
            if call_id:
                self.calls.add(call_id)
            synthetic = True
        if result["result"] is not None or result["error"]:
            response = result["result"]
            content = response if isinstance(response, str) else _response_text({"response": response})
            raw = []
            if result["error"]:
                raw.append({"type": "tool_error", "data": {"error": result["error"]}})
                content = content or f"Error: {result['error']}"
            self._turn("tool", content, tool_call_id=call_id, timestamp=_iso(span.end or span.start), raw=raw)
            if call_id:
                self.results.add(call_id)
        return synthetic

    def _turn(self, role: str, content: str, **fields: Any) -> None:
        self.turns.append(make_turn(len(self.turns), role, content, **fields))


# --- Small helpers ------------------------------------------------------------------------------


def _converse_block(block: dict) -> tuple[dict, Any]:
    """Bedrock Converse content blocks (no ``type``; written by e.g. Strands) in the part shapes."""
    use = block.get("toolUse")
    if isinstance(use, dict):
        return {"id": use.get("toolUseId"), "name": use.get("name"), "arguments": use.get("input")}, "tool_call"
    result = block.get("toolResult")
    if isinstance(result, dict):
        content = result.get("content")
        texts = [item.get("text") for item in content if isinstance(item, dict)] if isinstance(content, list) else []
        if texts and all(isinstance(text, str) for text in texts):
            content = "\n\n".join(texts)
        return {"id": result.get("toolUseId"), "response": content}, "tool_call_response"
    reasoning = block.get("reasoningContent")
    if isinstance(reasoning, dict):
        text = reasoning.get("reasoningText")
        text = text.get("text") if isinstance(text, dict) else None
        if isinstance(text, str):
            return {"content": text}, "reasoning"
        return block, "reasoningContent"
    return block, None


def _json_or_text(text: str) -> Any:
    """A JSON string attribute parsed, or the text itself when it is not a JSON object or list."""
    if not text.lstrip().startswith(("[", "{")):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


_BLOCK_KEYS = {"type", "text", "toolUse", "toolResult", "reasoningContent"}


def _blocks_or_text(text: str) -> Any:
    """Message content that some instrumentations store as a JSON list of provider content blocks
    (``[{"text": ...}, {"toolUse": ...}]``); any other text stays text."""
    value = _json_or_text(text)
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, dict) and _BLOCK_KEYS & item.keys() for item in value)
    ):
        return value
    return text


def _nanos(unix_nano: Any, other: Any) -> int | None:
    """Nanoseconds since the epoch from an OTLP ``*UnixNano`` (decimal string or int), else from
    an SDK-style ISO 8601 string or unix seconds."""
    if isinstance(unix_nano, str) and unix_nano.isdecimal():
        try:
            unix_nano = int(unix_nano)
        except ValueError:
            return None
    if isinstance(unix_nano, int) and not isinstance(unix_nano, bool) and unix_nano > 0:
        return unix_nano
    if isinstance(other, str) and other:
        try:
            moment = datetime.fromisoformat(other)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
        except OverflowError:
            return None
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    if isinstance(other, int | float) and not isinstance(other, bool) and other > 0:
        try:
            return int(other * 1_000_000_000)
        except (OverflowError, ValueError):
            return None
    return None


def _iso(nanos: int | None) -> str | None:
    if not nanos:
        return None
    seconds, rest = divmod(nanos, 1_000_000_000)
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=rest // 1000)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat()
