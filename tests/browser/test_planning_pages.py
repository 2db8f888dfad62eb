"""Planning pages in a real browser: the fiscal calendar, quotas, capacity and rebalancing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from planning.models import FiscalYear

pytestmark = pytest.mark.browser


@pytest.fixture
def wide(page: Page) -> Page:
    page.set_viewport_size({"width": 1440, "height": 900})
    return page


def test_admin_adds_a_fiscal_year_and_fills_a_years_months(wide: Page, live_server, world, login, shot):
    page = wide
    login(world.admin)
    page.goto(f"{live_server.url}/planning/")
    page.get_by_role("link", name="Fiscal calendar and settings").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fiscal calendar")
    page.get_by_role("button", name="Add the missing periods").click()
    expect(page.locator(".messages")).to_contain_text("FY2026: 12 periods added.")
    page.get_by_label("Fiscal year ending in").fill("2028")
    page.get_by_role("button", name="Add year").click()
    expect(page.locator(".messages")).to_contain_text("FY2028 created with its 4 quarters and 12 months")
    expect(page.get_by_role("article", name="FY2028")).to_contain_text("Jan 2028")
    page.get_by_label("Overloaded above (% of capacity)").fill("40")
    page.get_by_label("Has room below (% of capacity)").fill("60")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Must be below the overload threshold.")).to_be_visible()
    shot("planning-fiscal")
    assert FiscalYear.objects.get(name="FY2028").periods.count() == 16


def test_admin_plans_quotas_overrides_one_and_saves(wide: Page, live_server, world, login, shot):
    from decimal import Decimal

    from planning.models import Quota
    from territories.models import Territory

    page = wide
    fy = FiscalYear.objects.get(name="FY2026")
    login(world.admin)
    page.goto(f"{live_server.url}/planning/")
    page.get_by_role("link", name="Quotas").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quota planning FY2026")
    page.get_by_label("Target for the year").fill("2400000")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#quota-sum")).to_contain_text("adds up")
    east = Territory.objects.get(code="AMER-E")
    page.get_by_label("Override AMER-E").fill("900000")
    page.get_by_role("button", name="Save quotas").click()
    expect(page.locator(".messages")).to_contain_text("Saved the FY2026 quotas")
    expect(page.locator("#quota-sum")).to_contain_text("2,400,000.00")
    shot("planning-quotas")
    saved = Quota.objects.filter(period__fiscal_year=fy)
    assert sum(q.amount for q in saved) == Decimal(2400000)
    assert sum(q.amount for q in saved if q.territory_id == east.pk) == Decimal(900000)
    page.get_by_label("Override AMER-E").fill("3000000")
    page.get_by_role("button", name="Save quotas").click()
    expect(page.locator("#quota-error")).to_contain_text("more than the target")
    assert sum(q.amount for q in Quota.objects.filter(period__fiscal_year=fy)) == Decimal(2400000)


def test_capacity_planner_flags_and_sorts(wide: Page, live_server, world, login, shot):
    page = wide
    login(world.admin)
    page.goto(f"{live_server.url}/planning/")
    page.get_by_role("link", name="Capacity planner").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Capacity planner")
    table = page.locator("#capacity-table")
    expect(table).to_contain_text("AMER-C")  # vacant
    expect(table.locator("tr", has_text="AMER-C")).to_contain_text("Vacant")
    expect(table.locator("tr", has_text="AMER-W-PNW")).to_contain_text("Ramping")
    expect(page.locator("[data-chart=chart-capacity-load] .main-svg").first).to_be_visible(timeout=30000)
    page.get_by_role("link", name="Territory").first.click()
    expect(page.locator("#capacity-table tbody tr").first).to_contain_text("AMER-C")
    shot("planning-capacity")


def test_rebalancing_suggests_moves_and_proposes_one(wide: Page, live_server, world, login, shot):
    from planning.models import Reassignment

    page = wide
    login(world.admin)
    page.goto(f"{live_server.url}/planning/")
    page.get_by_role("link", name="Rebalancing").click()
    page.get_by_label("Tolerance (± % of the average)").fill("20")
    page.get_by_role("button", name="Suggest moves").click()
    expect(page.locator("#suggestions")).to_contain_text("AMER-W-CA")
    shot("planning-rebalance")
    page.get_by_role("button", name="Propose").first.click()
    expect(page.locator(".messages")).to_contain_text("created as a draft")
    assert Reassignment.objects.filter(kind="move_accounts").count() == 1
