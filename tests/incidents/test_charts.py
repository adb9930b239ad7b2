"""SVG charts: labelled, titled, escaped, honest about suppressed cells."""

import xml.etree.ElementTree as ET

from incidents import charts
from incidents.stats import Breakdown, CrossTab, Figure

SVG = "{http://www.w3.org/2000/svg}"


def breakdown(values, hidden=(), labels=None) -> Breakdown:
    keys = [f"k{i}" for i in range(len(values))]
    cells = [Figure(v, i in hidden) for i, v in enumerate(values)]
    return Breakdown("x", keys, labels or [f"Label {i}" for i in range(len(values))], cells, Figure(sum(values)))


def test_it_draws_bars_with_title_description_axis_and_direct_labels():
    svg = charts.breakdown_bars("t", breakdown([120, 40, 3], hidden={2}), title="Things")
    root = ET.fromstring(str(svg))
    assert root.find(f"{SVG}title").text == "Things"
    assert "Label 0: 120" in root.find(f"{SVG}desc").text
    assert [r.get("data-value") for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"] == ["120", "40"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "120" in texts and "suppressed" in texts and "Published incidents" in texts
    assert "0" in texts  # the axis starts at zero


def test_it_escapes_names_typed_by_people():
    svg = charts.breakdown_bars("t", breakdown([12, 20], labels=["<script>alert(1)</script>", 'A & "B"']), title="x")
    assert "<script>" not in str(svg)
    root = ET.fromstring(str(svg))
    assert any(t.text == "<script>alert(1)</script>" for t in root.iter(f"{SVG}text"))


def test_it_stacks_months_and_shows_only_the_sum_of_suppressed_cells():
    rows = Breakdown("month", ["2026-01", "2026-02"], ["Jan 2026", "Feb 2026"], [Figure(50), Figure(30)], Figure(80))
    columns = breakdown([60, 20])
    table = CrossTab(rows, columns, [[Figure(45), Figure(5, True)], [Figure(15, True), Figure(15, False)]])
    svg = str(charts.stacked_columns("s", table, title="By month"))
    root = ET.fromstring(svg)
    segments = [r.get("data-value") for r in root.iter(f"{SVG}rect") if r.get("class") == "segment"]
    assert segments == ["45", "15"]
    assert "Jan 2026: 5 in suppressed cells" in svg  # 50 − 45, which the month total gives anyway
    assert "Month of publication" in svg and "Suppressed cells" in svg


def test_it_gives_each_chart_unique_pattern_ids():
    a = str(charts.breakdown_bars("one", breakdown([1]), title="a"))
    b = str(charts.breakdown_bars("two", breakdown([1]), title="b"))
    assert 'id="one-s0"' in a and 'id="two-s0"' in b
