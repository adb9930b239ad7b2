"""JSON Lines of chat messages: one Chat Completions-shaped message per line (``{"role": ..., "content":
...}``), each line one turn, converted exactly like the OpenAI Chat Completions parser converts a message.

Also the dataset shape of fine-tuning and batch files, decided by the first line: one whole conversation per
line (``{"messages": [...], "tools": ...}``); each line is then a sample (``line-<n>``) and the chosen one is
read like an OpenAI Chat Completions request.

Agent session logs are JSON Lines too (Claude Code: ``type``/``message``/``sessionId``; Codex CLI:
``type``/``payload``); their records carry no ``role`` of their own, so they are not claimed here.
"""

from __future__ import annotations

from typing import Any

from incidents.transcripts import ParsedTranscript, Source, TranscriptError
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


def _records(source: Source, ctx: Context) -> tuple[list[Any], list[int]]:
    """The records and the line number of each (blank lines are skipped)."""
    if source.is_json:  # a single line, or one pretty-printed object
        data = source.json
        if not isinstance(data, dict):
            raise ctx.error(
                f"expected JSON Lines, one message object per line; the file is a single JSON value ({kind(data)}). "
                "A JSON list of messages is read by the OpenAI Chat Completions format."
            )
        return [data], [source.first_line]
    try:
        numbered = source.jsonl_lines
    except TranscriptError as exc:
        exc.format_id = exc.format_id or FORMAT_ID
        raise
    if not numbered:
        raise ctx.error("The file holds no JSON lines.")
    return [record for _, record in numbered], [number for number, _ in numbered]


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


def _messages(records: list[Any], numbers: list[int], ctx: Context, sample: str | None) -> ParsedTranscript:
    choose_sample([], sample, ctx)
    turns: list[dict] = []
    for record, number in zip(records, numbers, strict=True):
        ctx.line = number
        turns.append(message_turn(record, len(turns), ctx=ctx))
    ctx.line = None
    check_pairing(turns, ctx)
    return ParsedTranscript(format=FORMAT_ID, turns=turns, warnings=cap_warnings(ctx.warnings))


def _conversations(records: list[Any], numbers: list[int], ctx: Context, sample: str | None) -> ParsedTranscript:
    samples = []
    for record, number in zip(records, numbers, strict=True):
        if not _is_conversation(record):
            raise TranscriptError(
                "expected an object with a 'messages' list (one conversation per line, as on the first line)",
                line=number,
                format_id=FORMAT_ID,
            )
        samples.append({"id": f"line-{number}", "label": _label(record, number)})
    if len(samples) == 1:
        samples = []
    chosen = choose_sample(samples, sample, ctx)
    position = next((i for i, entry in enumerate(samples) if entry["id"] == chosen), 0)
    ctx.line = numbers[position]
    parsed = conversation(records[position], ctx=ctx)
    if parsed.samples:
        ctx.warnings.append(f"Line {ctx.line} holds several response choices; the first one is shown.")
    return ParsedTranscript(
        format=FORMAT_ID, turns=parsed.turns, warnings=cap_warnings(ctx.warnings), samples=samples, sample=chosen
    )


def detect(source: Source) -> bool:
    try:
        if source.is_jsonl:
            records = source.jsonl
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
    records, numbers = _records(source, ctx)
    try:
        if _is_conversation(records[0]):
            return _conversations(records, numbers, ctx, sample)
        return _messages(records, numbers, ctx, sample)
    except RecursionError:
        raise ctx.error("The JSON is nested too deeply to read.") from None
