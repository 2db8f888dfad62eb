"""Analytics dashboards in Chromium: every chart draws with data for each role, under the strict
Content-Security-Policy (no violation reported)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from analytics.services import coverage_snapshot_take
from salesos.models import Account
from tests import factories
from tests.analytics.fixtures import build
from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def company(transactional_db):
    c = build()
    for user in c.users.values():
        user.set_password(PASSWORD)
        user.save()
    factories.make_account(name="Queue TX", state="US-TX", metro="Austin", potential=1000)
    for key, potential in (("a1", 1_200_000), ("a2", 800_000), ("b1", 2_500_000)):
        Account.objects.filter(pk=c.accounts[key].pk).update(potential=potential)
    today = timezone.localdate()
    for back in (2, 1, 0):
        coverage_snapshot_take(day=today - dt.timedelta(days=back))
    return c


@pytest.fixture
def csp_errors(page: Page):
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def drawn(page: Page, chart_id: str) -> None:
    chart = page.locator(f'[data-chart="{chart_id}"]')
    expect(chart.locator(".main-svg").first).to_be_attached()
    assert chart.locator(".trace").count() > 0


@pytest.mark.parametrize("role", ["admin", "director", "manager"])
def test_the_coverage_dashboard_draws_its_trend(page: Page, live_server, login, shot, company, csp_errors, role):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(company.users[role])
    page.goto(f"{live_server.url}/analytics/")
    drawn(page, "chart-coverage-trend")
    expect(page.locator("[data-kpi=white-space]")).to_have_text("2")
    shot(f"analytics-coverage-{role}")
    assert not csp_errors


@pytest.mark.parametrize("role", ["admin", "director", "manager", "rep"])
def test_the_performance_page_draws_its_charts(page: Page, live_server, login, shot, company, csp_errors, role):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(company.users[role])
    page.goto(f"{live_server.url}/analytics/performance/?period={company.q3.pk}")
    drawn(page, "chart-won-quota")
    drawn(page, "chart-rates")
    if role in ("admin", "director"):
        page.get_by_role("link", name="ROOT Root region").click()
        expect(page.locator("[data-kpi=attainment]")).to_have_text("75.0%")
        drawn(page, "chart-won-quota")
    shot(f"analytics-performance-{role}")
    assert not csp_errors


@pytest.mark.parametrize("role", ["admin", "director", "manager", "rep"])
def test_forecast_and_credit_draw_their_charts(page: Page, live_server, login, shot, company, csp_errors, role):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(company.users[role])
    page.goto(f"{live_server.url}/analytics/forecast/?period={company.q3.pk}")
    drawn(page, "chart-forecast")
    shot(f"analytics-forecast-{role}")
    page.goto(f"{live_server.url}/analytics/credit/?period={company.q3.pk}")
    drawn(page, "chart-credit")
    shot(f"analytics-credit-{role}")
    assert not csp_errors


@pytest.mark.parametrize("role", ["admin", "director"])
def test_compare_draws_bars_spread_and_scatter(page: Page, live_server, login, shot, company, csp_errors, role):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(company.users[role])
    page.goto(f"{live_server.url}/analytics/compare/?period={company.q3.pk}&level=2")
    for chart in ("chart-compare-bars", "chart-compare-spread", "chart-compare-tam"):
        drawn(page, chart)
    expect(page.locator("[data-coaching=territories]")).to_contain_text("Beta desk")
    shot(f"analytics-compare-{role}")
    assert not csp_errors
