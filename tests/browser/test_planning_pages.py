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
