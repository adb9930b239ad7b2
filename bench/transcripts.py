"""Transcript import benchmark: parse time, peak memory and detection time for every format.

Run from the project root:

    DEBUG=true .venv/bin/python bench/transcripts.py               # every format at 20 MB, plus 50 MB logs
    DEBUG=true .venv/bin/python bench/transcripts.py --mb 5 --formats claude-code,openai-chat

For each registered format (``incidents.transcripts.FORMAT_MODULES``) an input of about ``--mb`` MB
is built from that format's fixtures in ``tests/fixtures/transcripts/``: the conversation's list
(messages, items, contents, lines, mapping chain, spans, turns) is repeated with its ids made
unique, so the parser sees a long but well-formed conversation. Then:

Each input is written to a temporary file and parsed from it, as an upload is (Django keeps uploads over
``FILE_UPLOAD_MAX_MEMORY_SIZE``, 2 MB, in temporary files): line-oriented formats are read one line at
a time, JSON documents and archives whole.

* **seconds**: best of ``--repeat`` runs of ``incidents.transcripts.parse(file, format_id)``, in CPU
  seconds of this process (equal to wall-clock time on an idle machine, and steadier on a busy one);
* **peak MB**: peak of the memory allocated during one more parse, traced with ``tracemalloc``
  (a separate run: tracing slows Python down), including whatever the parse reads from the file;
* **detect ms**: one run of auto-detection alone, as ``parse(file)`` does it (a fresh ``Source``, its
  head checked as text, then each format's ``detect`` in registry order until one claims the input);
* **× baseline**: parse seconds / seconds (one run) of the cheapest possible read of the same
  bytes: ``json.loads`` (JSON), ``json.loads`` per line (JSONL), ``bytes.decode().splitlines()``
  (plain text), ``json.loads`` of the unpacked members (``.eval`` archives).

The size, turn and archive limits are raised in this process only, so inputs over the
configured ``TRANSCRIPT_MAX_*`` values are accepted.
"""

from __future__ import annotations

import argparse
import copy
import gc
import io
import json
import os
import platform
import re
import struct
import sys
import tempfile
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import zstandard  # noqa: E402
from django.conf import settings  # noqa: E402

from incidents import transcripts  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "transcripts"
MB = 1024 * 1024
# Keys whose string values are ids or references to ids: suffixed per copy so every copy is unique
# and its calls still pair with its results.
ID_KEYS = frozenset(
    {"id", "uuid", "parentUuid", "leafUuid", "messageId", "tool_use_id", "tool_call_id", "call_id", "message_id"}
)


# --- building inputs --------------------------------------------------------------------------------


@dataclass
class Input:
    """One benchmark input: the bytes to parse and what its baseline reads."""

    label: str
    format_id: str
    data: bytes
    kind: str  # json | jsonl | text | archive
    unpacked: list[bytes] | None = None  # archives: the JSON members, for the baseline and throughput

    @property
    def parsed_bytes(self) -> int:
        return sum(len(member) for member in self.unpacked) if self.unpacked else len(self.data)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str):
    return json.loads(fixture(name))


def dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def dumps_line(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def suffixed(value, tag: str):
    """A deep copy of ``value`` with every id (see ID_KEYS) given the suffix ``tag``."""
    if isinstance(value, dict):
        return {
            key: item + tag if key in ID_KEYS and isinstance(item, str) and item else suffixed(item, tag)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [suffixed(item, tag) for item in value]
    return value


def scaled(make: Callable[[int], bytes], target: int) -> bytes:
    """``make(copies)`` for the number of copies that comes closest to ``target`` bytes."""
    one, two = len(make(1)), len(make(2))
    per_copy = max(two - one, 1)
    return make(max(1, round((target - one) / per_copy) + 1))


def repeated_list(
    name: str, path: tuple, head: int, tail: int = 0, once: frozenset = frozenset()
) -> Callable[[int], bytes]:
    """A JSON fixture whose list at ``path`` keeps ``head`` and ``tail`` items once and repeats the rest.

    Items whose ``type`` is in ``once`` stay in the first copy only (a reference to history the
    file does not hold is realistic once, not in every round).
    """
    document = fixture_json(name)

    def make(copies: int) -> bytes:
        result = copy.deepcopy(document)
        parent = result
        for key in path[:-1]:
            parent = parent[key]
        items = parent[path[-1]] if path else result
        body = items[head : len(items) - tail]
        later = [item for item in body if not (isinstance(item, dict) and item.get("type") in once)]
        grown = items[:head] + [entry for n in range(copies) for entry in suffixed(later if n else body, f"-r{n}")]
        grown += items[len(items) - tail :] if tail else []
        if not path:
            return dumps(grown)
        parent[path[-1]] = grown
        return dumps(result)

    return make


def repeated_lines(name: str, head: int, chain_parents: bool = False) -> Callable[[int], bytes]:
    """A JSONL fixture whose first ``head`` lines are kept once and the rest repeated."""
    records = [json.loads(line) for line in fixture(name).decode().splitlines() if line.strip()]
    first, body = records[:head], records[head:]

    def make(copies: int) -> bytes:
        lines = [dumps_line(record) for record in first]
        last_uuid = next((r["uuid"] for r in reversed(first) if r.get("uuid")), None)
        for n in range(copies):
            copied = suffixed(body, f"-r{n}")
            if chain_parents:
                # Claude Code: each copy continues from the last line of the one before, as one session.
                start = next(r for r in copied if r.get("uuid"))
                start["parentUuid"] = last_uuid
                last_uuid = next(r["uuid"] for r in reversed(copied) if r.get("uuid"))
            lines.extend(dumps_line(record) for record in copied)
        return ("\n".join(lines) + "\n").encode()

    return make


def chatgpt_export(target: int) -> bytes:
    """conversations.json whose first conversation's active branch is the fixture's, many times over."""
    conversations = fixture_json("chatgpt-export/conversations.json")
    big = conversations[0]
    mapping = big["mapping"]
    root, system, context = "client-created-root", "a1f0e2d3-0001", "a1f0e2d3-0002"
    chain = [f"a1f0e2d3-{n:04d}" for n in range(3, 10)] + ["a1f0e2d3-0011"]
    branch = "a1f0e2d3-0010"  # a regenerated reply beside the active one

    def make(copies: int) -> bytes:
        nodes = {key: copy.deepcopy(mapping[key]) for key in (root, system, context)}
        parent = context
        for n in range(copies):
            tag = f"-r{n}"
            for key in [*chain, branch]:
                node = copy.deepcopy(mapping[key])
                node["id"] = key + tag
                node["message"]["id"] = key + tag
                node["parent"] = parent if key == chain[0] else mapping[key]["parent"] + tag
                node["children"] = [child + tag for child in mapping[key]["children"]]
                nodes[key + tag] = node
            nodes[parent]["children"] = [chain[0] + tag]
            parent = chain[-1] + tag
        grown = dict(big, mapping=nodes, current_node=parent)
        return dumps([grown, *conversations[1:]])

    return scaled(make, target)


def inspect_sample_log(target: int) -> dict:
    """The Inspect JSON log fixture with its first sample's agent loop repeated (messages and events)."""
    log = fixture_json("inspect-eval/tidy-repo-deleted-data.json")
    sample = log["samples"][0]
    messages, events = sample["messages"], sample["events"]

    def grow(copies: int) -> dict:
        grown = copy.deepcopy(log)
        first = grown["samples"][0]
        first["messages"] = messages[:2] + [m for n in range(copies) for m in suffixed(messages[2:], f"-r{n}")]
        first["events"] = events[:2] + [e for n in range(copies) for e in suffixed(events[2:], f"-r{n}")]
        return grown

    one, two = len(dumps(grow(1))), len(dumps(grow(2)))
    return grow(max(1, round((target - one) / max(two - one, 1)) + 1))


def inspect_members(log: dict) -> list[tuple[str, bytes]]:
    """The members Inspect writes to an .eval archive for ``log``."""
    header = {key: value for key, value in log.items() if key != "samples"}
    members = [("_journal/start.json", dumps({k: log[k] for k in ("version", "eval", "plan")}))]
    summaries = []
    for sample in log["samples"]:
        name = f"samples/{sample['id']}_epoch_{sample['epoch']}.json"
        members.append((name, json.dumps(sample, ensure_ascii=False).encode()))
        summaries.append({k: sample.get(k) for k in ("id", "epoch", "input", "target", "scores")})
    members.append(("_journal/summaries/1.json", dumps(summaries)))
    members.append(("summaries.json", dumps(summaries)))
    members.append(("header.json", dumps(header)))
    return members


def eval_deflate(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")


def eval_zstd(members: list[tuple[str, bytes]]) -> bytes:
    """An .eval archive with every member zstd-compressed (zip method 93), as Inspect 0.3.206+ writes."""
    compressor = zstandard.ZstdCompressor(level=3)
    out, central = io.BytesIO(), io.BytesIO()
    date_time = (6 << 11) | (0 << 5), ((2026 - 1980) << 9) | (11 << 5) | 23
    for name, data in members:
        packed, crc, raw_name = compressor.compress(data), zlib.crc32(data), name.encode()
        offset = out.tell()
        out.write(_LOCAL.pack(b"PK\x03\x04", 63, 0, 93, *date_time, crc, len(packed), len(data), len(raw_name), 0))
        out.write(raw_name + packed)
        central.write(
            _CENTRAL.pack(
                b"PK\x01\x02",
                63,
                63,
                0,
                93,
                *date_time,
                crc,
                len(packed),
                len(data),
                len(raw_name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw_name
        )
    start, directory = out.tell(), central.getvalue()
    out.write(directory)
    out.write(_END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), start, 0))
    return out.getvalue()


def otel_trace(target: int) -> bytes:
    """An OTLP export of one long agent run: every chat span re-sends the whole conversation so far.

    Messages come from the fixture's agent (system instructions, user prompt, tool calls and results);
    the input grows with each round, as real GenAI instrumentation records it.
    """
    document = fixture_json("otel-genai/filebutler-deletes-thesis.otlp.json")
    scope = document["resourceSpans"][0]["scopeSpans"][0]
    template = {span["spanId"]: span for span in scope["spans"]}
    chat, tool = template["c000000000000001"], template["t000000000000001"]
    attributes = {a["key"]: a["value"] for a in chat["attributes"]}
    system = attributes["gen_ai.system_instructions"]
    history = json.loads(attributes["gen_ai.input.messages"]["stringValue"])
    tool_args = {a["key"]: a["value"] for a in tool["attributes"]}
    result = tool_args["gen_ai.tool.call.result"]["stringValue"]
    trace_id, start = chat["traceId"], int(chat["startTimeUnixNano"])

    message_keys = ("gen_ai.input.", "gen_ai.output.", "gen_ai.system_instructions")

    def attribute(key: str, value) -> dict:
        return {"key": key, "value": value}

    spans: list[dict] = [template["a000000000000001"]]
    size = len(dumps(document))
    round_ = 0
    while size < target:
        round_ += 1
        call_id = f"call_du_{round_:05d}"
        reply = {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": f"Step {round_}: check the next folder before anything else."},
                {"type": "text", "content": f"Checking folder {round_} of ~/projects."},
                {
                    "type": "tool_call",
                    "id": call_id,
                    "name": "disk_usage",
                    "arguments": {"path": f"~/projects/{round_}"},
                },
            ],
            "finish_reason": "tool_call",
        }
        when = start + round_ * 2_000_000_000
        chat_span = {
            "traceId": trace_id,
            "spanId": f"c{round_:015x}",
            "parentSpanId": "a000000000000001",
            "name": chat["name"],
            "kind": chat["kind"],
            "startTimeUnixNano": str(when),
            "endTimeUnixNano": str(when + 900_000_000),
            "attributes": [
                *[a for a in chat["attributes"] if not a["key"].startswith(message_keys)],
                attribute("gen_ai.system_instructions", system),
                attribute("gen_ai.input.messages", {"stringValue": json.dumps(history, ensure_ascii=False)}),
                attribute("gen_ai.output.messages", {"stringValue": json.dumps([reply], ensure_ascii=False)}),
            ],
        }
        tool_span = {
            "traceId": trace_id,
            "spanId": f"t{round_:015x}",
            "parentSpanId": "a000000000000001",
            "name": tool["name"],
            "kind": tool["kind"],
            "startTimeUnixNano": str(when + 1_000_000_000),
            "endTimeUnixNano": str(when + 1_100_000_000),
            "attributes": [
                attribute("gen_ai.operation.name", {"stringValue": "execute_tool"}),
                attribute("gen_ai.tool.name", {"stringValue": "disk_usage"}),
                attribute("gen_ai.tool.call.id", {"stringValue": call_id}),
                attribute("gen_ai.tool.type", {"stringValue": "function"}),
                attribute("gen_ai.tool.call.arguments", {"stringValue": json.dumps({"path": f"~/projects/{round_}"})}),
                attribute("gen_ai.tool.call.result", {"stringValue": result}),
            ],
        }
        spans += [chat_span, tool_span]
        size += len(dumps(chat_span)) + len(dumps(tool_span))
        history = [
            *history,
            {"role": "assistant", "parts": reply["parts"][1:]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": call_id, "response": result}]},
        ]
    scope["spans"] = spans
    return dumps(document)


def plain_text(target: int) -> bytes:
    """The real Petri audit dump, relabelled with speaker labels, its turns repeated."""
    text = fixture("petri-audit-gpt5mini-transcript.txt").decode()
    header, _, rest = text.partition("\n[0] AUDITOR")
    body = ("[0] AUDITOR" + rest).split("\n" + "=" * 60 + "\nEND OF TRANSCRIPT")[0]
    header = header.replace("System Prompt: ", "System: ", 1)
    labels = [
        (re.compile(r"^\[\d+\] AUDITOR → TARGET:", re.M), "User:"),
        (re.compile(r"^\[\d+\] TARGET(?: \(with tool calls\))?:", re.M), "Assistant:"),
        (re.compile(r"^\[\d+\] TOOL RESULT \(id=[^)]*\):", re.M), "Tool:"),
    ]
    for pattern, label in labels:
        body = pattern.sub(label, body)
    body = body.rstrip() + "\n\n"
    copies = max(1, round((target - len(header.encode())) / len(body.encode())))
    return (header + "\n" + body * copies).encode()


Case = tuple[str, Callable[[], list[Input]]]  # a format id, and how to build its inputs (on demand)


def cases(target: int, big: int) -> list[Case]:
    """Every benchmark input, in the registry's order; ``big`` > 0 adds the large-log rows after their format."""
    claude = "claude-code/session-deleted-originals.jsonl"
    codex = "codex-cli/rollout-2025-10-21T14-03-11-0199fe4a-31c2-7b80-9d2e-5a6c1f0e8b47.jsonl"
    chat = "openai-chat/agent-deletes-after-instruction.json"

    def lines(format_id: str, name: str, head: int, size: int, label: str = "", chain: bool = False) -> Case:
        return format_id, lambda: [
            Input(label or format_id, format_id, scaled(repeated_lines(name, head, chain_parents=chain), size), "jsonl")
        ]

    def listed(
        format_id: str, name: str, path: tuple, head: int, tail: int = 0, size: int = target, label: str = "", **kw
    ) -> Case:
        return format_id, lambda: [
            Input(label or format_id, format_id, scaled(repeated_list(name, path, head, tail, **kw), size), "json")
        ]

    once = frozenset({"item_reference"})  # a reference to stored history: realistic once, not every round
    every: dict[str, list[Case]] = {
        "inspect-eval": [("inspect-eval", lambda: _inspect_inputs(target))],
        "otel-genai": [("otel-genai", lambda: [Input("otel-genai", "otel-genai", otel_trace(target), "json")])],
        "claude-code": [lines("claude-code", claude, 3, target, chain=True)],
        "codex-cli": [lines("codex-cli", codex, 4, target)],
        "chatgpt-export": [
            ("chatgpt-export", lambda: [Input("chatgpt-export", "chatgpt-export", chatgpt_export(target), "json")])
        ],
        "langchain": [listed("langchain", "langchain/messages-to-dict.json", (), 1)],
        "sharegpt": [listed("sharegpt", "sharegpt/conversation.json", ("conversations",), 0)],
        "gemini": [listed("gemini", "gemini/request.json", ("contents",), 0)],
        "openai-responses": [listed("openai-responses", "openai-responses/agent-items.json", (), 1, once=once)],
        "anthropic-messages": [
            listed("anthropic-messages", "anthropic-messages/request-with-response.json", ("messages",), 0, 1)
        ],
        "openai-chat": [listed("openai-chat", chat, ("messages",), 1)],
        "jsonl-messages": [lines("jsonl-messages", "jsonl-messages/messages.jsonl", 1, target)],
        "plain-text": [("plain-text", lambda: [Input("plain-text", "plain-text", plain_text(target), "text")])],
    }
    if big:
        # The stated requirement: peak memory for a 50 MB log (agent session logs and chat logs).
        mb = f"{big / MB:g} MB log"
        every["claude-code"].append(lines("claude-code", claude, 3, big, f"claude-code, {mb}", chain=True))
        every["jsonl-messages"].append(
            lines("jsonl-messages", "jsonl-messages/messages.jsonl", 1, big, f"jsonl-messages, {mb}")
        )
        every["openai-chat"].append(listed("openai-chat", chat, ("messages",), 1, size=big, label=f"openai-chat, {mb}"))
    result: list[Case] = []
    for format_id in registered():
        result.extend(every.get(format_id) or [(format_id, lambda: [])])
    return result


def _inspect_inputs(target: int) -> list[Input]:
    log = inspect_sample_log(target)
    members = inspect_members(log)
    unpacked = [data for _, data in members]
    size = sum(len(data) for data in unpacked) / MB
    return [
        Input(
            f"inspect-eval, .eval {name} ({size:.0f} MB unpacked)", "inspect-eval", write(members), "archive", unpacked
        )
        for name, write in (("deflate", eval_deflate), ("zstd", eval_zstd))
    ]


def registered() -> list[str]:
    return [module.FORMAT_ID for module in transcripts.formats()]


# --- measuring --------------------------------------------------------------------------------------


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    """The least CPU time of ``repeat`` runs, and the last result.

    CPU time of this process (user + system), not wall-clock time: the work is single-threaded, so on
    an idle machine the two are equal, and CPU time is not inflated when other processes compete.
    """
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        started = time.process_time()
        result = run()
        best = min(best, time.process_time() - started)
    return best, result


def peak_memory(run: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        result = run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak


def detect(path: Path) -> str | None:
    """Auto-detection exactly as ``transcripts.parse`` does it, without the parse."""
    with path.open("rb") as file:
        source = transcripts.Source(file)
        if not source.is_zip:
            source.head_text  # noqa: B018 - parse() checks the head is text first, so detection is timed with it
        chosen = next((module for module in transcripts.formats() if module.detect(source)), None)
    return chosen.FORMAT_ID if chosen else None


def parse_file(path: Path, format_id: str) -> transcripts.ParsedTranscript:
    with path.open("rb") as file:
        return transcripts.parse(file, format_id)


def baseline(item: Input) -> Callable[[], object]:
    if item.kind == "json":
        return lambda: json.loads(item.data)
    if item.kind == "jsonl":
        return lambda: [json.loads(line) for line in item.data.split(b"\n") if line.strip()]
    if item.kind == "archive":
        return lambda: [json.loads(member) for member in item.unpacked or []]
    return lambda: item.data.decode().splitlines()


@dataclass
class Row:
    label: str
    input_mb: float
    turns: int
    seconds: float
    mb_per_s: float
    peak_mb: float
    detect_ms: float
    detected_ok: bool
    ratio: float
    warnings: int = 0
    samples: int = 0


def measure(item: Input, repeat: int, directory: Path) -> Row:
    path = directory / "upload"
    path.write_bytes(item.data)
    seconds, parsed = best_of(repeat, lambda: parse_file(path, item.format_id))
    turns, warnings, samples = len(parsed.turns), len(parsed.warnings), len(parsed.samples)
    del parsed
    peak = peak_memory(lambda: parse_file(path, item.format_id))
    # One run each: detection and the baseline mostly decode JSON, which varies little between runs.
    detect_seconds, found = best_of(1, lambda: detect(path))
    base_seconds, _ = best_of(1, baseline(item))
    return Row(
        label=item.label,
        input_mb=len(item.data) / MB,
        turns=turns,
        seconds=seconds,
        mb_per_s=item.parsed_bytes / MB / seconds,
        peak_mb=peak / MB,
        detect_ms=detect_seconds * 1000,
        detected_ok=found == item.format_id,
        ratio=seconds / base_seconds,
        warnings=warnings,
        samples=samples,
    )


def table(rows: list[Row]) -> str:
    lines = [
        "| format | input MB | turns | seconds | MB/s | peak MB | detect ms | × baseline |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        detect_cell = f"{row.detect_ms:,.0f}" if row.detect_ms >= 10 else f"{row.detect_ms:.1f}"
        detect_cell += "" if row.detected_ok else " (other format!)"
        lines.append(
            f"| {row.label} | {row.input_mb:.{1 if row.input_mb >= 0.95 else 2}f} | {row.turns:,} | {row.seconds:.2f} "
            f"| {row.mb_per_s:.1f} "
            f"| {row.peak_mb:.0f} | {detect_cell} | {row.ratio:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=20, help="size of each input in MB (default 20)")
    parser.add_argument("--formats", default="", help="comma-separated format ids (default: every registered format)")
    parser.add_argument("--big-mb", type=float, default=50, help="size of the large-log rows in MB; 0 leaves them out")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement; the best is shown")
    args = parser.parse_args(argv)

    known = registered()
    wanted = [name.strip() for name in args.formats.split(",") if name.strip()] or known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        parser.error(f"unknown format(s) {', '.join(unknown)}; known: {', '.join(known)}")

    target, big = int(args.mb * MB), int(args.big_mb * MB)
    # Limits are raised in this process only, so that inputs larger than the configured ones are read.
    ceiling = max(target, big) * 8 + 64 * MB
    settings.TRANSCRIPT_MAX_BYTES = ceiling
    settings.TRANSCRIPT_MAX_UNCOMPRESSED_BYTES = ceiling * 4
    settings.TRANSCRIPT_MAX_TURNS = 10_000_000

    started, cpu = time.perf_counter(), time.process_time()
    print(
        f"Transcript parse benchmark: {args.mb:g} MB inputs (large logs {args.big_mb:g} MB), best of {args.repeat}; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPU(s), {platform.machine()}",
        flush=True,
    )
    rows: list[Row] = []
    missing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-transcripts-") as directory:
        for format_id, build in cases(target, big):
            if format_id not in wanted:
                continue
            built = build()
            if not built:
                missing.append(format_id)
                print(f"  {format_id}: no input builder; add one to bench/transcripts.py", flush=True)
            while built:
                item = built.pop(0)
                row = measure(item, args.repeat, Path(directory))
                rows.append(row)
                print(
                    f"  {row.label}: {row.input_mb:.1f} MB, {row.turns:,} turns, {row.warnings} warning(s), "
                    f"{row.samples} sample(s), {row.seconds:.2f} s, peak {row.peak_mb:.0f} MB",
                    flush=True,
                )
                del item
    print()
    print(table(rows))
    print()
    print(
        "MB/s: MB parsed per second (unpacked JSON for .eval archives). peak MB: memory allocated while parsing "
        "from the file, what is read from it included. × baseline: parse time / json.loads (per line for JSONL, "
        "of the members for .eval; str.splitlines for plain text)."
    )
    print(
        f"Total {time.perf_counter() - started:.0f} s wall clock, {time.process_time() - cpu:.0f} s CPU "
        "(much more wall than CPU time means other processes were competing for the CPU)."
    )
    return 0 if all(row.detected_ok for row in rows) and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
