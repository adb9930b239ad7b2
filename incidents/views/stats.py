"""Public statistics pages: /stats/, its downloads, the comparison view and the dataset."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from incidents import charts, dataset, stats, suppression
from incidents.models import AISystem, DatasetSnapshot, Vendor
from incidents.stats import Filters, StatsFilterForm

DOWNLOAD_CACHE = "public, max-age=300"


def _filters(request: HttpRequest) -> tuple[StatsFilterForm, Filters | None]:
    form = StatsFilterForm(request.GET or None)
    if not form.is_bound:
        form = StatsFilterForm({})
    return form, (form.filters() if form.is_valid() else None)


def index(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        return render(request, "stats/index.html", {"form": form, "charts": []}, status=400)
    page = stats.page(filters)
    query = filters.query_string()
    sections = [
        {
            "chart": chart,
            "svg": charts.svg(chart.slug, page),
            "table": charts.table(chart.slug, page),
            "query": query,
        }
        for chart in charts.CHARTS.values()
    ]
    return render(
        request,
        "stats/index.html",
        {
            "form": form,
            "filters": filters,
            "described": filters.describe(),
            "page": page,
            "charts": sections,
            "query": query,
            "explanation": suppression.EXPLANATION,
            "snapshot": dataset.latest(),
            "lab_toggle_url": _lab_toggle_url(filters),
        },
    )


def _lab_toggle_url(filters: Filters) -> str:
    params = filters.params()
    if filters.exclude_lab:
        params.pop("exclude_lab")
    else:
        params.pop("environment", None)  # "evaluation only" and "no lab" cannot both hold
        params["exclude_lab"] = "on"
    return reverse("stats:index") + (f"?{urlencode(params)}" if params else "")


def _errors(form: forms.Form) -> dict:
    return {"errors": {name: [str(e) for e in errors] for name, errors in form.errors.items()}}


def chart_data(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    if slug not in charts.CHARTS:
        raise Http404("No such chart.")
    form, filters = _filters(request)
    if filters is None:
        if fmt == "json":
            return JsonResponse(_errors(form), status=400)
        lines = [f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()]
        return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")
    page = stats.page(filters)
    table = charts.table(slug, page)
    if fmt == "json":
        response = JsonResponse(_table_json(slug, table, filters, page), json_dumps_params={"ensure_ascii": False})
    elif fmt == "svg":
        response = HttpResponse(charts.svg(slug, page), content_type="image/svg+xml; charset=utf-8")
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="override-watch-{slug}.csv"'
        writer = csv.writer(response)
        writer.writerow([table.row_header, *[label for _, label in table.columns]])
        for _, label, values in [*table.rows, *([("", *table.footer)] if table.footer else [])]:
            writer.writerow([label, *[_csv(v) for v in values]])
    response["Cache-Control"] = DOWNLOAD_CACHE
    return response


def _csv(value: object) -> str:
    if isinstance(value, stats.Figure):
        return suppression.MARKER if value.hidden else str(value.value)
    return str(value)


def _json(value: object) -> object:
    if isinstance(value, stats.Figure):
        return value.shown
    return value


def _table_json(slug: str, table: charts.DataTable, filters: Filters, page: stats.StatsPage) -> dict:
    keys = [key for key, _ in table.columns]

    def row(key: str, label: str, values: list) -> dict:
        return {
            "key": key,
            "label": label,
            "values": {k: _json(v) for k, v in zip(keys, values, strict=True)},
            "suppressed": [k for k, v in zip(keys, values, strict=True) if isinstance(v, stats.Figure) and v.hidden],
        }

    return {
        "chart": slug,
        "title": charts.CHARTS[slug].title,
        "filters": filters.params(),
        "refreshed_at": page.refreshed_at.isoformat(),
        "counts": "Published and resolved incidents only; duplicates count once, on their canonical incident.",
        "suppression": suppression.EXPLANATION + " Suppressed values are null.",
        "row_header": table.row_header,
        "columns": [{"key": k, "label": label} for k, label in table.columns],
        "rows": [row(*r) for r in table.rows],
        "total": row("total", *table.footer) if table.footer else None,
    }


# Comparison --------------------------------------------------------------------------------------


class CompareForm(forms.Form):
    """Two vendors, or two AI systems: ``?a=vendor:<slug>&b=vendor:<slug>`` or ``system:<id>``."""

    a = forms.ChoiceField(label="First")
    b = forms.ChoiceField(label="Second")
    exclude_lab = forms.BooleanField(label="Leave out lab demonstrations (evaluation / red-team)", required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            ("", "— choose —"),
            ("Vendors", [(f"vendor:{slug}", name) for slug, name in Vendor.objects.values_list("slug", "name")]),
            ("AI systems", [(f"system:{s.pk}", str(s)) for s in AISystem.objects.select_related("vendor")]),
        ]
        self.fields["a"].choices = self.fields["b"].choices = choices
        self.fields["from"] = stats.MonthField(label="From month", required=False)
        self.fields["to"] = stats.MonthField(label="To month", required=False)

    @staticmethod
    def _subject(value: str) -> Vendor | AISystem:
        kind, _, key = value.partition(":")
        if kind == "vendor":
            return Vendor.objects.get(slug=key)
        return AISystem.objects.select_related("vendor").get(pk=int(key))

    def clean(self) -> dict:
        cleaned = super().clean()
        a, b = cleaned.get("a"), cleaned.get("b")
        if a and b:
            if a == b:
                self.add_error("b", "Choose two different ones.")
            elif a.partition(":")[0] != b.partition(":")[0]:
                self.add_error("b", "Compare two vendors, or two AI systems.")
            else:
                cleaned["subject_a"], cleaned["subject_b"] = self._subject(a), self._subject(b)
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "“To” must be the same month as “From” or later.")
        return cleaned

    def filters(self, subject: Vendor | AISystem, start=None, end=None) -> Filters:
        data = self.cleaned_data
        key = "vendor" if isinstance(subject, Vendor) else "system"
        return Filters(
            start=start or data.get("from"),
            end=end or data.get("to"),
            exclude_lab=bool(data.get("exclude_lab")),
            **{key: subject},
        )


@dataclass
class Side:
    name: str
    page: stats.StatsPage
    svg: object
    query: str


def compare(request: HttpRequest) -> HttpResponse:
    form = CompareForm(request.GET or None)
    context = {"form": form}
    if not form.is_bound:
        return render(request, "stats/compare.html", context)
    if not form.is_valid():
        return render(request, "stats/compare.html", context, status=400)
    subjects = (form.cleaned_data["subject_a"], form.cleaned_data["subject_b"])
    pages = [stats.page(form.filters(s)) for s in subjects]
    # The same period for both: the span of either's months, unless the form fixed it.
    months = sorted({key for p in pages for key in p.by_month.rows.keys})
    if months:
        start = stats.MonthField().clean(months[0])
        end = stats.MonthField().clean(months[-1])
        pages = [stats.page(form.filters(s, start, end)) for s in subjects]
    sides = [
        Side(
            str(subject) if isinstance(subject, AISystem) else subject.name,
            p,
            charts.stacked_columns(f"compare-{i}", p.by_month, title=f"{subject}: incidents published per month"),
            p.filters_query,
        )
        for i, (subject, p) in enumerate(zip(subjects, pages, strict=True))
    ]
    rows = []
    for label, attribute in (("Kind of override", "by_month"), ("Severity", "severity_by_month")):
        a, b = (getattr(s.page, attribute).columns for s in sides)
        rows.append((label, [(lab, x, y) for lab, x, y in zip(a.labels, a.cells, b.cells, strict=True)]))
    for label, attribute in (("Environment", "environment"), ("Deployment context", "context")):
        a, b = (getattr(s.page, attribute) for s in sides)
        rows.append((label, [(lab, x, y) for lab, x, y in zip(a.labels, a.cells, b.cells, strict=True)]))
    months_a, months_b = (s.page.by_month.rows for s in sides)
    by_month = list(zip(months_a.labels, months_a.cells, months_b.cells, strict=True))
    context.update({"sides": sides, "groups": rows, "by_month": by_month, "explanation": suppression.EXPLANATION})
    return render(request, "stats/compare.html", context)


# Dataset ---------------------------------------------------------------------------------------


def dataset_index(request: HttpRequest) -> HttpResponse:
    snapshots = DatasetSnapshot.objects.order_by("-created", "-id")[:20]
    return render(
        request,
        "stats/dataset.html",
        {"snapshots": snapshots, "latest": snapshots[0] if snapshots else None, "columns": dataset.dictionary()},
    )


def dataset_file(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    snapshot = get_object_or_404(DatasetSnapshot, pk=pk)
    files = {f["name"]: f for f in snapshot.manifest.get("files", [])}
    stem = f"override-watch-incidents-{snapshot.created:%Y-%m-%d-%H%M%S}"
    if name == "manifest.json":
        body = json.dumps(snapshot.manifest, indent=2, ensure_ascii=False)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    elif name == "SHA256SUMS":
        response = HttpResponse(dataset.sha256sums(snapshot), content_type="text/plain; charset=utf-8")
    elif name in files and name.endswith(".csv"):
        return _stored(snapshot.csv_file, name, "text/csv; charset=utf-8")
    elif name in files and name.endswith(".jsonl"):
        return _stored(snapshot.jsonl_file, name, "application/jsonl; charset=utf-8")
    else:
        raise Http404(f"Snapshot files are {stem}.csv, {stem}.jsonl, manifest.json and SHA256SUMS.")
    response["Content-Disposition"] = f'inline; filename="{stem}-{name}"'
    return response


def _stored(field, name: str, content_type: str) -> FileResponse:
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404("This snapshot's file is no longer stored.") from None
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
