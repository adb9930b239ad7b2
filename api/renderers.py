"""JSON written by orjson: the same bytes as DRF's JSONRenderer, in about half the time.

orjson writes str, int, float, bool, None, lists and dicts itself; everything else (times, decimals,
lazy translations) goes through DRF's own encoder, so each value is written as before: UTC times end
in Z, decimals as DRF writes them, lazy text as text. Floats keep their value but not always their
spelling (0.00001 for 1e-05), and a NaN, which DRF refuses, would be written as null; the API's
responses hold no such floats.
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Times and dataclasses go to DRF's encoder (orjson would write +00:00, or a dataclass DRF refuses);
# dict keys that are not strings are written as the standard library writes them.
OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
drf_default = JSONEncoder().default


class OrjsonRenderer(JSONRenderer):
    """Compact UTF-8 JSON; indented output (the browsable API, ``; indent=``) stays with DRF's renderer."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if data is None:
            return b""
        if self.ensure_ascii or not self.compact or self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=drf_default, option=OPTIONS)
        except orjson.JSONEncodeError:
            # Beyond orjson's limits (nesting deeper than 254, integers beyond 64 bits): the standard
            # encoder writes it, or raises as it always did.
            return super().render(data, accepted_media_type, renderer_context)
        # Like DRF: line and paragraph separators escaped, so the JSON is also valid JavaScript.
        return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
