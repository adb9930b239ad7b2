"""The staff triage queue at scale: /triage/ with 100,000 open incidents, against raw SQL.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ow_bench_triage \\
        .venv/bin/python bench/triage_queue.py --open 100000

Creates and migrates the bench database if needed and loads the incidents with COPY through
``bench/synthetic.py`` (skipped when the table already holds the same numbers of open and closed
incidents; ``--reload`` forces it).
Then, signed in as a staff user through Django's test client, it times best of N:

- the default queue (open incidents, oldest first), a filtered view (unassigned, high severity,
  most severe first), every open incident most severe first, the "Overdue" and "Mine" tabs, a
  full-text search, a search by public id, and deep pages (a cursor 50,000 rows in, as "Next
  page" gives after 1,000 clicks, and one 5,000 rows before the end);
- the number of SQL queries each page runs, and how long they take inside the page;
- the same first-page rows read with one raw SQL query (same filter, order, joins and limit),
  and the ratio between the two. The rows the page shows are checked against the raw SQL's.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import OPEN, best, load_queue, setup

TRIAGERS = 8
PAGE_SIZE_PLUS_ONE = 51  # the queue reads one row more than it shows, to know whether a next page exists
DEEP_ROW = 50_000


def staff_users() -> list:
    from django.contrib.auth import get_user_model

    users = []
    for n in range(TRIAGERS):
        user, _ = get_user_model().objects.get_or_create(
            username=f"bench-triager-{n}", defaults={"is_staff": True, "first_name": "Triager", "last_name": str(n)}
        )
        users.append(user)
    return users


# Raw SQL: the same rows as the page's first query pair, in one query with the same joins.
COLUMNS = (
    "i.id, i.public_id, i.title, i.status, i.override_type, i.system_name_reported, i.severity_band, "
    "i.severity_score, i.created, i.modified, i.disclosure_deadline, s.name, v.name, u.username, u.first_name, "
    "u.last_name"
)
JOINS = (
    "FROM incidents_incident i LEFT JOIN incidents_aisystem s ON s.id = i.ai_system_id "
    "LEFT JOIN incidents_vendor v ON v.id = s.vendor_id LEFT JOIN auth_user u ON u.id = i.assignee_id"
)
OPEN_SQL = "i.status IN ('submitted', 'triage', 'confirmed', 'vendor_notified', 'vendor_responded')"
SEARCH_SQL = (
    "to_tsvector('english'::regconfig, COALESCE(i.title, '') || ' ' || COALESCE(i.instruction, '') || ' ' "
    "|| COALESCE(i.action_taken, '')) @@ websearch_to_tsquery('english'::regconfig, %s)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, default=100_000, help="Open incidents (submitted … vendor responded).")
    parser.add_argument("--closed", type=int, default=25_000, help="Published, resolved, rejected and duplicates.")
    parser.add_argument("--repeat", type=int, default=7, help="Best of this many runs per page.")
    parser.add_argument("--reload", action="store_true", help="Load the incidents again even if the counts match.")
    parser.add_argument("--explain", action="store_true", help="Print the plan of each page's slowest query.")
    args = parser.parse_args()

    setup("ow_bench_triage")
    from django.db import connection
    from django.http import QueryDict
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from incidents.models import Incident
    from incidents.triage_filters import SORTS
    from incidents.views.triage import QueueKeyset

    users = staff_users()
    me = users[0]
    open_now = Incident.objects.filter(status__in=OPEN).count()
    closed_now = Incident.objects.exclude(status__in=OPEN).count()
    if args.reload or (open_now, closed_now) != (args.open, args.closed):
        print(f"Loading {args.open:,} open and {args.closed:,} closed incidents (now {open_now:,} and {closed_now:,}).")
        load_queue(args.open, args.closed, [u.pk for u in users])
    else:
        print(f"Reusing the {open_now:,} open and {closed_now:,} closed incidents already loaded.")

    # Deep pages: the cursors "Next page" gives at row 50,000 of the default order, and near its end.
    ordered = Incident.objects.filter(status__in=OPEN).order_by("created", "id").only("created", "id")
    depths = sorted({min(DEEP_ROW, max(1, args.open // 2)), max(1, args.open - 5_000)})
    deep_rows = {depth: ordered[depth - 1 : depth].get() for depth in depths}
    keyset = QueueKeyset("age", SORTS["age"])
    search_word = "calendar"
    public_id = (
        Incident.objects.filter(status__in=OPEN).order_by("id").values_list("public_id", flat=True)[args.open // 3]
    )

    open_filter = f"WHERE {OPEN_SQL}"
    pages = [
        ("Default: open, oldest first", "", f"{open_filter} ORDER BY i.created, i.id", []),
        (
            "Filtered: unassigned, high, most severe first",
            "?view=unassigned&severity_band=high&sort=severity",
            f"{open_filter} AND i.assignee_id IS NULL AND i.severity_band = 'high' "
            "ORDER BY COALESCE(i.severity_score, -1) DESC, i.created, i.id",
            [],
        ),
        (
            "Sorted: all open, most severe first",
            "?sort=severity",
            f"{open_filter} ORDER BY COALESCE(i.severity_score, -1) DESC, i.created, i.id",
            [],
        ),
        (
            "Overdue tab",
            "?overdue=on",
            f"{open_filter} AND i.status IN ('vendor_notified', 'vendor_responded') AND i.disclosure_deadline < now() "
            "ORDER BY i.created, i.id",
            [],
        ),
        ("Mine tab", "?view=mine", f"{open_filter} AND i.assignee_id = {me.pk} ORDER BY i.created, i.id", []),
        (
            f"Search “{search_word}”",
            f"?q={search_word}",
            f"{open_filter} AND {SEARCH_SQL} ORDER BY i.created, i.id",
            [search_word],
        ),
        (
            "Search by public id",
            f"?q={public_id}",
            f"{open_filter} AND i.public_id = %s ORDER BY i.created, i.id",
            [public_id],
        ),
        *(
            (
                f"Deep page (after row {depth:,})",
                keyset._url(QueryDict(""), row, forward=True),
                f"{open_filter} AND (i.created, i.id) > (%s, %s) ORDER BY i.created, i.id",
                [row.created, row.id],
            )
            for depth, row in deep_rows.items()
        ),
    ]

    client = Client(HTTP_HOST="localhost")
    client.force_login(me)
    row_ids = re.compile(r'href="/triage/(AIO-[0-9-]+)/" data-row-link')

    def page_run(path: str) -> dict:
        """One request: its wall time, its queries (count, total and slowest SQL time) and the rows shown."""
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get("/triage/" + path)
            seconds = time.perf_counter() - started
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        times = [float(q["time"]) for q in captured.captured_queries]
        return {
            "seconds": seconds,
            "queries": len(times),
            "sql": sum(times),
            "slowest": max(times),
            "slowest_sql": max(captured.captured_queries, key=lambda q: float(q["time"]))["sql"],
            "rows": row_ids.findall(response.content.decode()),
        }

    def raw_run(where: str, params: list) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {COLUMNS} {JOINS} {where} LIMIT {PAGE_SIZE_PLUS_ONE}", params)
            return [row[1] for row in cursor.fetchall()]

    def counts_run() -> None:
        from incidents.views.triage import status_counts

        status_counts()

    results = []
    with override_settings(OTP_REQUIRED_FOR_STAFF=False):
        for label, path, where, params in pages:
            shown = page_run(path)["rows"]  # a warm-up, and the rows to check
            expected = raw_run(where, params)[:50]
            assert shown == expected, f"{label}: the page shows other rows than the raw SQL: {shown[:3]} {expected[:3]}"
            fastest = min((page_run(path) for _ in range(args.repeat)), key=lambda run: run["seconds"])
            sql_time = best(lambda where=where, params=params: raw_run(where, params), args.repeat)
            results.append((label, fastest, sql_time))
        counts_time = best(counts_run, args.repeat)

    print()
    print(
        f"Incidents: {Incident.objects.filter(status__in=OPEN).count():,} open, "
        f"{Incident.objects.exclude(status__in=OPEN).count():,} closed; best of {args.repeat}; "
        f"PostgreSQL {connection.cursor().connection.info.server_version // 10000}"
    )
    print()
    header = (
        f"{'page':<48}{'rows':>5}{'queries':>8}{'SQL in page':>12}{'slowest query':>14}"
        f"{'page':>9}{'raw SQL':>9}{'page/raw':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, run, sql_time in results:
        print(
            f"{label:<48}{len(run['rows']):>5}{run['queries']:>8}{run['sql'] * 1000:>9.0f} ms"
            f"{run['slowest'] * 1000:>11.0f} ms{run['seconds'] * 1000:>6.0f} ms{sql_time * 1000:>6.1f} ms"
            f"{run['seconds'] / sql_time:>9.0f}"
        )
    print()
    print(f"Status counts (nine capped counts in one UNION ALL, part of every page): {counts_time * 1000:.1f} ms")
    print("Queries per page include the session, the user, the filter form's vendor and assignee choices,")
    print("the capped status counts, the page's ids and the page's rows: the same number whatever the page.")
    print("SQL times inside the page are Django's debug timings (millisecond resolution).")
    slowest = max(results, key=lambda r: r[1]["seconds"])
    print(f"Slowest page: {slowest[0]} at {slowest[1]['seconds'] * 1000:.0f} ms.")
    if args.explain:
        for label, run, _ in results:
            with connection.cursor() as cursor:
                # A server-side cursor's query is explained without its DECLARE … FOR.
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + re.sub(r"^DECLARE .*? FOR ", "", run["slowest_sql"]))
                plan = "\n    ".join(row[0] for row in cursor.fetchall())
            print(f"\n{label}: its slowest query\n    {run['slowest_sql'][:300]}…\n    {plan}")


if __name__ == "__main__":
    main()
