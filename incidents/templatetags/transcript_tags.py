"""Template helpers for the transcript viewer. They return plain strings: autoescaping still applies."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()

# Turns longer than this show their start, with the rest behind "Show all".
LONG_TURN = 3000


@register.filter
def pretty_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


@register.filter
def is_long(text: str | None) -> bool:
    return bool(text) and len(text) > LONG_TURN


@register.filter
def head(text: str) -> str:
    return text[:LONG_TURN]
