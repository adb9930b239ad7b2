"""Server-rendered SVG charts: no JavaScript, readable in greyscale, always next to their data table.

Charts are built with ``format_html``, which escapes every label (vendor and system names are
typed by people). Axes start at zero and are labelled; every chart has a <title> and a <desc>
summarising it for screen readers; series are told apart by fill *and* pattern, and bars carry
their values as direct labels, so nothing depends on colour. Suppressed counts are drawn as one
hatched "suppressed" segment whose size is only what the published totals already give away.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from string import Formatter

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from incidents.stats import Breakdown, CrossTab
from incidents.suppression import MARKER

WIDTH = 720
INK = "#1b1f24"
MUTED = "#4a5360"
GRID = "#d0d5dc"
# Okabe–Ito, which stays distinguishable for the common colour-vision deficiencies; the pattern
# on top of each fill tells series apart in greyscale and print.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#555555")
PATTERNS = ("solid", "stripes", "dots", "cross", "solid", "stripes", "dots", "cross", "stripes", "dots", "cross")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: suppressed
    text: str


def _nice_step(maximum: float, ticks: int = 5) -> float:
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return max(factor * magnitude, 1)
    return 10 * magnitude


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _defs(prefix: str, series: int) -> SafeString:
    patterns = []
    for i in range(series):
        colour = COLOURS[i % len(COLOURS)]
        kind = PATTERNS[i % len(PATTERNS)]
        if kind == "solid":
            overlay = _svg("{}", "")
        elif kind == "dots":
            overlay = _svg('<circle cx="4" cy="4" r="{}" fill="#ffffff"/>', 1.6)
        else:
            path = "M0,8 L8,0" if kind == "stripes" else "M0,0 L8,8 M8,0 L0,8"
            overlay = _svg('<path d="{}" stroke="#ffffff" stroke-width="1.5"/>', path)
        patterns.append(
            _svg(
                '<pattern id="{}-s{}" width="8" height="8" patternUnits="userSpaceOnUse">'
                '<rect width="8" height="8" fill="{}"/>{}</pattern>',
                prefix,
                i,
                colour,
                overlay,
            )
        )
    patterns.append(
        _svg(
            '<pattern id="{}-hidden" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<rect width="6" height="6" fill="#ffffff"/><path d="M0,0 L0,6" stroke="{}" stroke-width="2"/></pattern>',
            prefix,
            MUTED,
        )
    )
    return _svg("<defs>{}</defs>", _join(patterns))


def _svg(template: str, *args: object) -> SafeString:
    """format_html, with number format specs ({:.1f}) applied before the arguments are escaped."""
    specs = [spec for _, name, spec, _ in Formatter().parse(template) if name is not None]
    formatted = [format(arg, spec) if spec else arg for arg, spec in zip(args, specs, strict=True)]
    return format_html(re.sub(r"\{:[^}]*\}", "{}", template), *formatted)


def _join(parts: Sequence[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _frame(prefix: str, height: int, title: str, desc: str, body: SafeString) -> SafeString:
    return _svg(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" width="{}" height="{}" '
        'role="img" aria-labelledby="{}-title {}-desc" font-family="system-ui, sans-serif" font-size="12">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        WIDTH,
        height,
        WIDTH,
        height,
        prefix,
        prefix,
        prefix,
        title,
        prefix,
        desc,
        body,
    )


def horizontal_bars(prefix: str, bars: Sequence[Bar], *, title: str, desc: str, axis: str, maximum=None) -> SafeString:
    """One bar per row, labelled on the left, its value printed at its end."""
    row, top, left, right = 26, 8, 230, 90
    height = top + row * max(len(bars), 1) + 40
    plot = WIDTH - left - right
    top_value = maximum if maximum is not None else max([b.value for b in bars if b.value is not None] or [0])
    step = _nice_step(top_value)
    scale_max = max(step * math.ceil(top_value / step), step)
    parts: list[SafeString] = [_defs(prefix, 1)]
    base = top + row * len(bars)
    for tick in range(int(scale_max / step) + 1):
        value = tick * step
        x = left + plot * value / scale_max
        parts.append(
            _svg(
                '<line x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" stroke="{}"/>'
                '<text x="{:.1f}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                x,
                top,
                x,
                base,
                GRID,
                x,
                base + 16,
                MUTED,
                _number(value),
            )
        )
    for i, bar in enumerate(bars):
        y = top + i * row
        parts.append(
            _svg('<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>', left - 8, y + 17, INK, _short(bar.label))
        )
        if bar.value is None:
            parts.append(
                _svg(
                    '<rect x="{}" y="{}" width="24" height="{}" fill="url(#{}-hidden)" stroke="{}"/>'
                    '<text x="{}" y="{}" fill="{}">{}</text>',
                    left,
                    y + 4,
                    row - 8,
                    prefix,
                    MUTED,
                    left + 30,
                    y + 17,
                    MUTED,
                    MARKER,
                )
            )
            continue
        width = plot * bar.value / scale_max if scale_max else 0
        parts.append(
            _svg(
                '<rect class="bar" x="{}" y="{}" width="{:.1f}" height="{}" fill="url(#{}-s0)" data-value="{}">'
                "<title>{}: {}</title></rect>"
                '<text x="{:.1f}" y="{}" fill="{}">{}</text>',
                left,
                y + 4,
                width,
                row - 8,
                prefix,
                bar.value,
                bar.label,
                bar.text,
                left + width + 6,
                y + 17,
                INK,
                bar.text,
            )
        )
    parts.append(
        _svg(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
            '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
            left,
            top,
            left,
            base,
            INK,
            left + plot / 2,
            base + 34,
            INK,
            axis,
        )
    )
    return _frame(prefix, height, title, desc, _join(parts))


def breakdown_bars(prefix: str, breakdown: Breakdown, *, title: str, axis: str = "Published incidents") -> SafeString:
    bars = [Bar(label, cell.shown, str(cell)) for _, label, cell in breakdown.rows()]
    shown = ", ".join(f"{bar.label}: {bar.text}" for bar in bars)
    return horizontal_bars(prefix, bars, title=title, desc=f"{title}. {shown}.", axis=axis)


def stacked_columns(prefix: str, table: CrossTab, *, title: str, axis: str = "Published incidents") -> SafeString:
    """One column per row of the table (months), stacked by its columns, with a legend."""
    series = table.columns
    months = list(table.rows.rows())
    legend_rows = math.ceil(len(series.keys) / 3) + 1
    top, left, bottom, right = 12, 56, 48, 12
    plot_height = 220
    height = top + plot_height + bottom + legend_rows * 20 + 8
    plot_width = WIDTH - left - right
    maximum = max([cell.value for _, _, cell in months if not cell.hidden] or [0])
    step = _nice_step(maximum)
    scale_max = max(step * math.ceil(maximum / step), step)
    parts: list[SafeString] = [_defs(prefix, len(series.keys))]
    base = top + plot_height
    for tick in range(int(scale_max / step) + 1):
        value = tick * step
        y = base - plot_height * value / scale_max
        parts.append(
            _svg(
                '<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="{}"/>'
                '<text x="{}" y="{:.1f}" text-anchor="end" fill="{}">{}</text>',
                left,
                y,
                left + plot_width,
                y,
                GRID,
                left - 6,
                y + 4,
                MUTED,
                _number(value),
            )
        )
    slot = plot_width / max(len(months), 1)
    bar_width = max(min(slot * 0.8, 40), 1)
    every = max(1, math.ceil(len(months) / 12))
    for i, (key, label, month_total) in enumerate(months):
        x = left + i * slot + (slot - bar_width) / 2
        y = base
        if month_total.hidden:
            parts.append(
                _svg(
                    '<rect x="{:.1f}" y="{}" width="{:.1f}" height="6" fill="url(#{}-hidden)" stroke="{}">'
                    "<title>{}: {}</title></rect>",
                    x,
                    base - 6,
                    bar_width,
                    prefix,
                    MUTED,
                    label,
                    MARKER,
                )
            )
        else:
            visible = 0
            for j, cell in enumerate(table.cells[i]):
                if cell.hidden or not cell.value:
                    continue
                h = plot_height * cell.value / scale_max
                y -= h
                visible += cell.value
                parts.append(
                    _svg(
                        '<rect class="segment" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" '
                        'fill="url(#{}-s{})" stroke="#ffffff" stroke-width="0.5" data-value="{}">'
                        "<title>{}, {}: {}</title></rect>",
                        x,
                        y,
                        bar_width,
                        h,
                        prefix,
                        j,
                        cell.value,
                        label,
                        series.labels[j],
                        f"{cell.value:,}",
                    )
                )
            rest = month_total.value - visible
            if rest > 0:
                # Only the sum of this month's suppressed cells, which its published total gives away.
                h = plot_height * rest / scale_max
                y -= h
                parts.append(
                    _svg(
                        '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="url(#{}-hidden)" '
                        'stroke="{}" stroke-width="0.5"><title>{}: {:,} in suppressed cells</title></rect>',
                        x,
                        y,
                        bar_width,
                        h,
                        prefix,
                        MUTED,
                        label,
                        rest,
                    )
                )
        if i % every == 0:
            parts.append(
                _svg(
                    '<text x="{:.1f}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                    left + i * slot + slot / 2,
                    base + 16,
                    MUTED,
                    key,
                )
            )
    parts.append(
        _svg(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
            '<text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle" fill="{}">{}</text>'
            '<text x="{}" y="{}" text-anchor="middle" fill="{}">Month of publication</text>',
            left,
            base,
            left + plot_width,
            base,
            INK,
            top + plot_height / 2,
            top + plot_height / 2,
            INK,
            axis,
            left + plot_width / 2,
            base + 34,
            INK,
        )
    )
    legend_top = base + bottom
    entries = [(f"url(#{prefix}-s{j})", label) for j, label in enumerate(series.labels)]
    entries.append((f"url(#{prefix}-hidden)", "Suppressed cells"))
    for n, (fill, label) in enumerate(entries):
        lx = left + (n % 3) * (plot_width / 3)
        ly = legend_top + (n // 3) * 20
        parts.append(
            _svg(
                '<rect x="{:.1f}" y="{}" width="14" height="14" fill="{}" stroke="{}"/>'
                '<text x="{:.1f}" y="{}" fill="{}">{}</text>',
                lx,
                ly,
                fill,
                MUTED,
                lx + 20,
                ly + 11,
                INK,
                _short(label, 34),
            )
        )
    if months:
        described = "; ".join(f"{label}: {cell}" for _, label, cell in months)
        desc = f"{title}, by month of publication. Totals per month: {described}."
    else:
        desc = f"{title}: nothing published in this selection."
    return _frame(prefix, height, title, desc, _join(parts))


# The catalogue: every chart on /stats/, its data table, and its downloads.


@dataclass
class DataTable:
    """A chart's figures as a table: the HTML table under the chart, and its CSV and JSON."""

    row_header: str
    columns: list[tuple[str, str]]  # (key, label)
    rows: list[tuple[str, str, list]]  # (key, label, values: Figure, or text such as a share)
    footer: tuple[str, list] | None = None  # ("All", values)
    notes: list[str] | None = None


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    about: str


