"""OpenAI Responses API: a request ``{"input": [...], "instructions": ...}``, a Response object
``{"output": [...], "instructions": ..., "created_at": ...}``, both in one object (or as
``{"request": {...}, "response": {...}}``), or a bare list of items with ``type``.

Turns, in order: ``instructions`` (text → a system turn; a list → its items), then the input items, then the
output items (timestamped with the response's ``created_at``).

- ``message`` items (also the easy form ``{role, content}``) become turns of their role; ``output_text``
  annotations, refusals and images/files go as in the Chat Completions parser.
- ``reasoning`` items: their summary and reasoning text become the ``reasoning`` of the *next* assistant
  turn (the message or tool call the model produced after thinking); when a user/tool item or the end comes
  first, they become an assistant turn of their own. ``encrypted_content`` is kept in ``raw``.
- ``*_call`` items (function, custom tool, computer, local shell, shell, apply patch, MCP, web/file search,
  code interpreter, image generation, …) are tool calls of an assistant turn: consecutive calls, and calls
  right after an assistant message, share one turn, as in Chat Completions. The call id is ``call_id``
  (``id`` for items without one). Fields not modelled (status other than completed, search results,
  safety checks, …) go into ``raw``.
- ``*_output`` items are ``tool`` turns paired by ``call_id``; an ``mcp_call`` carries its own output, which
  becomes a tool turn after the call.
- Anything else (``mcp_list_tools``, ``mcp_approval_request``, ``compaction``, ``item_reference``, unknown
  types) goes into ``raw`` on an assistant turn.

``ItemReader`` is usable on its own by parsers of logs made of Responses API items.
"""

from __future__ import annotations

import re
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, make_turn, tool_call
from incidents.transcripts.common import parser_errors
from incidents.transcripts.openai_chat import (
    Context,
    as_text,
    cap_warnings,
    check_pairing,
    choose_sample,
    content_text,
    iso_time,
    join,
    kind,
    optional_id,
    strip_payloads,
)

FORMAT_ID = "openai-responses"
LABEL = "OpenAI Responses API (input / output items JSON)"

MESSAGE_ROLES = ("user", "assistant", "system", "developer")

# Call items: the tool name (None: read the item's "name") and where the arguments are (one key, or the keys
# gathered into an object).
CALLS: dict[str, tuple[str | None, str | tuple[str, ...]]] = {
    "function_call": (None, "arguments"),
    "custom_tool_call": (None, "input"),
    "mcp_call": (None, "arguments"),
    "computer_call": ("computer", ("action", "actions")),
    "local_shell_call": ("local_shell", "action"),
    "shell_call": ("shell", "action"),
    "apply_patch_call": ("apply_patch", "operation"),
    "web_search_call": ("web_search", "action"),
    "file_search_call": ("file_search", ("queries",)),
    "code_interpreter_call": ("code_interpreter", ("code", "container_id")),
    "image_generation_call": ("image_generation", ()),
    "tool_search_call": ("tool_search", ("query", "arguments")),
}
_GENERIC_ARGUMENT_KEYS = ("arguments", "action", "input", "operation")

# What an item type looks like, for detection: message, reasoning, …_call, …_output, mcp_…, etc.
_ITEM_TYPE = re.compile(r"(message|reasoning|compaction|item_reference|mcp_[a-z_]+|[a-z_]+_call|[a-z_]+_output)\Z")
_RESPONSES_PARTS = frozenset({"input_text", "output_text", "input_image", "input_file", "input_audio", "refusal"})
# Top-level keys of other formats (chat messages, Inspect samples and logs, Anthropic, Gemini, ShareGPT).
_FOREIGN_KEYS = frozenset({"messages", "epoch", "samples", "target", "system", "contents", "conversations", "choices"})
_EMPTY = (None, "", [], {})


