"""Google Gemini ``contents`` / ``parts`` JSON: a request ``{"contents": [...], "systemInstruction": {...}}``,
a bare list of contents, a ``GenerateContentResponse`` (``{"candidates": [{"content": ...}]}``) or a
streamed response saved as a JSON list of such chunks. REST camelCase and Python SDK snake_case dumps
(where absent fields appear as ``null``) are both read.

Mapping:

- ``systemInstruction`` / ``system_instruction`` → a system turn; roles ``user`` → user, ``model`` →
  assistant; the ``functionResponse`` parts of a content become tool turns of their own (so a content of
  only function responses yields only tool turns), its other parts a user/assistant turn in order;
- ``text`` → content (joined with a blank line); ``text`` with ``thought: true`` → reasoning;
- ``functionCall`` → tool calls; ``functionResponse`` → tool turns, content = ``response.output`` when it
  is the only key (as JSON unless a string), else the whole response as JSON; an ``error`` key adds a
  ``raw`` ``tool_error`` entry;
- ``executableCode`` / ``codeExecutionResult`` (the built-in code tool, run by the service) → a
  ``code_execution`` tool call and its tool turn, like any other call: the code the model ran matters;
- ``inlineData`` / ``fileData`` → ``raw`` (type ``image`` for image MIME types), base64 data replaced by
  a length note; ``thoughtSignature`` → a ``raw`` entry with only its length (an opaque token for resuming
  reasoning, unreadable, but it shows reasoning happened); other part fields → ``raw`` under their name;
- a request's own fields (tools, generationConfig, …) → ``raw`` ``request`` on the first turn; a
  response's (usageMetadata, modelVersion, the candidate's finishReason and safetyRatings, …) → ``raw``
  ``response`` on its last turn, with a warning when it did not finish normally; Vertex AI's
  ``createTime`` → the timestamp of the response turns. Several candidates are offered as samples.

Calls often have no ``id``: such a call gets an id ``#n`` (n counting calls from 1) so its response can
be paired with it; see ``_Pairing``.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, make_turn, tool_call
from incidents.transcripts.common import (
    Segment,
    has_media_type,
    join_path,
    json_kind,
    omit_payloads,
    parser_errors,
    select_sample,
    show,
)

FORMAT_ID = "gemini"
LABEL = "Google Gemini contents (JSON)"

ROLE_MAP = {"user": "user", "model": "assistant", "function": "user", "tool": "user", "system": "system"}
PART_KEYS = frozenset(
    {
        "text",
        "thought",
        "thoughtSignature",
        "functionCall",
        "functionResponse",
        "inlineData",
        "fileData",
        "executableCode",
        "codeExecutionResult",
    }
)
CODE_TOOL = "code_execution"
CODE_KEY = "\x00code"  # pairing key for the built-in code tool, apart from user functions of that name
REQUEST_PARTS = ("contents", "systemInstruction", "system_instruction")
NORMAL_FINISHES = ("STOP", "FINISH_REASON_UNSPECIFIED")
PAYLOAD_KEYS = frozenset({"data", "thoughtSignature", "thought_signature"})
PAYLOAD_LIMIT = 200
DETECT_SCAN = 20


# --- detection --------------------------------------------------------------------------------------


def detect(source: Source) -> bool:
    if not source.is_json:
        return False
    data = source.json
    if isinstance(data, dict):
        if isinstance(data.get("contents"), list):
            return _are_contents(data["contents"])
        return _is_response(data)
    if isinstance(data, list) and data:
        if isinstance(data[0], dict) and "candidates" in data[0]:
            return _is_response(data[0]) and all(_is_chunk(chunk) for chunk in data[:DETECT_SCAN])
        return _are_contents(data)
    return False


def _is_response(value: Any) -> bool:
    if not isinstance(value, dict) or "choices" in value:
        return False
    candidates = value.get("candidates")
    if not isinstance(candidates, list):
        return False
    if not candidates:
        return isinstance(value.get("promptFeedback", value.get("prompt_feedback")), dict)
    first = candidates[0]
    if not isinstance(first, dict):
        return False
    content = first.get("content")
    return (content is None and ("finishReason" in first or "finish_reason" in first)) or _is_content(content)


def _is_chunk(value: Any) -> bool:
    """A streamed chunk: candidates, or only the usage totals some streams end with."""
    if not isinstance(value, dict) or "choices" in value:
        return False
    return "candidates" in value or "usageMetadata" in value or "usage_metadata" in value


def _are_contents(contents: list) -> bool:
    return bool(contents) and all(_is_content(c) for c in contents[:DETECT_SCAN])


def _is_content(value: Any) -> bool:
    """A Gemini ``Content``: parts without the ``type`` key that OpenTelemetry message parts carry."""
    if not isinstance(value, dict) or value.get("role") not in (*ROLE_MAP, None):
        return False
    parts = value.get("parts")
    if not isinstance(parts, list) or not parts:
        return isinstance(parts, list) and value.get("role") == "model"
    return all(
        isinstance(part, dict) and "type" not in part and any(_camel(key) in PART_KEYS for key in part)
        for part in parts[:DETECT_SCAN]
    )


# --- parsing ----------------------------------------------------------------------------------------


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    with parser_errors(FORMAT_ID):
        return _parse(source.json, sample)


def _parse(data: Any, sample: str | None) -> ParsedTranscript:
    parser = _Parser()
    if isinstance(data, dict) and "contents" in data:
        system = _get(data, "systemInstruction")
        if system is not None:
            parser.system(system, "systemInstruction" if "systemInstruction" in data else "system_instruction")
        contents = data["contents"]
        if isinstance(contents, str):  # the SDK accepts a bare prompt string
            contents = [{"role": "user", "parts": [{"text": contents}]}]
        elif isinstance(contents, dict):
            contents = [contents]
        elif not isinstance(contents, list):
            raise _error(f"expected a list of contents; got {json_kind(contents)}", "contents")
        parser.contents(contents, "contents")
        request = {key: value for key, value in data.items() if key not in REQUEST_PARTS and value is not None}
        if request and parser.turns:
            parser.turns[0]["raw"].insert(0, {"type": "request", "data": _strip(request)})
    elif isinstance(data, dict) and "candidates" in data:
        parser.response([data], sample, "")
    elif isinstance(data, list) and data and isinstance(data[0], dict) and "candidates" in data[0]:
        if not all(_is_chunk(chunk) for chunk in data):
            number = next(n for n, chunk in enumerate(data) if not _is_chunk(chunk))
            got = "an object without them" if isinstance(data[number], dict) else json_kind(data[number])
            raise _error(f"expected a response chunk with candidates; got {got}", f"[{number}]")
        parser.response(data, sample, "")
    elif isinstance(data, list):
        parser.contents(data, "contents")
    else:
        raise _error(
            'expected a request with "contents", a list of contents, or a response with "candidates"; '
            f"got {json_kind(data)}" + (" without either key" if isinstance(data, dict) else "")
        )
    return ParsedTranscript(
        format=FORMAT_ID, turns=parser.turns, warnings=parser.warnings, samples=parser.samples, sample=parser.sample
    )


class _Pairing:
    """Pairs function responses with calls. With ids this is exact. Without, a response goes to a call of
    the same name still unanswered: the earliest such call of the most recent content that has one —
    parallel calls are answered in call order, and an older call left unanswered is not taken instead
    of the one just made."""

    def __init__(self) -> None:
        self.count = 0
        # name → calls still open, grouped by content: [(content number, call ids in order)]
        self.open: dict[str, list[tuple[int, deque[str]]]] = {}
        self.names: set[str] = set()  # every call id seen
        self.answered: set[str] = set()  # answered by id; skipped when reached in ``open``

    def call(self, name: str, call_id: str | None, content_number: int) -> str:
        if call_id is None:
            self.count += 1
            call_id = f"#{self.count}"
        groups = self.open.setdefault(name, [])
        if groups and groups[-1][0] == content_number:
            groups[-1][1].append(call_id)
        else:
            groups.append((content_number, deque([call_id])))
        self.names.add(call_id)
        return call_id

    def answer(self, name: str, call_id: str | None) -> tuple[str | None, bool]:
        """The call id the response answers, and whether a call with that id was seen."""
        if call_id is not None:
            self.answered.add(call_id)
            return call_id, call_id in self.names
        groups = self.open.get(name, [])
        while groups:
            waiting = groups[-1][1]
            while waiting and waiting[0] in self.answered:
                waiting.popleft()
            if waiting:
                found = waiting.popleft()
                self.answered.add(found)
                if not waiting:
                    groups.pop()
                return found, True
            groups.pop()
        return None, False


class _Parser:
    def __init__(self) -> None:
        self.turns: list[dict] = []
        self.warnings: list[str] = []
        self.samples: list[dict] = []
        self.sample: str | None = None
        self.pairing = _Pairing()
        self.timestamp: str | None = None

    def emit(self, role: str, content: str, **extra: Any) -> None:
        self.turns.append(make_turn(len(self.turns), role, content, timestamp=self.timestamp, **extra))

    def flush(self, segment: Segment) -> None:
        segment.emit_to(self.emit)

    # Containers ---------------------------------------------------------------------------------------

    def system(self, value: Any, path: str) -> None:
        if isinstance(value, str):
            parts: Any = [{"text": value}]
        elif isinstance(value, list):
            parts = value
        elif isinstance(value, dict):
            parts = value.get("parts")
            if not isinstance(parts, list):
                raise _error(f"expected a list of parts; got {json_kind(parts)}", f"{path}.parts")
        else:
            raise _error(f"expected a content with parts or a string; got {json_kind(value)}", path)
        self.parts(parts, "system", -1, f"{path}.parts")

    def contents(self, contents: list, path: str, default_role: str = "user") -> None:
        for number, content in enumerate(contents):
            where = f"{path}[{number}]"
            if isinstance(content, str):  # the SDK accepts bare strings as user contents
                content = {"role": "user", "parts": [{"text": content}]}
            if not isinstance(content, dict):
                raise _error(f"expected a content object with role and parts; got {json_kind(content)}", where)
            role = content.get("role")
            if role is None:
                role = default_role
            if not isinstance(role, str) or role not in ROLE_MAP:
                raise _error(f"expected one of user, model; got {show(role)}", f"{where}.role")
            if "parts" not in content:
                raise _error("expected a content object with a parts list", where)
            parts = content["parts"]
            if parts is None:  # how the Python SDK dumps an empty content
                parts = []
            if not isinstance(parts, list):
                raise _error(f"expected a list of parts; got {json_kind(parts)}", f"{where}.parts")
            first = len(self.turns)
            self.parts(parts, ROLE_MAP[role], number, f"{where}.parts")
            if len(self.turns) == first:  # keep an empty content visible rather than losing it
                self.emit(ROLE_MAP[role], "")

    def response(self, chunks: list[dict], sample: str | None, path: str) -> None:
        """One response, or the chunks of a streamed one: each candidate's parts are merged in order."""
        merged: dict[int, dict] = {}
        meta: dict[str, Any] = {}  # the response's own fields; a later chunk's values win (final usage)
        for chunk_number, chunk in enumerate(chunks):
            where = f"[{chunk_number}]" if len(chunks) > 1 else path
            candidates = chunk.get("candidates")
            if candidates is None:
                candidates = []
            if not isinstance(candidates, list):
                raise _error(
                    f"expected a list of candidates; got {json_kind(candidates)}", join_path(where, "candidates")
                )
            meta.update((key, value) for key, value in chunk.items() if key != "candidates" and value is not None)
            stamp = _get(chunk, "createTime")
            if isinstance(stamp, str) and self.timestamp is None:
                self.timestamp = stamp
            for number, candidate in enumerate(candidates):
                cpath = join_path(where, f"candidates[{number}]")
                if not isinstance(candidate, dict):
                    raise _error(f"expected a candidate object; got {json_kind(candidate)}", cpath)
                index = candidate.get("index")
                index = index if isinstance(index, int) and not isinstance(index, bool) else number
                entry = merged.setdefault(index, {"parts": [], "meta": {}, "path": cpath})
                content = candidate.get("content")
                if isinstance(content, dict):
                    parts = content.get("parts")
                    if isinstance(parts, list):
                        _merge_parts(entry["parts"], parts)
                    elif parts is not None:
                        raise _error(f"expected a list of parts; got {json_kind(parts)}", f"{cpath}.content.parts")
                elif content is not None:
                    raise _error(f"expected a content object; got {json_kind(content)}", f"{cpath}.content")
                entry["meta"].update(
                    (key, value)
                    for key, value in candidate.items()
                    if key not in ("content", "index") and value is not None
                )
        if not merged:
            feedback = _get(meta, "promptFeedback")
            reason = _get(feedback, "blockReason") if isinstance(feedback, dict) else None
            detail = f" (promptFeedback.blockReason: {show(reason)})" if reason is not None else ""
            raise _error(f"the response holds no candidates{detail}", "candidates")
        order = sorted(merged)
        samples = [{"id": str(i), "label": f"Candidate {i}"} for i in order]
        chosen = order[select_sample(samples, sample, FORMAT_ID)]
        if len(order) > 1:
            self.samples = samples
            self.sample = str(chosen)
        entry = merged[chosen]
        first = len(self.turns)
        self.parts(entry["parts"], "assistant", 0, f"{entry['path']}.content.parts")
        if len(self.turns) == first:
            self.emit("assistant", "")
        if entry["meta"]:
            meta["candidate"] = entry["meta"]
        if meta:
            self.turns[-1]["raw"].append({"type": "response", "data": _strip(meta)})
        finish = _get(entry["meta"], "finishReason")
        if finish is not None and finish not in NORMAL_FINISHES:
            self.warnings.append(
                f"The response stopped with finishReason {show(finish)}; its last turn may be cut off or withheld."
            )

    # Parts --------------------------------------------------------------------------------------------

    def parts(self, parts: list, role: str, content_number: int, path: str) -> None:
        segment = Segment(role)
        for number, part in enumerate(parts):
            where = f"{path}[{number}]"
            if isinstance(part, str):
                segment.texts.append(part)
                continue
            if not isinstance(part, dict):
                self.warnings.append(f"{where}: expected a part object; got {json_kind(part)}; kept as raw data.")
                segment.raw.append({"type": "unknown", "data": part})
                continue
            fields = {_camel(key): value for key, value in part.items() if value is not None}
            segment = self.part(fields, segment, content_number, where)
        self.flush(segment)

    def part(self, fields: dict, segment: Segment, content_number: int, path: str) -> Segment:
        text = fields.get("text")
        if isinstance(text, str):
            if text:
                (segment.reasoning if fields.get("thought") is True else segment.texts).append(text)
        elif text is not None:
            self.warnings.append(f"{path}.text: expected a string; got {json_kind(text)}; kept as raw data.")
            segment.raw.append({"type": "text", "data": text})
        signature = fields.get("thoughtSignature")
        if signature is not None:
            length = len(signature) if isinstance(signature, str) else None
            segment.raw.append({"type": "thoughtSignature", "data": {"length": length}})
        if "functionCall" in fields:
            segment.calls.append(self.function_call(fields["functionCall"], content_number, path))
        if "executableCode" in fields:
            segment.calls.append(self.code_call(fields["executableCode"], content_number))
        for key in ("inlineData", "fileData"):
            if key in fields:
                segment.raw.append({"type": _media_type(key, fields[key]), "data": _strip({key: fields[key]})})
        for key, value in fields.items():
            if key not in PART_KEYS:
                segment.raw.append({"type": key, "data": _strip(value)})
        if "functionResponse" in fields or "codeExecutionResult" in fields:
            self.flush(segment)
            if "functionResponse" in fields:
                self.function_response(fields["functionResponse"], f"{path}.functionResponse")
            if "codeExecutionResult" in fields:
                self.code_result(fields["codeExecutionResult"])
            return Segment(segment.role)
        if fields.get("thought") is not None and not isinstance(text, str):
            segment.raw.append({"type": "thought", "data": fields["thought"]})
        return segment

    def function_call(self, call: Any, content_number: int, path: str) -> dict:
        if not isinstance(call, dict):
            raise _error(f"expected an object with name and args; got {json_kind(call)}", f"{path}.functionCall")
        name = call.get("name")
        if not isinstance(name, str):
            self.warnings.append(f"{path}.functionCall.name: expected a string; got {json_kind(name)}.")
            name = "" if name is None else _dumps(name)
        call_id = self.pairing.call(name, _str_or_none(call.get("id")), content_number)
        return tool_call(call_id, name, call.get("args"))

    def code_call(self, code: Any, content_number: int) -> dict:
        code = {_camel(k): v for k, v in code.items() if v is not None} if isinstance(code, dict) else code
        call_id = self.pairing.call(
            CODE_KEY, _str_or_none(code.get("id") if isinstance(code, dict) else None), content_number
        )
        if isinstance(code, dict):
            arguments: Any = {k: v for k, v in code.items() if k != "id"}
        else:
            arguments = code
        return tool_call(call_id, CODE_TOOL, arguments)

    def function_response(self, response: Any, path: str) -> None:
        if not isinstance(response, dict):
            raise _error(f"expected an object with name and response; got {json_kind(response)}", path)
        name = response.get("name")
        name = name if isinstance(name, str) else ""
        call_id, known = self.pairing.answer(name, _str_or_none(response.get("id")))
        if call_id is None:
            self.warnings.append(f"{path}: no earlier call of {name!r} is waiting for this response.")
        elif not known:
            self.warnings.append(f"{path}.id: {call_id!r} matches no earlier functionCall.")
        body = response.get("response")
        raw: list[dict] = []
        if isinstance(body, dict) and "output" in body and len(body) == 1:
            output = body["output"]
            text = output if isinstance(output, str) else _dumps(output)
        elif isinstance(body, dict) and "error" in body and "output" not in body:
            error = body["error"]
            text = error if isinstance(error, str) else _dumps(error)
            raw.append({"type": "tool_error", "data": {"error": _strip(error)}})
        elif isinstance(body, str):
            text = body
        elif body is None:
            text = ""
        else:
            text = _dumps(body)
        for key, value in response.items():
            if key not in ("name", "id", "response") and value is not None:
                raw.append({"type": _camel(key), "data": _strip(value)})
        self.emit("tool", text, tool_call_id=call_id, raw=raw)

    def code_result(self, result: Any) -> None:
        fields = {_camel(k): v for k, v in result.items() if v is not None} if isinstance(result, dict) else {}
        call_id, _ = self.pairing.answer(CODE_KEY, _str_or_none(fields.get("id")))
        output = fields.get("output")
        text = output if isinstance(output, str) else "" if output is None else _dumps(output)
        raw: list[dict] = []
        outcome = fields.get("outcome")
        if outcome is not None and outcome != "OUTCOME_OK":
            raw.append({"type": "tool_error", "data": {"outcome": outcome}})
        if not isinstance(result, dict):
            raw.append({"type": "codeExecutionResult", "data": result})
        self.emit("tool", text, tool_call_id=call_id, raw=raw)