CHARTS: dict[str, Chart] = {
    c.slug: c
    for c in (
        Chart(
            "published-by-month",
            "Incidents published per month, by kind of override",
            "Each column is a month of publication, stacked by the incident's primary kind of override.",
        ),
        Chart(
            "severity-by-month",
            "Severity over time",
            "The effective severity band (the triager's rating once given, otherwise the reporter's) per month.",
        ),
        Chart(
            "systems",
            "AI systems with the most published incidents",
            "The systems named most often, once staff have linked the incident to a canonical system.",
        ),
        Chart(
            "vendors",
            "Vendors with the most published incidents",
            "With the share of each vendor's incidents rated critical.",
        ),
        Chart(
            "environment",
            "Production, pilot and evaluation",
            "Where the override happened. Evaluation / red-team incidents are lab demonstrations.",
        ),
        Chart("context", "Deployment context", "What kind of AI product the override happened in."),
        Chart(
            "intake-channel",
            "How incidents reached us",
            "Web form, API or automated monitor: channels differ in who reports, so this shows reporting bias.",
        ),
        Chart(
            "reporter-type",
            "Who reported",
            "Reporters' own description of themselves. Always protected by small-cell suppression.",
        ),
        Chart(
            "response-times",
            "Vendor response times",
            "Days from notifying the vendor to its first answer, and the share answered before the disclosure "
            "deadline, over incidents whose vendor was notified.",
        ),
        Chart(
            "reproductions",
            "Confirmed reproductions",
            "Confirmed independent reproductions of published incidents, by kind of override.",
        ),
    )
}


