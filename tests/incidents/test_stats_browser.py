"""The statistics page in a real Chromium: charts render, filters and the lab switch change them."""

import pytest

from incidents import rollup
from tests.conftest import screenshot
from tests.incidents.test_stats import counted, generate

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def total_shown(page) -> str:
    return page.locator("#published-by-month tfoot td").last.inner_text()


def test_it_renders_charts_and_filters_change_them(live_server, page):
    incidents = generate(600, seed=21)
    rollup.rebuild()
    page.goto(live_server.url + "/stats/")
    assert page.get_by_role("heading", name="Statistics", exact=True).is_visible()
    charts = page.locator("svg.chart")
    assert charts.count() == 10
    assert page.locator("#published-by-month svg rect.segment").count() > 0
    assert page.locator("#environment svg rect.bar").count() == 3
    assert total_shown(page) == f"{len(counted(incidents)):,}"
    screenshot(page, "stats")

    page.locator("#id_vendor").select_option("vendor-a")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**vendor=vendor-a**")
    expected = len([i for i in counted(incidents) if i.vendor_id and i.vendor.slug == "vendor-a"])
    assert total_shown(page) == f"{expected:,}"
    assert "vendor Vendor A" in page.locator(".caveats").inner_text()


def test_it_switches_lab_demonstrations_off_and_on(live_server, page):
    incidents = generate(400, seed=22)
    rollup.rebuild()
    page.goto(live_server.url + "/stats/")
    assert "This view includes lab demonstrations" in page.locator("#lab-switch").inner_text()
    page.get_by_role("link", name="Leave them out").click()
    page.wait_for_url("**exclude_lab=on**")
    assert "Lab demonstrations are left out" in page.locator("#lab-switch").inner_text()
    assert page.locator("#environment svg rect.bar").count() == 2
    expected = len([i for i in counted(incidents) if i.environment != "evaluation"])
    assert page.locator("#environment tfoot td").inner_text() in (f"{expected:,}", "suppressed")
    page.get_by_role("link", name="Include them").click()
    assert page.locator("#environment svg rect.bar").count() == 3


def test_it_downloads_a_chart_as_csv(live_server, page):
    generate(200, seed=23)
    rollup.rebuild()
    page.goto(live_server.url + "/stats/")
    href = page.locator("#context .downloads a", has_text="CSV").get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text().splitlines()[0] == "Deployment context,Published incidents"
