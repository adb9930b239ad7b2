"""The statistics page and its figures: every figure equals a direct count of published incidents."""

import csv
import io
import random
import secrets
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from incidents import rollup, stats, suppression
from incidents.models import (
    PUBLIC_STATUSES,
    AISystem,
    Context,
    Environment,
    Incident,
    IntakeChannel,
    OverrideType,
    ReporterType,
    Status,
    Vendor,
)

pytestmark = pytest.mark.django_db

BANDS = ["none", "low", "medium", "high", "critical", ""]


def generate(n: int, *, seed: int = 1, months: int = 6) -> list[Incident]:
    """Incidents in every status, skewed so that some cells are large and some small."""
    rng = random.Random(seed)
    vendors = [
        Vendor.objects.get_or_create(slug=f"vendor-{v}", defaults={"name": f"Vendor {v.upper()}"})[0] for v in "abcd"
    ]
    systems = [
        AISystem.objects.get_or_create(vendor=vendor, slug=f"system-{k}", defaults={"name": f"System {k}"})[0]
        for vendor in vendors
        for k in (1, 2)
    ]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = (
        [Status.PUBLISHED] * 6
        + [Status.RESOLVED] * 2
        + [
            Status.SUBMITTED,
            Status.TRIAGE,
            Status.CONFIRMED,
            Status.REJECTED,
            Status.VENDOR_NOTIFIED,
            Status.VENDOR_RESPONDED,
            Status.DUPLICATE,
        ]
    )
    incidents = []
    for i in range(n):
        status = rng.choice(statuses)
        system = rng.choices([*systems, None], weights=[30, 10, 8, 4, 3, 2, 1, 1, 5])[0]
        published = start + timedelta(days=rng.randrange(months * 30), hours=rng.randrange(24))
        notified = published - timedelta(days=rng.randrange(20, 100)) if system and rng.random() < 0.7 else None
        responded = notified + timedelta(days=rng.randrange(0, 120)) if notified and rng.random() < 0.8 else None
        incident = Incident(
            public_id=f"AIO-2099-{i:05d}",
            receipt_token=secrets.token_urlsafe(16),
            title=f"Generated {i}",
            instruction="Do not delete anything.",
            instruction_source="user_turn",
            action_taken="Deleted things.",
            reversibility="irreversible",
            acknowledged="yes",
            context=rng.choices(Context.values, weights=[20, 10, 5, 3, 1, 1])[0],
            environment=rng.choices(Environment.values, weights=[10, 3, 5])[0],
            system_name_reported="Typed name",
            ai_system=system,
            vendor_id=system.vendor_id if system else None,
            occurred_on=date(2026, 1, 1),
            reporter_type=rng.choices(ReporterType.values, weights=[20, 5, 5, 1, 2])[0],
            intake_channel=rng.choices(IntakeChannel.values, weights=[20, 3, 1])[0],
            override_type=rng.choices(OverrideType.values, weights=[30, 20, 10, 5, 5, 4, 3, 2, 1, 1, 1])[0],
            severity_band=rng.choices(BANDS, weights=[2, 5, 10, 6, 4, 1])[0],
            status=status,
            # Reopened incidents keep their publication date: they must not count either.
            published_at=published if status in PUBLIC_STATUSES or rng.random() < 0.3 else None,
            vendor_notified_at=notified,
            disclosure_deadline=notified + timedelta(days=90) if notified else None,
            first_vendor_response_at=responded,
            reproduction_count=rng.choices([0, 1, 2], weights=[8, 2, 1])[0],
        )
        incidents.append(incident)
    Incident.objects.bulk_create(incidents)
    canonical = Incident.objects.filter(status=Status.PUBLISHED).order_by("pk").first()
    # A duplicate never counts, even if it was once published.
    Incident.objects.filter(status=Status.DUPLICATE).update(duplicate_of=canonical)
    Incident.objects.filter(pk__in=[i.pk for i in incidents[:3] if i.status == Status.PUBLISHED]).exclude(
        pk=canonical.pk
    ).update(duplicate_of=canonical)
    return list(Incident.objects.all())


def counted(incidents: list[Incident], **where) -> list[Incident]:
    found = [i for i in incidents if i.status in PUBLIC_STATUSES and i.duplicate_of_id is None and i.published_at]
    return [i for i in found if all(getattr(i, k) == v for k, v in where.items())]