def _crosstab_table(table: CrossTab, row_header: str) -> DataTable:
    columns = [*zip(table.columns.keys, table.columns.labels, strict=True), ("total", "Total")]
    rows = [(key, label, [*table.cells[i], row_total]) for i, (key, label, row_total) in enumerate(table.rows.rows())]
    return DataTable(row_header, columns, rows, ("All months", [*table.columns.cells, table.total]))


def _breakdown_table(breakdown: Breakdown, row_header: str, column: str = "Published incidents") -> DataTable:
    rows = [(key, label, [cell]) for key, label, cell in breakdown.rows()]
    return DataTable(row_header, [("incidents", column)], rows, ("Total", [breakdown.total]))


BREAKDOWN_HEADERS = {
    "environment": "Environment",
    "context": "Deployment context",
    "intake-channel": "Intake channel",
    "reporter-type": "Reporter type",
}


def table(slug: str, page) -> DataTable:
    if slug == "published-by-month":
        return _crosstab_table(page.by_month, "Month")
    if slug == "severity-by-month":
        return _crosstab_table(page.severity_by_month, "Month")
    if slug == "systems":
        return _breakdown_table(page.systems, "AI system")
    if slug == "vendors":
        vendors = page.vendors
        rows = [
            (key, label, [row_total, vendors.cells[i][0], page.critical_share[i]])
            for i, (key, label, row_total) in enumerate(vendors.rows.rows())
        ]
        critical = vendors.columns.cells[0]
        share = (
            MARKER
            if critical.hidden or vendors.total.hidden
            else (f"{critical.value / vendors.total.value:.0%}" if vendors.total.value else "–")
        )
        return DataTable(
            "Vendor",
            [("incidents", "Published incidents"), ("critical", "Critical"), ("critical_share", "Share critical")],
            rows,
            ("All vendors", [vendors.total, critical, share]),
        )
    if slug in BREAKDOWN_HEADERS:
        return _breakdown_table(getattr(page, slug.replace("-", "_")), BREAKDOWN_HEADERS[slug])
    if slug == "response-times":
        responses = page.responses
        crosstab = responses.vendors
        rows = []
        for i, (key, label, notified) in enumerate(crosstab.rows.rows()):
            before, late = crosstab.cells[i]
            rows.append((key, label, [notified, before, late, _share(before, notified), _days(responses.medians[i])]))
        before_all, late_all = crosstab.columns.cells
        return DataTable(
            "Vendor",
            [
                ("notified", "Incidents notified"),
                ("before_deadline", "Answered before the deadline"),
                ("late_or_never", "Answered late, or not at all"),
                ("share_before_deadline", "Share answered before the deadline"),
                ("median_days", "Median days to first answer"),
            ],
            rows,
            (
                "All vendors",
                [
                    crosstab.total,
                    before_all,
                    late_all,
                    _share(before_all, crosstab.total),
                    _days(responses.overall_median),
                ],
            ),
        )
    if slug == "reproductions":
        rows = [
            (key, label, [page.by_month.columns.cells[i], cell])
            for i, (key, label, cell) in enumerate(page.reproductions.rows())
        ]
        return DataTable(
            "Kind of override",
            [("incidents", "Published incidents"), ("reproductions", "Confirmed reproductions")],
            rows,
            ("All kinds", [page.by_month.total, page.reproductions.total]),
        )
    raise KeyError(slug)


