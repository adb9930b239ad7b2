"""JSON Lines of chat messages: one Chat Completions-shaped message per line (``{"role": ..., "content":
...}``), each line one turn, converted exactly like the OpenAI Chat Completions parser converts a message.

Also the dataset shape of fine-tuning and batch files, decided by the first line: one whole conversation per
line (``{"messages": [...], "tools": ...}``); each line is then a sample (``line-<n>``) and the chosen one is
read like an OpenAI Chat Completions request.

Agent session logs are JSON Lines too (Claude Code: ``type``/``message``/``sessionId``; Codex CLI:
``type``/``payload``); their records carry no ``role`` of their own, so they are not claimed here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError, TurnLimit
from incidents.transcripts.openai_chat import (
    Context,
    cap_warnings,
    check_pairing,
    choose_sample,
    conversation,
    kind,
    looks_like_messages,
    message_turn,
)

FORMAT_ID = "jsonl-messages"
LABEL = "JSON Lines of chat messages"

# Keys of agent session log records (Claude Code, Codex CLI), which have their own parsers.
_AGENT_LOG_KEYS = frozenset({"sessionId", "parentUuid", "payload", "type", "message"})
# Top-level keys of whole-conversation records that belong to other formats.
_FOREIGN_KEYS = frozenset({"system", "contents", "conversations", "input", "output", "epoch", "samples"})


def _records(source: Source, ctx: Context) -> Iterator[tuple[int, Any]]:
    """(line number, record) per non-blank line, read one line at a time."""
    if source.is_json and not isinstance(source.json, dict):  # a single line, or one pretty-printed value
        raise ctx.error(
            f"expected JSON Lines, one message object per line; the file is a single JSON value ({kind(source.json)}). "
            "A JSON list of messages is read by the OpenAI Chat Completions format."
        )
    return source.records(FORMAT_ID)


def _is_conversation(record: Any) -> bool:
    return isinstance(record, dict) and "messages" in record and "role" not in record


def _label(record: dict, number: int) -> str:
    parts = [f"Line {number}"]
    name = record.get("custom_id") or record.get("id")
    if isinstance(name, str) and name:
        parts.append(name)
    messages = record.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
            snippet = " ".join(message["content"][:200].split())
            if snippet:
                parts.append(snippet[:60] + ("…" if len(snippet) > 60 else ""))
            break
    return " — ".join(parts)


def _messages(records: Iterator[tuple[int, Any]], ctx: Context, sample: str | None) -> ParsedTranscript:
    choose_sample([], sample, ctx)
    turns: list[dict] = []
    limit = TurnLimit(FORMAT_ID)
    for number, record in records:
        ctx.line = number
        turns.append(message_turn(record, len(turns), ctx=ctx))
        limit.check(len(turns))
    ctx.line = None
    check_pairing(turns, ctx)
    return ParsedTranscript(format=FORMAT_ID, turns=turns, warnings=cap_warnings(ctx.warnings))


def _conversations(records: Iterator[tuple[int, Any]], ctx: Context, sample: str | None) -> ParsedTranscript:
    """Lists every line as a sample, keeping only the record of the one asked for (the first by default)."""
    samples = []
    chosen: tuple[int, dict] | None = None
    for number, record in records:
        if not _is_conversation(record):
            raise TranscriptError(
                "expected an object with a 'messages' list (one conversation per line, as on the first line)",
                line=number,
                format_id=FORMAT_ID,
            )
        samples.append({"id": f"line-{number}", "label": _label(record, number)})
        if chosen is None and sample in (None, f"line-{number}"):
            chosen = number, record
    if len(samples) == 1:
        samples = []
    sample_id = choose_sample(samples, sample, ctx)
    assert chosen is not None  # choose_sample refused a sample that no line is
    ctx.line, record = chosen
    parsed = conversation(record, ctx=ctx)
    if parsed.samples:
        ctx.warnings.append(f"Line {ctx.line} holds several response choices; the first one is shown.")
    return ParsedTranscript(
        format=FORMAT_ID, turns=parsed.turns, warnings=cap_warnings(ctx.warnings), samples=samples, sample=sample_id
    )


def detect(source: Source) -> bool:
    try:
        if source.is_jsonl:
            records = [record for _, record in source.head_records()]
        elif source.is_json and isinstance(source.json, dict):
            records = [source.json]
            if "messages" in source.json:  # one conversation object is plain JSON: the OpenAI chat format's
                return False
        else:
            return False
        if any(_AGENT_LOG_KEYS & record.keys() for record in records):
            return False
        if _is_conversation(records[0]):
            return all(
                _is_conversation(record)
                and not (_FOREIGN_KEYS & record.keys())
                and looks_like_messages(record["messages"])
                for record in records
            )
        return looks_like_messages(records)
    except Exception:  # detection must never raise
        return False


def parse(source: Source, *, sample: str | None = None) -> ParsedTranscript:
    ctx = Context(format_id=FORMAT_ID)
    try:
        records = _records(source, ctx)
        first = next(records, None)
        if first is None:
            raise ctx.error("The file holds no JSON lines.")
        records = itertools.chain([first], records)
        if _is_conversation(first[1]):
            return _conversations(records, ctx, sample)
        return _messages(records, ctx, sample)
    except TranscriptError as exc:  # the source's own errors (an unreadable line) name no format
        exc.format_id = exc.format_id or FORMAT_ID
        raise
    except RecursionError:
        raise ctx.error("The JSON is nested too deeply to read.") from None
