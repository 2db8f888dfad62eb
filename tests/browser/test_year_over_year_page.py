"""Year over year in Chromium: a director opens it (an analytics tab) and reads the move a
mid-year proposal made, in their part of the tree only."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.analytics.test_year_over_year import two_years
from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def company(transactional_db):
    c = two_years()
    for user in c.users.values():
        user.set_password(PASSWORD)
        user.save()
    return c


def test_a_director_reads_the_year_against_the_last(page: Page, live_server, login, shot, company):
    # FY2026 is the year covering today, or the latest one on the calendar once it has ended.
    login(company.users["director"])
    page.goto(f"{live_server.url}/analytics/year-over-year/")
    expect(page.get_by_role("link", name="Year over year")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Year over year", level=1)).to_be_visible()
    row_a = page.locator('tr[data-code="A"]')
    expect(row_a.locator('[data-col="change"]')).to_have_text("+1")
    expect(row_a.locator('[data-col="mid-year"]')).to_contain_text("+1")
    expect(page.locator('tr[data-code="B"] [data-col="mid-year"]')).to_contain_text("-1")
    expect(page.locator('tr[data-code="OTHER"]')).to_have_count(0)
    shot("year-over-year-director")
    page.get_by_label("Fiscal year", exact=True).select_option(str(company.fy25.pk))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("is the first fiscal year on the calendar")).to_be_visible()
