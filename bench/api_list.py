"""The public incident list at scale: ``GET /api/v1/incidents/`` against raw psycopg serving the same JSON.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ow_bench \\
        .venv/bin/python bench/api_list.py --incidents 100000

Creates and migrates the database if needed and loads the incidents with COPY through
``bench/synthetic.py`` (skipped when the table already holds that many; ``bench/stats.py`` reads
the same data, so both benches share one load). Then it times, anonymously and with pages of 50:

- the first page (``?page_size=50``), a deep page (a cursor at about 90 % of the published
  incidents, as a client following ``next`` would reach it) and first pages with a filter (a
  vendor, a rare override type, a common environment, a publication date), through Django's test
  client: the whole stack (middleware, DRF, token/throttle checks, the FilterSet, keyset
  pagination, the items built from rows, the orjson renderer); rate limits are raised out of reach
  and ``DEBUG`` is off while timing (no query logging);
- a baseline: one psycopg connection running the same keyset SQL (the same rows, joined to the
  vendor and system slugs) and ``orjson`` (``json`` when orjson is not installed) writing the same
  JSON document, ``next`` link included;

and prints the SQL queries per API page, milliseconds per request (best and median of N),
requests per second and the ratio.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import load_history, setup, timings

try:
    import orjson

    def dumps(value: object) -> bytes:
        return orjson.dumps(value)

    ENCODER = f"orjson {orjson.__version__}"
except ImportError:  # the baseline still runs, with the standard library

    def dumps(value: object) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    ENCODER = "json (orjson is not installed)"

PAGE_SIZE = 50
BASE = "http://localhost/api/v1/incidents/"

# The list's rows: what api.serializers.list_items reads, with the same joins.
SQL = """
SELECT i.id, i.public_id, i.status, i.title, v.slug, s.slug, i.system_name_reported, i.system_version_reported,
       i.override_type, i.environment, i.context, i.severity_score, i.severity_band, i.reporter_severity_vector,
       i.triager_severity_vector, i.vendor_severity_vector, i.occurred_on, i.created, i.published_at, i.modified
