"""The plan data page in Chromium: a planner picks a plan and a period and downloads the
workbook; the director's copy holds only their part of the plan."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from territories.models import AccountTerritory
from tests.analytics.fixtures import build
from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def company(transactional_db):
    c = build()
    AccountTerritory.objects.update(valid_from=timezone.make_aware(dt.datetime(2026, 1, 1)))
    for user in c.users.values():
        user.set_password(PASSWORD)
        user.save()
    return c


@pytest.mark.parametrize("role", ["admin", "director"])
def test_a_planner_downloads_the_plan_workbook(page: Page, live_server, login, shot, company, role):
    login(company.users[role])
    page.goto(f"{live_server.url}/planning/")
    page.get_by_role("link", name="Plan data").click()
    expect(page.get_by_role("heading", name="Plan data", level=1)).to_be_visible()
    page.get_by_label("Fiscal period (performance)").select_option(str(company.q3.pk))
    page.get_by_role("button", name="Show").click()
    accounts = {"admin": "4", "director": "3"}[role]
    expect(page.locator('[data-kpi="assignments"]')).to_have_text(accounts)
    shot(f"plan-data-{role}")
    with page.expect_download() as info:
        page.get_by_role("link", name="XLSX").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    with open(info.value.path(), "rb") as downloaded:  # the download's temporary name has no extension
        book = load_workbook(io.BytesIO(downloaded.read()), read_only=True)
    codes = {row[0] for row in book["Territories"].iter_rows(min_row=2, values_only=True)}
    assert ("OTHER" in codes) is (role == "admin")
    assert len(list(book["Assignments"].iter_rows(min_row=2))) == int(accounts)
