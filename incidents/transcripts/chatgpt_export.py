"""ChatGPT data export: ``conversations.json`` (a list of conversations) or one conversation object.

A conversation is ``{id, title, create_time, current_node, mapping: {node_id: {id, message, parent,
children}}}``: a tree, because editing a message or regenerating a reply adds a branch.

How it is read:

* Only the active branch: from ``current_node`` up through ``parent`` to the root, reversed. Other
  branches are left out with a warning saying how many there were. A loop in the parent chain is
  refused; a chain that stops at a node missing from the export is kept with a warning.
* Nodes without a message (the root) are skipped, and so are messages flagged
  ``metadata.is_visually_hidden_from_conversation`` that hold no text (the blank system prompt).
  Hidden messages with text, such as custom instructions (``user_editable_context``) or memory
  (``model_editable_context``), are instructions the model saw: they are kept as system turns,
  marked with a ``hidden`` block.
* author.role user / assistant / system / tool → the same roles. An assistant message addressed to a
  tool (``recipient`` other than "all", e.g. code for ``python``) is a tool call (id = the message
  id, arguments = its text); the tool messages from that tool that follow are its results. Consecutive
  assistant messages (thoughts, the reply, tool calls) form one assistant turn.
* Content types: text / multimodal_text parts (images and other attachments → ``raw``; audio
  transcriptions → text), code, execution_output, thoughts and reasoning_recap (→ ``reasoning``),
  tether_browsing_display / tether_quote / sonic_webpage / system_error (text, with the rest in
  ``raw``); unknown types → ``raw``. ``create_time`` (unix seconds) → ISO 8601 timestamps.
* ``samples`` lists the conversations (id = conversation id, label = title); the first is the default.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, tool_call
from incidents.transcripts.common import TurnDraft, finish_turns, json_type, select_sample, trim_payloads

FORMAT_ID = "chatgpt-export"
LABEL = "ChatGPT data export (conversations.json)"

ROLES = {"user": "user", "assistant": "assistant", "system": "system", "tool": "tool"}
# content_type -> the field holding its text; the other non-empty fields go to raw.
TEXT_FIELDS = {
    "code": "text",
    "execution_output": "text",
    "tether_quote": "text",
    "sonic_webpage": "text",
    "system_error": "text",
    "tether_browsing_display": "result",
    "model_editable_context": "model_set_context",
}
QUIET_FIELDS = frozenset({"content_type", "language", "response_format_name"})
IMAGE_PARTS = frozenset({"image_asset_pointer", "image_url"})
# Opaque payloads (base64 data, data: URLs) are replaced by their length.
HEAVY_KEYS = frozenset({"data", "encrypted_content", "image_url"})


def _conversations(value: Any) -> list | None:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    return None


def _looks_like(conversation: Any) -> bool:
    return (
        isinstance(conversation, dict)
        and isinstance(conversation.get("mapping"), dict)
        and "current_node" in conversation
    )


def detect(source: Source) -> bool:
    try:
        if source.is_zip or not source.is_json:
            return False
        conversations = _conversations(source.json)
        return bool(conversations) and _looks_like(conversations[0])
    except TranscriptError:
        return False


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    conversations = _conversations(source.json)
    if conversations is None:
        raise TranscriptError(
            f"expected a list of conversations or one conversation object; got a JSON {json_type(source.json)}",
            format_id=FORMAT_ID,
        )
    if not conversations:
        raise TranscriptError("The export holds no conversations.", format_id=FORMAT_ID)
    samples = _samples(conversations)
    position = select_sample(samples, sample, FORMAT_ID)
    where = f"[{position}]" if isinstance(source.json, list) else ""
    conversation = conversations[position]
    if not isinstance(conversation, dict):
        raise TranscriptError(
            f"expected a conversation object with mapping and current_node; got {json_type(conversation)}",
            field=where or None,
            format_id=FORMAT_ID,
        )
    mapping = conversation.get("mapping")
    if not isinstance(mapping, dict):
        raise TranscriptError(
            f"expected an object of message nodes; got {json_type(mapping)}",
            field=f"{where}mapping",
            format_id=FORMAT_ID,
        )
    warnings: list[str] = []
    path = _active_path(mapping, conversation.get("current_node"), where, warnings)
    turns, hidden = _turns(path, where)
    if hidden:
        warnings.append(
            f"{hidden} hidden message{'' if hidden == 1 else 's'} without any text (such as the blank system "
            f"prompt) {'was' if hidden == 1 else 'were'} left out."
        )
    if not turns:
        raise TranscriptError(
            "The active branch of this conversation holds no messages with text.",
            field=f"{where}mapping",
            format_id=FORMAT_ID,
        )
    return ParsedTranscript(
        format=FORMAT_ID,
        turns=finish_turns(turns),
        warnings=warnings,
        samples=samples,
        sample=samples[position]["id"],
    )


def _samples(conversations: list) -> list[dict]:
    samples, used = [], set()
    for position, conversation in enumerate(conversations):
        info = conversation if isinstance(conversation, dict) else {}
        ident = next(
            (info[key] for key in ("id", "conversation_id") if isinstance(info.get(key), str) and info[key]),
            None,
        )
        if ident is None or ident in used:
            ident = str(position)
        used.add(ident)
        title = info.get("title")
        label = title.strip() if isinstance(title, str) and title.strip() else f"Conversation {position + 1}"
        samples.append({"id": ident, "label": label})
    return samples


def _active_path(mapping: dict, current: Any, where: str, warnings: list[str]) -> list[tuple[str, dict]]:
    if current is None:
        # Some exports omit it: fall back to the last node without children.
        current = next(
            (key for key, node in reversed(mapping.items()) if isinstance(node, dict) and not node.get("children")),
            None,
        )
        if current is None:
            raise TranscriptError(
                "current_node is missing and no last message could be found",
                field=f"{where}current_node",
                format_id=FORMAT_ID,
            )
        warnings.append(f"current_node is missing; the branch ending at node {current!r} was imported.")
    if not isinstance(current, str) or current not in mapping:
        raise TranscriptError(
            f"current_node {current!r} is not a node of mapping", field=f"{where}current_node", format_id=FORMAT_ID
        )
    path: list[tuple[str, dict]] = []
    seen: set[str] = set()
    node_id: str | None = current
    while node_id is not None:
        if node_id in seen:
            raise TranscriptError(
                f"the parent chain loops back to node {node_id!r}",
                field=f"{where}mapping[{node_id!r}].parent",
                format_id=FORMAT_ID,
            )
        seen.add(node_id)
        node = mapping.get(node_id)
        if node is None:
            warnings.append(
                f"The parent chain stops at node {node_id!r}, which is not in the export; "
                "earlier messages of this conversation are missing."
            )
            break
        if not isinstance(node, dict):
            raise TranscriptError(
                f"expected a node object; got {json_type(node)}",
                field=f"{where}mapping[{node_id!r}]",
                format_id=FORMAT_ID,
            )
        path.append((node_id, node))
        parent = node.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise TranscriptError(
                f"expected a node id or null; got {json_type(parent)}",
                field=f"{where}mapping[{node_id!r}].parent",
                format_id=FORMAT_ID,
            )
        node_id = parent
    path.reverse()
    leaves = sum(1 for node in mapping.values() if isinstance(node, dict) and not node.get("children"))
    left_out = len(mapping) - len(path)
    if left_out > 0 and leaves > 1:
        branches = leaves - 1
        warnings.append(
            f"This conversation has {branches} alternative branch{'' if branches == 1 else 'es'} (edited or "
            f"regenerated messages); only the active branch was imported and {left_out} "
            f"node{' was' if left_out == 1 else 's were'} left out."
        )
    return path


def _turns(path: list[tuple[str, dict]], where: str) -> tuple[list[TurnDraft], int]:
    turns: list[TurnDraft] = []
    open_turn: TurnDraft | None = None  # the assistant turn still taking messages
    calls_by_tool: dict[str, str] = {}  # recipient -> id of its latest call since the last user message
    hidden = 0
    for node_id, node in path:
        message = node.get("message")
        if message is None:
            continue
        at = f"{where}mapping[{node_id!r}].message"
        if not isinstance(message, dict):
            raise TranscriptError(f"expected a message object; got {json_type(message)}", field=at, format_id=FORMAT_ID)
        author = message.get("author")
        author = author if isinstance(author, dict) else {}
        raw_role = author.get("role")
        role = ROLES.get(raw_role) if isinstance(raw_role, str) else None
        if role is None:
            raise TranscriptError(
                f"expected one of {', '.join(ROLES)}; got {raw_role!r}", field=f"{at}.author.role", format_id=FORMAT_ID
            )
        content = message.get("content")
        if content is None:
            content = {}
        if not isinstance(content, dict):
            raise TranscriptError(
                f"expected an object with content_type; got {json_type(content)}",
                field=f"{at}.content",
                format_id=FORMAT_ID,
            )
        text, reasoning, raw = _content(content)
        metadata = message.get("metadata")
        if isinstance(metadata, dict) and metadata.get("is_visually_hidden_from_conversation") is True:
            if not text.strip() and not reasoning and not raw:
                hidden += 1
                continue
            role = "system" if role == "user" else role  # custom instructions are not something the user said
            raw.append({"type": "hidden", "data": {"is_visually_hidden_from_conversation": True}})
        timestamp = _timestamp(message.get("create_time"))
        message_id = message.get("id") if isinstance(message.get("id"), str) else node_id
        recipient = message.get("recipient")
        calls = recipient if isinstance(recipient, str) and recipient not in ("", "all") else None

        if role == "assistant":
            turn = open_turn
            if (
                turn is None
                or (reasoning and (any(turn.text) or turn.tool_calls))
                or (text and not calls and turn.tool_calls)
            ):
                turn = TurnDraft("assistant", timestamp)
                turns.append(turn)
                open_turn = turn
            turn.reasoning.extend(reasoning)
            turn.raw.extend(raw)
            if calls:
                turn.tool_calls.append(tool_call(message_id, calls, text))
                calls_by_tool.pop(calls, None)  # re-insert: the latest call comes last
                calls_by_tool[calls] = message_id
            elif text:
                turn.text.append(text)
            continue

        open_turn = None
        if role == "tool":
            # One call can have several results (a browser call and its quotes): they share its id.
            name = author.get("name") if isinstance(author.get("name"), str) else None
            call_id = next(reversed(calls_by_tool.values()), None) if name is None else calls_by_tool.get(name)
            if call_id is None and name:
                raw.insert(0, {"type": "tool_author", "data": {"name": name}})
            turns.append(TurnDraft("tool", timestamp, [text], reasoning, tool_call_id=call_id, raw=raw))
        else:
            if role == "user":
                calls_by_tool.clear()
            if text.strip() or reasoning or raw:
                turns.append(TurnDraft(role, timestamp, [text], reasoning, raw=raw))
    kept = [
        turn
        for turn in turns
        if turn.role == "tool" or any(turn.text) or any(turn.reasoning) or turn.tool_calls or turn.raw
    ]
    return kept, hidden


def _content(content: dict) -> tuple[str, list[str], list[dict]]:
    """(text, reasoning parts, raw blocks) of one message's content."""
    kind = content.get("content_type")
    kind = kind if isinstance(kind, str) else None
    if kind == "thoughts":
        thoughts = content.get("thoughts")
        reasoning = []
        for thought in thoughts if isinstance(thoughts, list) else []:
            if isinstance(thought, dict):
                parts = [thought.get(key) for key in ("summary", "content")]
                reasoning.append("\n".join(part for part in parts if isinstance(part, str) and part))
        return "", [part for part in reasoning if part], []
    if kind == "reasoning_recap":
        recap = content.get("content")
        return "", [recap] if isinstance(recap, str) and recap else [], []
    if kind == "user_editable_context":
        sections = [content[key] for key in ("user_profile", "user_instructions") if isinstance(content.get(key), str)]
        return "\n\n".join(section for section in sections if section.strip()), [], []
    if kind in TEXT_FIELDS or (kind not in ("text", "multimodal_text") and "parts" not in content):
        key = TEXT_FIELDS.get(kind or "", "text")
        text = content.get(key)
        rest = {k: v for k, v in content.items() if k != key and k not in QUIET_FIELDS and v not in (None, "", [], {})}
        raw = [{"type": kind or "content", "data": _trim(rest)}] if rest else []
        return (text if isinstance(text, str) else ""), [], raw
    parts = content.get("parts")
    texts, raw = [], []
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            part_kind = part.get("content_type")
            if part_kind == "audio_transcription" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part_kind, str) and part_kind in IMAGE_PARTS:
                raw.append({"type": "image", "data": _trim(part)})
            elif "content_type" not in part and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                raw.append(
                    {"type": part_kind if isinstance(part_kind, str) and part_kind else "part", "data": _trim(part)}
                )
        elif part is not None:
            raw.append({"type": "part", "data": part})
    return "\n\n".join(texts), [], raw


def _trim(value: Any) -> Any:
    return trim_payloads(value, HEAVY_KEYS)


def _timestamp(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        with contextlib.suppress(ValueError, OverflowError, OSError):
            moment = dt.datetime.fromtimestamp(value, tz=dt.UTC)
            return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, str) and value:
        return value
    return None
