"""Helpers shared by the format parsers: error wording, sample choice, opaque payloads, turns in progress."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from incidents.transcripts import Source, TranscriptError, make_turn

# --- describing values in error messages --------------------------------------------------------------


def json_kind(value: Any) -> str:
    """A JSON value's kind in words: "an object", "a list", "a string", "a number", "a boolean" or "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def json_type(value: Any) -> str:
    """A JSON value's type by its JSON name: "object", "array", "string", "number", "boolean" or "null"."""
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def show(value: Any) -> str:
    """A value for an error message: a string quoted, anything else by its kind; at most 60 characters."""
    text = repr(value) if isinstance(value, str) else json_kind(value)
    return text if len(text) <= 60 else text[:57] + "…"


def join_path(path: str, key: str) -> str:
    """``messages[0]`` + ``role`` → ``messages[0].role``; a key alone at the top."""
    return f"{path}.{key}" if path else key


# --- values as text -----------------------------------------------------------------------------------


def id_text(value: Any) -> str | None:
    """An id or name as text: a string, or a number written out; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def scalar_text(value: Any) -> str:
    """A string, number or boolean as text; empty for anything else (missing, a list, an object)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return ""


# --- errors -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def parser_errors(format_id: str, *, too_deep: str = "The JSON is nested too deeply to read.") -> Iterator[None]:
    """Around a parser's work: its TranscriptErrors (and the source's own decoding errors, which name no
    format) name ``format_id``; running out of stack on deeply nested data is refused with ``too_deep``."""
    try:
        yield
    except TranscriptError as exc:
        exc.format_id = exc.format_id or format_id
        raise
    except RecursionError:
        raise TranscriptError(too_deep, format_id=format_id) from None


# --- logs of one JSON object per line ---------------------------------------------------------------


def object_lines(source: Source, format_id: str, what: str) -> Iterator[tuple[int, Any]]:
    """(line number, value) per record of a log written one JSON object per line, read lazily (see
    ``Source.records``); a file that is a single JSON value other than an object is refused as not ``what``."""
    if source.is_json and not isinstance(source.json, dict):
        raise TranscriptError(
            f"expected one JSON object per line ({what}); got a JSON {json_type(source.json)}",
            line=source.first_line,
            format_id=format_id,
        )
    return source.records(format_id)


# --- samples ------------------------------------------------------------------------------------------

LISTED_SAMPLES = 20


def select_sample(samples: list[dict], sample: str | None, format_id: str | None = None) -> int:
    """The position in ``samples`` of the one whose id is ``sample`` (the first when ``sample`` is None).

    An id that is not listed is refused with ``unknown_sample``.
    """
    if sample is None:
        return 0
    for position, entry in enumerate(samples):
        if entry["id"] == sample:
            return position
    raise unknown_sample(sample, [entry["id"] for entry in samples], format_id)


def unknown_sample(sample: str, ids: list[str], format_id: str | None = None) -> TranscriptError:
    """The refusal of a sample id that is not one of ``ids``, naming the first 20 of them and how many more."""
    listed = ", ".join(ids[:LISTED_SAMPLES])
    more = f" (and {len(ids) - LISTED_SAMPLES} more)" if len(ids) > LISTED_SAMPLES else ""
    return TranscriptError(f"Unknown sample {sample!r}; available samples: {listed}{more}.", format_id=format_id)


# --- opaque payloads ----------------------------------------------------------------------------------

# Keys naming a media type: an object with one of them holds a file, whose "data" is the file itself.
MEDIA_KEYS = ("media_type", "mimeType", "mime_type")
TRIM_CHARS = 256
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
_LONG_BASE64 = 2000


def has_media_type(value: dict) -> bool:
    return any(key in value for key in MEDIA_KEYS)


def omit_payloads(
    value: Any, is_payload: Callable[[dict, str, str], bool], *, max_depth: int = 12, lists: bool = True
) -> Any:
    """A copy of ``value`` whose opaque strings (base64 files, encrypted or signed data) are replaced by
    ``<N characters omitted>``: the strings for which ``is_payload(the object, key, string)`` is true.

    Objects nested deeper than ``max_depth`` are kept as they are, and so are lists unless ``lists``.
    """
    return _omit(value, is_payload, max_depth, lists, 0)


def _omit(value: Any, is_payload: Callable[[dict, str, str], bool], max_depth: int, lists: bool, depth: int) -> Any:
    if depth > max_depth:
        return value
    if isinstance(value, dict):
        return {
            key: (
                f"<{len(item)} characters omitted>"
                if isinstance(item, str) and is_payload(value, key, item)
                else _omit(item, is_payload, max_depth, lists, depth + 1)
            )
            for key, item in value.items()
        }
    if lists and isinstance(value, list):
        return [_omit(item, is_payload, max_depth, lists, depth + 1) for item in value]
    return value


def trim_payloads(value: Any, keys: frozenset[str]) -> Any:
    """``value`` with strings over 256 characters under ``keys`` replaced by their size, in objects nested
    up to five deep (as the agent session logs store blocks: lists inside are kept as they are)."""
    return omit_payloads(value, lambda _, key, item: key in keys and len(item) > TRIM_CHARS, max_depth=4, lists=False)


def drop_base64(value: Any) -> Any:
    """``value`` with base64 payloads (data URIs, long base64 runs) replaced by a note of their size."""
    if isinstance(value, str):
        if value.startswith("data:") and ";base64," in value[:200]:
            return f"[{value[5 : value.index(';')]} data removed, {len(value)} characters]"
        if len(value) > _LONG_BASE64 and _BASE64.fullmatch(value):
            return f"[base64 data removed, {len(value)} characters]"
        return value
    if isinstance(value, list):
        return [drop_base64(item) for item in value]
    if isinstance(value, dict):
        return {key: drop_base64(item) for key, item in value.items()}
    return value


# --- turns in progress --------------------------------------------------------------------------------


@dataclass(slots=True)
class TurnDraft:
    """A turn being gathered from several lines or messages of a log; empty text parts are left out."""

    role: str
    timestamp: str | None = None
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)
    tool_call_id: str | None = None
    raw: list[dict] = field(default_factory=list)


def finish_turns(drafts: list[TurnDraft]) -> list[dict]:
    """The drafts as numbered turns."""
    return [
        make_turn(
            index,
            draft.role,
            "\n\n".join(part for part in draft.text if part),
            tool_calls=draft.tool_calls,
            tool_call_id=draft.tool_call_id,
            reasoning="\n\n".join(part for part in draft.reasoning if part) or None,
            timestamp=draft.timestamp,
            raw=draft.raw,
        )
        for index, draft in enumerate(drafts)
    ]


class Segment:
    """The blocks of one message gathered into a turn until a block that is a turn of its own (a tool
    result, a system block) splits the message."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.texts: list[str] = []
        self.reasoning: list[str] = []
        self.calls: list[dict] = []
        self.raw: list[dict] = []

    def __bool__(self) -> bool:
        return bool(self.texts or self.reasoning or self.calls or self.raw)

    def emit_to(self, emit: Callable[..., None]) -> None:
        """Passes the gathered blocks to ``emit(role, content, **fields)`` as one turn, if there are any."""
        if self:
            emit(
                self.role,
                "\n\n".join(self.texts),
                tool_calls=self.calls,
                reasoning="\n\n".join(self.reasoning) or None,
                raw=self.raw,
            )