# --- helpers ----------------------------------------------------------------------------------------


def _merge_parts(into: list, parts: list) -> None:
    """Appends streamed parts, joining a text part to the previous one of the same kind (a chunk may end
    mid-sentence)."""
    for part in parts:
        if isinstance(part, dict) and into and isinstance(into[-1], dict):
            fields = {_camel(k): v for k, v in part.items() if v is not None}
            last = {_camel(k): v for k, v in into[-1].items() if v is not None}
            if (
                set(fields) <= {"text", "thought"}
                and set(last) <= {"text", "thought"}
                and isinstance(fields.get("text"), str)
                and isinstance(last.get("text"), str)
                and fields.get("thought") is last.get("thought")
            ):
                into[-1] = {**last, "text": last["text"] + fields["text"]}
                continue
        into.append(part)


def _media_type(key: str, value: Any) -> str:
    mime = _get(value, "mimeType") if isinstance(value, dict) else None
    return "image" if isinstance(mime, str) and mime.startswith("image/") else key


def _camel(key: str) -> str:
    """``function_call`` → ``functionCall``: the SDK's snake_case names as the REST API spells them."""
    if "_" not in key:
        return key
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _get(value: dict, camel: str) -> Any:
    """A field by its camelCase name or its snake_case alias."""
    found = value.get(camel)
    if found is None:
        found = value.get("".join(f"_{c.lower()}" if c.isupper() else c for c in camel))
    return found


def _strip(value: Any) -> Any:
    """A copy of ``value`` with long base64 payloads replaced by a note."""
    return omit_payloads(value, _is_payload)


def _is_payload(holder: dict, key: str, text: str) -> bool:
    # A file's "data" is the file itself, whatever its length.
    return key in PAYLOAD_KEYS and (len(text) > PAYLOAD_LIMIT or has_media_type(holder))


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _error(message: str, field: str | None = None) -> TranscriptError:
    return TranscriptError(message, field=field or None, format_id=FORMAT_ID)