def _share(part, whole) -> str:
    if part.hidden or whole.hidden:
        return MARKER
    return f"{part.value / whole.value:.0%}" if whole.value else "–"


def _days(median: float | None) -> str:
    return "–" if median is None else _number(median)


def svg(slug: str, page, prefix: str | None = None) -> SafeString:
    prefix = prefix or f"chart-{slug}"
    title = CHARTS[slug].title
    if slug == "published-by-month":
        return stacked_columns(prefix, page.by_month, title=title)
    if slug == "severity-by-month":
        return stacked_columns(prefix, page.severity_by_month, title=title)
    if slug == "vendors":
        return breakdown_bars(prefix, page.vendors.rows, title=title)
    if slug == "reproductions":
        return breakdown_bars(prefix, page.reproductions, title=title, axis="Confirmed reproductions")
    if slug == "response-times":
        crosstab = page.responses.vendors
        bars = []
        for i, (_, label, notified) in enumerate(crosstab.rows.rows()):
            before = crosstab.cells[i][0]
            if notified.hidden or before.hidden or not notified.value:
                bars.append(Bar(label, None, MARKER))
            else:
                share = 100 * before.value / notified.value
                bars.append(Bar(label, share, f"{share:.0f}%"))
        desc = f"{title}: share answered before the deadline. " + ", ".join(f"{b.label}: {b.text}" for b in bars)
        return horizontal_bars(
            prefix, bars, title=title, desc=desc, axis="Share answered before the deadline (%)", maximum=100
        )
    breakdown = getattr(page, slug.replace("-", "_"))
    return breakdown_bars(prefix, breakdown, title=title)
