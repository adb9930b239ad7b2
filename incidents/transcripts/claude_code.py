"""Claude Code session logs (``~/.claude/projects/<project>/<session>.jsonl``, also ``agent-*.jsonl``).

One JSON object per line. ``type`` user | assistant | system are conversation lines; the rest
(summary, file-history-snapshot, queue-operation, progress, …) is bookkeeping and skipped. user and
assistant lines carry an Anthropic-style ``message`` ({role, content: string | blocks}); every line has
``uuid``/``parentUuid`` (a tree), ``timestamp`` (ISO), ``sessionId`` and ``isSidechain``.

How it is read:

* **File order.** Following ``parentUuid`` back from the last leaf would lose parallel tool results
  (each hangs off its own tool_use line, beside the main chain) and everything before a compaction
  boundary (whose ``parentUuid`` is null). A line that continues from an earlier point instead (a
  rewind, an edited prompt, a retried reply) is named in a warning, and the abandoned branch is kept:
  the tool calls on it really ran.
* Claude Code writes one line per content block, repeating ``message.id``: those lines are merged
  into one assistant turn. thinking → ``reasoning``; tool_use → tool calls; anything else → ``raw``.
* ``tool_result`` blocks in user lines become tool turns (``tool_call_id`` = ``tool_use_id``); any
  other blocks of that line become a user turn, in block order. ``toolUseResult`` repeats the result
  in structured form (often with whole file contents) and is not kept.
* User lines Claude Code wrote itself (``isMeta``, compaction summaries) become system turns marked
  with a ``meta`` / ``compact_summary`` block; ``system`` lines with text become system turns.
* Subagent (sidechain) lines are kept in place and marked with a ``sidechain`` block; their "user"
  turns are prompts written by the main agent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from itertools import islice
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, TurnLimit, tool_call
from incidents.transcripts.common import TurnDraft, finish_turns, id_text, json_type, object_lines, trim_payloads

FORMAT_ID = "claude-code"
LABEL = "Claude Code session (JSONL)"

CONVERSATION_TYPES = ("user", "assistant", "system")
# Bookkeeping lines Claude Code writes beside the conversation; skipped without a warning.
BOOKKEEPING_TYPES = frozenset(
    {
        "summary",
        "file-history-snapshot",
        "queue-operation",
        "progress",
        "custom-title",
        "last-prompt",
        "agent-name",
        "tag",
        "pr-link",
    }
)
# Raw blocks this parser adds as flags; they alone do not make a turn worth keeping.
MARKERS = frozenset({"sidechain", "meta", "compact_summary"})
DETECT_LINES = 50
# Opaque payloads (base64 images, encrypted thinking, signatures) are replaced by their length.
HEAVY_KEYS = frozenset({"data", "signature", "encrypted_content"})


@dataclass(slots=True)
class _Turn(TurnDraft):
    def is_empty(self) -> bool:
        return (
            self.role != "tool"
            and not any(self.text)
            and not any(self.reasoning)
            and not self.tool_calls
            and all(block["type"] in MARKERS for block in self.raw)
        )


def _looks_like(record: Any) -> bool:
    if not isinstance(record, dict):
        return False
    kind = record.get("type")
    if kind in ("user", "assistant"):
        return isinstance(record.get("message"), dict) and any(
            key in record for key in ("sessionId", "parentUuid", "uuid")
        )
    if kind == "system":
        return "uuid" in record and ("sessionId" in record or "parentUuid" in record)
    if kind == "summary":
        return "leafUuid" in record
    if kind == "file-history-snapshot":
        return "snapshot" in record or "messageId" in record
    return False


def detect(source: Source) -> bool:
    try:
        if source.is_zip:
            return False
        if source.is_json:
            return _looks_like(source.json)
        if not source.starts_with_object:
            return False
        return any(_looks_like(record) for _, record in islice(source.head_records(), DETECT_LINES))
    except TranscriptError:
        return False


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    turns: list[_Turn] = []
    by_message_id: dict[str, _Turn] = {}
    line_of: dict[str, int] = {}  # uuid -> line number
    child_kinds: dict[str, set[str]] = {}  # parent uuid -> kinds of children seen (prompt / assistant)
    forks: list[str] = []
    repeated = sidechain_turns = 0
    skipped: Counter[str] = Counter()
    bookkeeping = 0
    # Only turns that hold something are kept, so only they count towards the turn limit as lines are read. An
    # empty assistant turn may still be filled by a later line of its message: it is counted when that happens.
    kept = 0
    unfilled: set[int] = set()  # ids of empty assistant turns
    limit = TurnLimit(FORMAT_ID)

    for number, record in object_lines(source, FORMAT_ID, "a Claude Code session"):
        if not isinstance(record, dict):
            raise TranscriptError(
                f"expected a JSON object (one Claude Code event per line); got a JSON {json_type(record)}",
                line=number,
                format_id=FORMAT_ID,
            )
        kind = record.get("type")
        uuid = record.get("uuid")
        if isinstance(uuid, str):
            if uuid in line_of:  # resumed or copied sessions repeat lines
                repeated += 1
                continue
            line_of[uuid] = number
        if kind not in CONVERSATION_TYPES:
            if isinstance(kind, str) and kind in BOOKKEEPING_TYPES:
                bookkeeping += 1
            else:
                skipped[kind if isinstance(kind, str) else "(no type)" if kind is None else repr(kind)] += 1
            continue

        timestamp = _timestamp(record.get("timestamp"))
        markers = []
        if record.get("isSidechain") is True:
            agent = record.get("agentId")
            markers.append({"type": "sidechain", "data": {"isSidechain": True, "agentId": agent}})
        count_before = len(turns)
        filled: _Turn | None = None  # the assistant turn this line added to

        if kind == "system":
            content = record.get("content")
            if isinstance(content, str) and content.strip():
                data = {key: record[key] for key in ("subtype", "level", "compactMetadata") if key in record}
                raw = [*markers, {"type": "system_event", "data": data}] if data else markers
                turns.append(_Turn("system", timestamp, [content], raw=raw))
            else:
                bookkeeping += 1
        else:
            message = record.get("message")
            if not isinstance(message, dict):
                raise TranscriptError(
                    f"expected an object with role and content; got {json_type(message)}",
                    line=number,
                    field="message",
                    format_id=FORMAT_ID,
                )
            blocks = _blocks(message.get("content"), number)
            if kind == "assistant":
                filled = _add_assistant(turns, by_message_id, message.get("id"), blocks, timestamp, markers)
                fork_kind: str | None = "assistant"
            else:
                fork_kind = _add_user(turns, record, blocks, timestamp, markers)
            parent = record.get("parentUuid")
            if fork_kind and isinstance(parent, str) and parent in line_of:
                seen = child_kinds.setdefault(parent, set())
                if fork_kind in seen:
                    forks.append(f"line {number} (branching from line {line_of[parent]})")
                seen.add(fork_kind)
        if markers:
            sidechain_turns += len(turns) - count_before
        for turn in turns[count_before:]:
            if not turn.is_empty():
                kept += 1
            elif turn.role == "assistant":
                unfilled.add(id(turn))
        if filled is not None and id(filled) in unfilled and not filled.is_empty():
            unfilled.discard(id(filled))
            kept += 1
        limit.check(kept)

    if not kept:
        raise TranscriptError(
            f"No user or assistant messages were found in this Claude Code session "
            f"({bookkeeping} bookkeeping line{'' if bookkeeping == 1 else 's'} only).",
            format_id=FORMAT_ID,
        )
    warnings = _warnings(forks, repeated, sidechain_turns, skipped)
    turns = [turn for turn in turns if not turn.is_empty()]
    return ParsedTranscript(format=FORMAT_ID, turns=finish_turns(turns), warnings=warnings)


def _blocks(content: Any, number: int) -> list:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return content
    if content is None:
        return []
    raise TranscriptError(
        f"expected a string or a list of content blocks; got {json_type(content)}",
        line=number,
        field="message.content",
        format_id=FORMAT_ID,
    )


def _add_assistant(
    turns: list[_Turn],
    by_message_id: dict[str, _Turn],
    message_id: Any,
    blocks: list,
    timestamp: str | None,
    markers: list[dict],
) -> _Turn:
    """Adds the blocks to the turn of their message (a new one if it has none yet) and returns that turn."""
    turn = by_message_id.get(message_id) if isinstance(message_id, str) else None
    if turn is None:
        turn = _Turn("assistant", timestamp, raw=list(markers))
        turns.append(turn)
        if isinstance(message_id, str):
            by_message_id[message_id] = turn
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            turn.text.append(block["text"])
            if block.get("citations"):
                turn.raw.append({"type": "citations", "data": block["citations"]})
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            turn.reasoning.append(block["thinking"])
        elif kind == "tool_use":
            turn.tool_calls.append(
                tool_call(id_text(block.get("id")), id_text(block.get("name")) or "", block.get("input"))
            )
        elif isinstance(block, str):
            turn.text.append(block)
        else:
            turn.raw.append(_raw(block))
    return turn


def _add_user(turns: list[_Turn], record: dict, blocks: list, timestamp: str | None, markers: list[dict]) -> str | None:
    """Tool results become tool turns; other blocks a user (or, if Claude Code wrote it, system) turn.

    Returns "prompt" when the line holds something other than tool results (for branch detection).
    """
    flags = list(markers)
    role = "user"
    if record.get("isCompactSummary") is True:
        role = "system"
        flags.append({"type": "compact_summary", "data": {"isCompactSummary": True}})
    elif record.get("isMeta") is True:
        role = "system"
        flags.append({"type": "meta", "data": {"isMeta": True}})
    current: _Turn | None = None
    prompt = False
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            current = None
            text, raw = _result_content(block.get("content"))
            if block.get("is_error") is True:
                raw.append({"type": "tool_error", "data": {"is_error": True}})
            turns.append(
                _Turn("tool", timestamp, [text], tool_call_id=id_text(block.get("tool_use_id")), raw=markers + raw)
            )
            continue
        prompt = True
        if current is None:
            current = _Turn(role, timestamp, raw=list(flags))
            turns.append(current)
        if isinstance(block, str):
            current.text.append(block)
        elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            current.text.append(block["text"])
        else:
            current.raw.append(_raw(block))
    return "prompt" if prompt and role == "user" else None


def _result_content(content: Any) -> tuple[str, list[dict]]:
    if isinstance(content, str):
        return content, []
    if content is None:
        return "", []
    if not isinstance(content, list):
        return "", [_raw(content)]
    texts, raw = [], []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        else:
            raw.append(_raw(block))
    return "\n\n".join(texts), raw


def _warnings(forks: list[str], repeated: int, sidechain_turns: int, skipped: Counter[str]) -> list[str]:
    warnings = []
    if forks:
        listed = ", ".join(forks[:5]) + (f" and {len(forks) - 5} more" if len(forks) > 5 else "")
        warnings.append(
            f"The conversation branches {len(forks)} time{'' if len(forks) == 1 else 's'} (a rewind, an edited "
            f"message or a retried reply): {listed} continue{'s' if len(forks) == 1 else ''} from an earlier "
            "point. Every branch is kept, in file order."
        )
    if repeated:
        warnings.append(
            f"{repeated} line{' was' if repeated == 1 else 's were'} skipped: "
            f"{'it repeats' if repeated == 1 else 'they repeat'} an earlier line's uuid (a resumed or copied session)."
        )
    if sidechain_turns:
        warnings.append(
            f"{sidechain_turns} turn{' comes' if sidechain_turns == 1 else 's come'} from subagent (sidechain) "
            "conversations and are marked with a “sidechain” block; their user turns are prompts written "
            "by the main agent, not by a person."
        )
    if skipped:
        listed = ", ".join(f"{kind} ×{count}" for kind, count in skipped.most_common())
        warnings.append(f"Lines of a type this importer does not know were skipped: {listed}.")
    return warnings


def _raw(block: Any) -> dict:
    kind = block.get("type") if isinstance(block, dict) else None
    return {"type": kind if isinstance(kind, str) and kind else "unknown", "data": trim_payloads(block, HEAVY_KEYS)}


def _timestamp(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > 1e11 else value  # milliseconds
        with contextlib.suppress(ValueError, OverflowError, OSError):
            moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
            return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return None
