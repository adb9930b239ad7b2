"""The transcript viewer renders untrusted turns as text, whatever they hold."""

from html.parser import HTMLParser

from django.template.loader import render_to_string
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.transcripts import ROLES, make_turn

# The only elements the viewer itself writes; anything else in the output came from a transcript.
VIEWER_TAGS = {"section", "p", "code", "ol", "li", "a", "span", "time", "details", "summary", "pre", "label", "input"}
HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        "{{ request }}{% csrf_token %}",
        "\u202eevil\u202c",
        '"><svg onload=alert(1)>',
        "</pre></li></ol><iframe src=//evil>",
    ]
)
TEXT = st.lists(st.one_of(HOSTILE, st.text(max_size=40)), max_size=4).map("".join)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.add(tag)
        self.urls += [value or "" for name, value in attrs if name in ("href", "src")]


turns = st.lists(
    st.builds(
        lambda index, role, content, reasoning, name, arguments, raw: make_turn(
            index,
            role,
            content,
            reasoning=reasoning or None,
            tool_calls=[{"id": "c1", "name": name, "arguments": arguments}],
            tool_call_id=name,
            timestamp=name,
            raw=[{"type": name, "data": raw}],
        ),
        st.integers(0, 5),
        st.sampled_from(ROLES),
        TEXT,
        TEXT,
        TEXT,
        JSONISH,
        JSONISH,
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(turns)
def test_it_never_renders_a_tag_from_a_transcript(turns):
    html = render_to_string(
        "incidents/partials/transcript.html",
        {"transcript": {"format": "<b>fmt</b>", "warnings": ["<i>w</i>"]}, "turns": turns},
    )
    collector = TagCollector()
    collector.feed(html)
    assert collector.tags <= VIEWER_TAGS
    assert all(url.startswith("#turn-") for url in collector.urls)