def month_of(incident: Incident) -> str:
    return f"{incident.published_at:%Y-%m}"


def check(figure: stats.Figure, expected: int) -> None:
    assert figure.value == expected
    if not figure.hidden:
        assert str(figure) == f"{expected:,}"


def test_it_matches_direct_counts_on_generated_data():
    incidents = generate(1500)
    rollup.rebuild()
    page = stats.page(stats.Filters())
    public = counted(incidents)
    check(page.total, len(public))
    assert not page.total.hidden
    by_type = Counter(i.override_type for i in public)
    for key, _, cell in page.by_month.columns.rows():
        check(cell, by_type[key])
        assert not cell.hidden  # unfiltered one-dimensional: shown as it is
    by_month = Counter(month_of(i) for i in public)
    for key, _, cell in page.by_month.rows.rows():
        check(cell, by_month[key])
    month_type = Counter((month_of(i), i.override_type) for i in public)
    for r, month in enumerate(page.by_month.rows.keys):
        for c, kind in enumerate(page.by_month.columns.keys):
            check(page.by_month.cells[r][c], month_type[(month, kind)])
            if suppression.is_small(month_type[(month, kind)]):
                assert page.by_month.cells[r][c].hidden
    month_band = Counter((month_of(i), i.severity_band or "unrated") for i in public)
    for r, month in enumerate(page.severity_by_month.rows.keys):
        for c, band in enumerate(page.severity_by_month.columns.keys):
            check(page.severity_by_month.cells[r][c], month_band[(month, band)])
    for name in ("environment", "context", "intake_channel", "reporter_type"):
        expected = Counter(getattr(i, name) for i in public)
        for key, _, cell in getattr(page, name).rows():
            check(cell, expected[key])
    for _, _, cell in page.intake_channel.rows():
        if suppression.is_small(cell.value):
            assert cell.hidden  # reporter-identifying even unfiltered
    vendors = Counter(i.vendor.slug if i.vendor_id else "none" for i in public)
    for key, _, cell in page.vendors.rows.rows():
        check(cell, vendors[key])
    critical = Counter(i.vendor.slug if i.vendor_id else "none" for i in public if i.severity_band == "critical")
    for r, key in enumerate(page.vendors.rows.keys):
        check(page.vendors.cells[r][0], critical[key])
    reproductions = Counter()
    for i in public:
        reproductions[i.override_type] += i.reproduction_count
    for key, _, cell in page.reproductions.rows():
        check(cell, reproductions[key])


def test_it_matches_direct_counts_under_filters_and_suppresses_every_small_figure():
    incidents = generate(1200, seed=2)
    rollup.rebuild()
    vendor = Vendor.objects.get(slug="vendor-a")
    filters = stats.Filters(vendor=vendor, exclude_lab=True)
    page = stats.page(filters)
    public = [i for i in counted(incidents, vendor_id=vendor.pk) if i.environment != Environment.EVALUATION]
    check(page.total, len(public))
    assert [k for k in page.environment.keys] == ["production", "pilot"]
    by_band = Counter(i.severity_band or "unrated" for i in public)
    for key, _, cell in page.severity_by_month.columns.rows():
        check(cell, by_band[key])
        if suppression.is_small(by_band[key]):
            assert cell.hidden  # filtered: every figure is protected
    by_month = Counter(month_of(i) for i in public)
    for key, _, cell in page.by_month.rows.rows():
        check(cell, by_month[key])


def test_it_counts_published_incidents_only(make_incident):
    make_incident(Status.PUBLISHED, override_type="coercion")
    make_incident(Status.RESOLVED, override_type="coercion")
    make_incident(Status.PUBLISHED, override_type="deception")
    for status in (Status.SUBMITTED, Status.CONFIRMED, Status.VENDOR_RESPONDED):
        make_incident(status, override_type="coercion")
    rollup.rebuild()
    by_type = {row.label: row.count for row in stats.by_override_type()}
    assert by_type["Coercion or manipulation"] == 2
    assert by_type["Deception about actions"] == 1
    assert sum(by_type.values()) == stats.total() == 3


def test_it_builds_the_rollup_on_first_read(make_incident):
    make_incident(Status.PUBLISHED)
    assert stats.total() == 1