class ItemReader:
    """Builds turns from Responses API items fed in order (see the module notes for the grouping rules)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.turns: list[dict] = []
        self._open: dict | None = None  # the assistant turn that a following tool call joins
        self._reasoning: list[str] = []
        self._reasoning_raw: list[dict] = []
        self._reasoning_time: str | None = None

    # -- feeding --

    def text(self, role: str, text: str, *, timestamp: str | None = None) -> None:
        """A plain text turn (``instructions`` or a string ``input``)."""
        self.flush()
        self.turns.append(make_turn(len(self.turns), role, text, timestamp=timestamp))

    def add(self, item: Any, path: str, *, timestamp: str | None = None) -> None:
        ctx = self.ctx
        turn = len(self.turns)
        if not isinstance(item, dict):
            raise ctx.error(f"expected an item object with a type or a role; got {kind(item)}", path, turn)
        item_type = item.get("type")
        if item_type is None:
            if "role" not in item:
                raise ctx.error("expected an item with a 'type' or a 'role'", path, turn)
            item_type = "message"
        if not isinstance(item_type, str):
            raise ctx.error(f"expected the item type as text; got {kind(item_type)}", join(path, "type"), turn)
        if item_type == "message":
            self._message(item, path, timestamp)
        elif item_type == "reasoning":
            self._reasoning_item(item, path, timestamp)
        elif item_type in CALLS or item_type.endswith("_call"):
            self._call(item_type, item, path, timestamp)
        elif item_type.endswith("_output"):
            self._output(item_type, item, path, timestamp)
        else:
            if item_type == "item_reference":
                ctx.warnings.append(
                    f"{path} refers to a stored item ({as_text(item.get('id'))}) whose content is not in the file."
                )
            elif item_type == "compaction":
                ctx.warnings.append(f"{path} replaces earlier turns with a compacted, encrypted summary.")
            target = self._assistant(timestamp, join_open=True)
            target["raw"].append({"type": item_type, "data": strip_payloads(item)})

    def flush(self) -> None:
        """Close the open assistant turn; pending reasoning becomes an assistant turn of its own."""
        if self._reasoning or self._reasoning_raw:
            self._assistant(self._reasoning_time, join_open=False)
        self._open = None

    def finish(self) -> list[dict]:
        self.flush()
        return self.turns

    # -- item kinds --

    def _message(self, item: dict, path: str, timestamp: str | None) -> None:
        ctx = self.ctx
        role = item.get("role")
        if role not in MESSAGE_ROLES:
            got = repr(role) if isinstance(role, str) else "nothing" if role is None else kind(role)
            raise ctx.error(
                f"expected one of {', '.join(MESSAGE_ROLES)}; got {got}", join(path, "role"), len(self.turns)
            )
        if role != "assistant":
            self.flush()  # pending reasoning takes its own turn before this one
        text, raw, reasoning = content_text(
            item.get("content"), ctx=ctx, path=join(path, "content"), turn=len(self.turns)
        )
        rest = _rest(item, ("type", "id", "role", "content"))
        if rest:
            raw.append({"type": "message", "data": strip_payloads(rest)})
        if role == "assistant":
            turn = self._assistant(timestamp, join_open=False, reasoning=reasoning)
            turn["content"] = text
            turn["raw"].extend(raw)
            return
        self.turns.append(
            make_turn(
                len(self.turns), role, text, reasoning="\n\n".join(reasoning) or None, timestamp=timestamp, raw=raw
            )
        )

    def _reasoning_item(self, item: dict, path: str, timestamp: str | None) -> None:
        raw: list[dict] = []
        for key in ("summary", "content"):
            parts = item.get(key)
            if parts in _EMPTY:
                continue
            if isinstance(parts, str):
                self._reasoning.append(parts)
                continue
            if not isinstance(parts, list):
                raw.append({"type": f"reasoning_{key}", "data": strip_payloads(parts)})
                continue
            for part in parts:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    self._reasoning.append(part["text"])
                elif isinstance(part, str):
                    self._reasoning.append(part)
                else:
                    raw.append({"type": f"reasoning_{key}", "data": strip_payloads(part)})
        opaque = _rest(item, ("type", "summary", "content"))
        if "encrypted_content" in opaque:  # opaque, but it is what the model thought: keep it, with its id
            raw.append({"type": "reasoning", "data": opaque})
        elif len(opaque) > 1 or (opaque and "id" not in opaque):
            raw.append({"type": "reasoning", "data": strip_payloads(opaque)})
        self._reasoning_raw.extend(raw)
        self._reasoning_time = self._reasoning_time or timestamp

    def _call(self, item_type: str, item: dict, path: str, timestamp: str | None) -> None:
        ctx = self.ctx
        fixed_name, where = CALLS.get(item_type, (None, _GENERIC_ARGUMENT_KEYS))
        name = fixed_name
        if name is None:
            name = item.get("name")
            if not isinstance(name, str):
                if item_type in CALLS:
                    raise ctx.error(
                        f"expected the tool name as text; got {kind(name)}", join(path, "name"), len(self.turns)
                    )
                name = item_type.removesuffix("_call")
        # The item's own "id" only names the item: results are paired by "call_id" (or "id" for items without).
        consumed = {"type", "id", "call_id"} | ({"name"} if name == item.get("name") else set())
        call_id = optional_id(item.get("call_id"))
        if call_id is None:
            call_id = optional_id(item.get("id"))
        if isinstance(where, str):
            arguments = item.get(where, {})
            consumed.add(where)
        elif where is _GENERIC_ARGUMENT_KEYS:
            key = next((key for key in where if key in item), None)
            arguments = item[key] if key else {}
            consumed.add(key or "")
        else:
            arguments = {key: item[key] for key in where if key in item}
            consumed.update(where)
        if item_type == "custom_tool_call":
            call = tool_call(call_id, name, None)
            call["arguments"] = arguments  # free text, not JSON: keep it exactly as given
        else:
            call = tool_call(call_id, name, arguments)
        if item_type == "mcp_call":
            consumed.update(("output", "error"))
        turn = self._assistant(timestamp, join_open=True)
        turn["tool_calls"].append(call)
        rest = _rest(item, consumed)
        if rest:
            turn["raw"].append({"type": item_type, "data": strip_payloads(rest)})
        if item_type == "mcp_call" and (item.get("output") is not None or item.get("error") is not None):
            # A hosted MCP call carries its result: show it as the tool's answer.
            error = item.get("error")
            texts = [as_text(item.get("output")), as_text(error)]
            self.flush()
            raw = [{"type": "error", "data": strip_payloads(error)}] if error is not None else []
            self.turns.append(
                make_turn(
                    len(self.turns),
                    "tool",
                    "\n\n".join(text for text in texts if text),
                    tool_call_id=call_id,
                    timestamp=timestamp,
                    raw=raw,
                )
            )

    def _output(self, item_type: str, item: dict, path: str, timestamp: str | None) -> None:
        ctx = self.ctx
        self.flush()
        index = len(self.turns)
        call_id = optional_id(item.get("call_id"))
        if call_id is None and item_type == "local_shell_call_output":  # its "id" is the call's id
            call_id = optional_id(item.get("id"))
        if call_id is None:
            ctx.warnings.append(f"{path} is a tool output without a call_id.")
        consumed = ("type", "id", "call_id", "output")
        output = item.get("output")
        raw: list[dict] = []
        reasoning: list[str] = []
        if isinstance(output, list) and output and all(_is_shell_result(entry) for entry in output):
            texts = [entry[key] for entry in output for key in ("stdout", "stderr") if entry.get(key)]
            text = "\n\n".join(text for text in texts if isinstance(text, str))
            outcomes = [{k: v for k, v in entry.items() if k not in ("stdout", "stderr")} for entry in output]
            if any(outcomes):
                raw.append({"type": "shell_outcome", "data": strip_payloads(outcomes)})
        elif isinstance(output, list) or (isinstance(output, dict) and "type" in output):
            text, raw, reasoning = content_text(output, ctx=ctx, path=join(path, "output"), turn=index)
        else:
            text = as_text(output)
        rest = _rest(item, consumed)
        if rest:
            raw.append({"type": item_type, "data": strip_payloads(rest)})
        self.turns.append(
            make_turn(
                index,
                "tool",
                text,
                tool_call_id=call_id,
                reasoning="\n\n".join(reasoning) or None,
                timestamp=timestamp,
                raw=raw,
            )
        )

    def _assistant(self, timestamp: str | None, *, join_open: bool, reasoning: list[str] | None = None) -> dict:
        """The open assistant turn (if joining and no reasoning is pending), else a new one that takes the
        pending reasoning."""
        if join_open and self._open is not None and not (self._reasoning or self._reasoning_raw):
            return self._open
        texts = [*self._reasoning, *(reasoning or [])]
        turn = make_turn(
            len(self.turns),
            "assistant",
            "",
            reasoning="\n\n".join(texts) or None,
            timestamp=self._reasoning_time or timestamp,
            raw=list(self._reasoning_raw),
        )
        self.turns.append(turn)
        self._reasoning, self._reasoning_raw, self._reasoning_time = [], [], None
        self._open = turn
        return turn


def _rest(item: dict, consumed: Any) -> dict:
    """The fields of an item that no turn field holds (empty values and a completed status left out)."""
    return {
        key: value
        for key, value in item.items()
        if key not in consumed and not (key == "status" and value == "completed") and value not in _EMPTY
    }


def _is_shell_result(entry: Any) -> bool:
    return isinstance(entry, dict) and ("stdout" in entry or "stderr" in entry) and "type" not in entry


# --- whole files -----------------------------------------------------------------------------------------------


def _split(data: dict) -> tuple[dict | None, dict | None, str, str]:
    """The request and response parts of a top-level object, and how error messages name each."""
    if "input" not in data and "output" not in data and ("request" in data or "response" in data):
        request = data.get("request") if isinstance(data.get("request"), dict) else None
        response = data.get("response") if isinstance(data.get("response"), dict) else None
        return request, response, "request.", "response."
    request = data if ("input" in data or "instructions" in data) else None
    response = data if "output" in data else None
    return request, response, "", ""


def _parse(data: Any, ctx: Context) -> list[dict]:
    reader = ItemReader(ctx)
    if isinstance(data, list):
        for position, item in enumerate(data):
            reader.add(item, f"[{position}]")
        return reader.finish()
    if not isinstance(data, dict):
        raise ctx.error(f"expected a list of items or an object with 'input' or 'output'; got {kind(data)}")
    request, response, request_path, response_path = _split(data)
    if request is None and response is None:
        raise ctx.error("expected an object with 'input', 'output' or 'instructions', or a list of items")

    instructions, instructions_path = None, ""
    for part, prefix in ((request, request_path), (response, response_path)):
        if part is not None and part.get("instructions") is not None:
            instructions, instructions_path = part["instructions"], f"{prefix}instructions"
            break
    if isinstance(instructions, str):
        if instructions:
            reader.text("system", instructions)
    elif isinstance(instructions, list):
        for position, item in enumerate(instructions):
            reader.add(item, join(instructions_path, position))
    elif instructions is not None:
        raise ctx.error(f"expected text or a list of items; got {kind(instructions)}", instructions_path)

    if request is not None:
        _feed(reader, request.get("input"), f"{request_path}input", timestamp=None, ctx=ctx)
    reader.flush()  # the response's items start a new assistant turn
    first_output = len(reader.turns)
    if response is not None:
        timestamp = iso_time(response.get("created_at"))
        output = response.get("output")
        if output is not None and not isinstance(output, list):
            raise ctx.error(f"expected a list of output items; got {kind(output)}", f"{response_path}output")
        _feed(reader, output, f"{response_path}output", timestamp=timestamp, ctx=ctx)
    turns = reader.finish()

    _keep_metadata(data, request, response, turns, first_output)
    _warn_about_history(request, response, ctx)
    return turns


def _feed(reader: ItemReader, items: Any, path: str, *, timestamp: str | None, ctx: Context) -> None:
    if items is None:
        return
    if isinstance(items, str):
        reader.text("user", items, timestamp=timestamp)
    elif isinstance(items, list):
        for position, item in enumerate(items):
            reader.add(item, join(path, position), timestamp=timestamp)
    else:
        raise ctx.error(f"expected text or a list of items; got {kind(items)}", path)


def _keep_metadata(data: dict, request: dict | None, response: dict | None, turns: list[dict], first: int) -> None:
    """Request fields (model, tools, …) on the first turn; response fields (id, usage, …) on its first turn."""
    if not turns:
        return
    items = ("input", "output", "instructions")
    if response is not None:
        meta = {key: value for key, value in response.items() if key not in items}
        if meta:
            target = turns[first] if first < len(turns) else turns[-1]
            target["raw"].append({"type": "response", "data": strip_payloads(meta)})
    if request is not None and request is not response:
        meta = {key: value for key, value in request.items() if key not in items}
        if meta:
            turns[0]["raw"].append({"type": "request", "data": strip_payloads(meta)})
    if request is not data and response is not data:
        outer = {key: value for key, value in data.items() if key not in ("request", "response")}
        if outer:
            turns[0]["raw"].append({"type": "fields", "data": strip_payloads(outer)})


def _warn_about_history(request: dict | None, response: dict | None, ctx: Context) -> None:
    for part in (request, response):
        if part is None:
            continue
        previous = part.get("previous_response_id")
        if isinstance(previous, str) and previous:
            ctx.warnings.append(
                f"This continues an earlier response ({previous}); the turns before it are stored by OpenAI "
                "and are not in this file."
            )
            break
    if response is not None and response.get("status") in ("incomplete", "failed", "cancelled"):
        ctx.warnings.append(f"The response's status is {response['status']!r}; its last turns may be missing.")


# --- detection -------------------------------------------------------------------------------------------------


def looks_like_items(items: Any, *, require_typed: bool = True) -> bool:
    """Whether ``items`` is a non-empty list of Responses API items; with ``require_typed``, at least one must
    show it (a ``type`` or a Responses content part), since plain ``{role, content}`` lists are Chat messages."""
    if not isinstance(items, list) or not items:
        return False
    typed = False
    for item in items:
        if not isinstance(item, dict):
            return False
        item_type = item.get("type")
        if item_type is None:
            if item.get("role") not in MESSAGE_ROLES:
                return False
            content = item.get("content")
            if isinstance(content, list) and any(
                isinstance(part, dict) and part.get("type") in _RESPONSES_PARTS for part in content
            ):
                typed = True
            continue
        if not isinstance(item_type, str) or not _ITEM_TYPE.match(item_type):
            return False
        if item_type == "message" and item.get("role") not in MESSAGE_ROLES:
            return False
        typed = True
    return typed or not require_typed


def _looks_like_request(request: Any) -> bool:
    if not isinstance(request, dict) or _FOREIGN_KEYS & request.keys():
        return False
    items = request.get("input")
    if isinstance(items, str):
        return "model" in request or "instructions" in request
    return looks_like_items(items, require_typed=False)


def _looks_like_response(response: Any) -> bool:
    if not isinstance(response, dict) or _FOREIGN_KEYS & response.keys():
        return False
    output = response.get("output")
    if output == [] and response.get("object") == "response":
        return True
    return looks_like_items(output)


def detect(source: Source) -> bool:
    try:
        if not source.is_json:
            return False
        data = source.json
        if isinstance(data, list):
            return looks_like_items(data)
        if not isinstance(data, dict):
            return False
        request, response, _, _ = _split(data)
        if request is None and response is None:
            return False
        if request is not None and response is not None and request is not data:
            return _looks_like_request(request) and _looks_like_response(response)
        if response is not None:
            return _looks_like_response(response)
        return request is not None and "input" in request and _looks_like_request(request)
    except Exception:  # detection must never raise
        return False


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    ctx = Context(format_id=FORMAT_ID)
    with parser_errors(FORMAT_ID):
        turns = _parse(source.json, ctx)
    choose_sample([], sample, ctx)
    check_pairing(turns, ctx)
    return ParsedTranscript(format=FORMAT_ID, turns=turns, warnings=cap_warnings(ctx.warnings))