FROM incidents_incident i
LEFT JOIN incidents_vendor v ON v.id = i.vendor_id
LEFT JOIN incidents_aisystem s ON s.id = i.ai_system_id
WHERE i.status IN ('published', 'resolved') {where}
ORDER BY i.published_at DESC NULLS FIRST, i.id DESC
LIMIT %(limit)s
"""
# The keyset condition as a hand-written query would put it: a row comparison, one index range.
AFTER = "AND (i.published_at, i.id) < (%(value)s, %(pk)s)"


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def cursor_for(published_at: datetime, pk: int, *, backwards: bool = False) -> str:
    """The cursor the API itself writes for this position (api/pagination.py)."""
    data = {"o": "-published_at", "v": iso(published_at), "pk": pk, "b": backwards}
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def raw_page(conn, where: str, params: dict, query: str, position: tuple[datetime, int] | None) -> bytes:
    params = {**params, "limit": PAGE_SIZE + 1}
    if position is not None:
        where = f"{where} {AFTER}"
        params.update(value=position[0], pk=position[1])
    rows = conn.execute(SQL.format(where=where), params).fetchall()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    results = []
    for r in rows:
        results.append(
            {
                "public_id": r[1],
                "url": f"{BASE}{r[1]}/",
                "status": r[2],
                "title": r[3],
                "vendor": r[4],
                "ai_system": r[5],
                "system_name_reported": r[6],
                "system_version_reported": r[7],
                "override_type": r[8],
                "environment": r[9],
                "context": r[10],
                "severity": {
                    "score": str(r[11]) if isinstance(r[11], Decimal) else None,
                    "band": r[12] or None,
                    "reporter_vector": r[13] or None,
                    "triager_vector": r[14] or None,
                    "vendor_vector": r[15] or None,
                },
                "occurred_on": iso(r[16]),
                "created": iso(r[17]),
                "published_at": iso(r[18]),
                "modified": iso(r[19]),
            }
        )
    link = f"{BASE}?page_size={PAGE_SIZE}{query}&cursor="
    next_link = link + cursor_for(rows[-1][18], rows[-1][0]) if more and rows else None
    previous = link + cursor_for(rows[0][18], rows[0][0], backwards=True) if position is not None and rows else None
    return dumps({"next": next_link, "previous": previous, "results": results})


def warm_timings(fn, repeat: int) -> list[float]:
    fn()  # warm: plans cached, code paths loaded
    return timings(fn, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--reload", action="store_true", help="Load the incidents again even if the count matches.")
    args = parser.parse_args()

    url = setup("ow_bench")
    import psycopg
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from incidents.models import Incident, Vendor

    existing = Incident.objects.count()
    if args.reload or existing != args.incidents:
        print(f"Loading {args.incidents:,} incidents (the table holds {existing:,}).")
        load_history(args.incidents)
    else:
        print(f"Reusing the {existing:,} incidents already loaded.")

    published = Incident.objects.published()
    visible = published.count()
    deep_at = int(visible * 0.9)
    deep_row = published.order_by("-published_at", "-id").values_list("published_at", "id")[deep_at]
    vendor = Vendor.objects.get(slug="vendor-05")
    since = datetime(2025, 1, 1, tzinfo=UTC)
    # (label, query string, the baseline's extra condition and parameters, the cursor's position)
    pages = [
        ("first page", "", "", {}, None),
        (f"deep page (row {deep_at:,})", f"&cursor={cursor_for(*deep_row)}", "", {}, deep_row),
        ("vendor=vendor-05", "&vendor=vendor-05", "AND i.vendor_id = %(vendor)s", {"vendor": vendor.pk}, None),
        ("override_type=coercion", "&override_type=coercion", "AND i.override_type = 'coercion'", {}, None),
        ("environment=evaluation", "&environment=evaluation", "AND i.environment = 'evaluation'", {}, None),
        (
            "published_after=2025-01-01",
            "&published_after=2025-01-01",
            "AND i.published_at >= %(since)s",
            {"since": since},
            None,
        ),
    ]

    client = Client(HTTP_HOST="localhost")
    # The views name their throttles themselves: the rates are raised out of reach instead.
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1000000/min", "user": "1000000/min"}
    unthrottled = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    def django_get(path: str) -> bytes:
        response = client.get(path)
        assert response.status_code == 200, response.content[:500]
        return response.content

    def counted(path: str) -> tuple[bytes, int]:
        """The page and the SQL queries it ran, counted as they run (the query log is reset per request)."""
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            body = django_get(path)
        return body, len(queries)

    results = {}
    with (
        psycopg.connect(url) as conn,
        override_settings(DEBUG=False, ALLOWED_HOSTS=["localhost"], REST_FRAMEWORK=unthrottled),
    ):
        for label, query, where, params, position in pages:
            path = f"/api/v1/incidents/?page_size={PAGE_SIZE}{query}"

            def raw(where=where, params=params, query=query, position=position) -> bytes:
                return raw_page(conn, where, params, query if position is None else "", position)

            # Both serve the same rows.
            body, queries = counted(path)
            via_django = [r["public_id"] for r in json.loads(body)["results"]]
            via_raw = [r["public_id"] for r in json.loads(raw())["results"]]
            assert via_django == via_raw and len(via_raw) == PAGE_SIZE, f"{label}: the two do not serve the same rows"
            api_times = warm_timings(lambda path=path: django_get(path), args.repeat)
            results[label] = (queries, api_times, warm_timings(raw, args.repeat))

    print()
    print(f"Incidents: {Incident.objects.count():,} ({visible:,} published or resolved)")
    print(f"Pages of {PAGE_SIZE}, anonymous; {args.repeat} runs each after one warm-up")
    print(f"Baseline: psycopg {psycopg.__version__} + {ENCODER}")
    print()
    print(
        f"{'page':<30}{'queries':>8}{'API best':>10}{'API median':>12}{'raw best':>10}{'raw median':>12}"
        f"{'API req/s':>11}{'raw req/s':>11}{'ratio':>8}"
    )
    for label, (queries, api, raw) in results.items():
        api_med, raw_med = statistics.median(api), statistics.median(raw)
        print(
            f"{label:<30}{queries:>8}{min(api) * 1000:>8.2f}ms{api_med * 1000:>10.2f}ms{min(raw) * 1000:>8.2f}ms"
            f"{raw_med * 1000:>10.2f}ms{1 / api_med:>11.0f}{1 / raw_med:>11.0f}{api_med / raw_med:>7.1f}x"
        )


if __name__ == "__main__":
    main()