def test_it_serves_cached_figures_until_the_next_refresh(make_incident, django_assert_max_num_queries):
    make_incident(Status.PUBLISHED)
    rollup.rebuild()
    assert stats.total() == 1
    make_incident(Status.PUBLISHED)
    with django_assert_max_num_queries(1):  # the refresh id; the figures come from the cache
        assert stats.total() == 1
    rollup.rebuild()
    assert stats.total() == 2


def test_it_renders_charts_tables_and_caveats(client):
    generate(400, seed=3)
    rollup.rebuild()
    response = client.get("/stats/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Published and resolved incidents only" in body
    assert "Counts are reports, not rates." in body
    assert "This view includes lab demonstrations" in body
    assert "Figures last refreshed" in body
    assert body.count("<svg") == 10
    assert "<table" in body and 'scope="col"' in body and 'scope="row"' in body
    assert "/stats/published-by-month.csv" in body


def test_it_says_when_lab_demonstrations_are_left_out(client):
    generate(200, seed=4)
    rollup.rebuild()
    response = client.get("/stats/", {"exclude_lab": "on"})
    assert b"Lab demonstrations are left out" in response.content
    assert response.context["page"].lab.value == 0


def test_it_keeps_filters_in_permalinks_and_downloads(client):
    generate(300, seed=5)
    rollup.rebuild()
    response = client.get("/stats/", {"vendor": "vendor-a", "from": "2026-02", "to": "2026-04"})
    assert response.status_code == 200
    assert b"/stats/systems.csv?from=2026-02&amp;to=2026-04&amp;vendor=vendor-a" in response.content
    assert [k for k in response.context["page"].by_month.rows.keys] == ["2026-02", "2026-03", "2026-04"]


def test_it_rejects_bad_filters_next_to_the_field(client):
    response = client.get("/stats/", {"from": "March", "vendor": "nobody", "severity_band": "apocalyptic"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "YYYY-MM" in form.errors["from"][0]
    assert "vendor" in form.errors and "severity_band" in form.errors
    assert client.get("/stats/", {"from": "2026-05", "to": "2026-01"}).status_code == 400


def test_it_downloads_each_chart_as_csv_and_json(client):
    incidents = generate(500, seed=6)
    rollup.rebuild()
    public = counted(incidents)
    response = client.get("/stats/environment.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Environment", "Published incidents"]
    expected = Counter(i.environment for i in public)
    assert {r[0]: r[1] for r in rows[1:]}["Production"] == str(expected["production"])
    data = client.get("/stats/intake-channel.json").json()
    assert data["chart"] == "intake-channel"
    assert data["total"]["values"]["incidents"] == len(public)
    for row in data["rows"]:
        if row["suppressed"]:
            assert row["values"]["incidents"] is None
    svg = client.get("/stats/context.svg")
    assert svg["Content-Type"].startswith("image/svg+xml") and b"<title" in svg.content
    assert client.get("/stats/nonsense.csv").status_code == 404
    bad = client.get("/stats/context.json", {"from": "x"})
    assert bad.status_code == 400 and "from" in bad.json()["errors"]


def test_it_never_shows_an_unpublished_incident_in_any_figure(client, make_incident):
    make_incident(Status.VENDOR_NOTIFIED, override_type="self_preservation")
    rejected = make_incident(Status.TRIAGE, override_type="self_preservation")
    Incident.objects.filter(pk=rejected.pk).update(status=Status.REJECTED)
    rollup.rebuild()
    page = stats.page(stats.Filters())
    assert page.total.value == 0
    assert page.by_month.columns.get("self_preservation").value == 0
    data = client.get("/stats/published-by-month.json").json()
    assert data["rows"] == []


def test_it_compares_two_vendors_over_the_same_months(client):
    generate(600, seed=7)
    rollup.rebuild()
    response = client.get("/stats/compare/", {"a": "vendor:vendor-a", "b": "vendor:vendor-b"})
    assert response.status_code == 200
    sides = response.context["sides"]
    assert [s.name for s in sides] == ["Vendor A", "Vendor B"]
    assert sides[0].page.by_month.rows.keys == sides[1].page.by_month.rows.keys
    assert response.content.count(b"<svg") == 2


def test_it_rejects_a_comparison_of_unlike_things(client):
    generate(50, seed=8)
    system = AISystem.objects.first()
    response = client.get("/stats/compare/", {"a": "vendor:vendor-a", "b": f"system:{system.pk}"})
    assert response.status_code == 400
    assert "two vendors, or two AI systems" in response.context["form"].errors["b"][0]
