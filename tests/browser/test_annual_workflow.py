"""The annual planning workflow in Chromium, end to end, as a sales ops admin: copy the active plan
into a new draft, edit a rule in the draft with the rule builder, simulate it and read the impact,
submit it for review, approve it in the approvals inbox, see it staged and locked, schedule its
activation for tomorrow, let the daily task run on a frozen date (nothing the day before), and see
the new plan active with every account placed; the rep then sees the accounts the new plan gives
them. Every plan page is screenshotted on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from planning.plans.activate import plans_activate_due
from salesos.models import Account
from territories.models import AccountTerritory, Territory, TerritoryPlan
from tests.browser.conftest import PASSWORD
from tests.planning.sim_helpers import company

pytestmark = pytest.mark.browser


@pytest.fixture
def org(transactional_db):
    world = company()
    for user in (world.admin, world.rep):
        user.set_password(PASSWORD)
        user.save()
    return world


def _placed(plan: TerritoryPlan) -> dict[str, str]:
    rows = AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True)
    return dict(rows.values_list("account__name", "territory__code"))


def test_an_admin_runs_the_annual_workflow_end_to_end(page: Page, live_server, org, login, shot):
    page.set_viewport_size({"width": 1440, "height": 900})
    live = org.active
    login(org.admin)

    # 1. Copy the active plan into a new draft.
    page.goto(f"{live_server.url}/planning/")
    shot("annual-1-plans")
    page.get_by_role("link", name="Live plan", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Live plan")
    shot("annual-2-active-plan")
    page.get_by_label("Name of the copy").fill("FY27 plan")
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("FY27 plan")
    expect(page.locator("[data-plan-status]")).to_have_text("Draft")
    draft = TerritoryPlan.objects.get(name="FY27 plan")
    shot("annual-3-draft")

    # 2. Edit a rule in the draft: State CA also takes Oregon (it wins the tie on its code).
    page.get_by_role("link", name="Edit territories").click()
    expect(page.get_by_role("main")).to_contain_text("State CA")
    ca = Territory.objects.get(plan=draft, code="CA")
    page.goto(f"{live_server.url}/territories/{ca.pk}/edit/")
    row = page.locator(".rb-cond").first
    expect(row.locator(".rb-chip", has_text="US-CA")).to_have_count(1)
    search = row.locator(".rb-search")
    search.fill("US-OR")
    search.press("Enter")
    expect(row.locator(".rb-chip", has_text="US-OR")).to_have_count(1)
    expect(page.locator("#match-count")).to_have_attribute("data-count", "12", timeout=8000)
    shot("annual-4-draft-rule")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(rf"/territories/{ca.pk}/$"))
    ca.refresh_from_db()
    assert ca.rule == {"all": [{"field": "state", "op": "in", "value": ["US-CA", "US-OR"]}]}
    assert _placed(live)["OR Co 0"] == "OR"  # the live plan did not move

    # 3. Simulate the draft and read the impact.
    page.goto(f"{live_server.url}/planning/plans/{draft.pk}/")
    page.get_by_role("link", name="Simulation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Simulation of FY27 plan")
    page.get_by_role("button", name="Simulate").click()
    expect(page.locator("[data-kpi=moved]")).to_have_text("6")
    expect(page.locator("#move-matrix")).to_contain_text("OR State OR")
    expect(page.locator("[data-chart=chart-simulation-flow]")).to_have_attribute("data-drawn", "1", timeout=30_000)
    shot("annual-5-simulation")
    simulated = _placed(draft)

    # 4. Submit for review: the plan is locked against edits.
    page.goto(f"{live_server.url}/planning/plans/{draft.pk}/")
    page.get_by_label("Note for the reviewers").fill("West merges Oregon into California")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("[data-plan-status]")).to_have_text("In review")
    expect(page.get_by_role("main")).to_contain_text("locked against edits")
    shot("annual-6-in-review")

    # 5. Approve in the approvals inbox (the default plan policy: a sales ops admin approves).
    page.get_by_role("link", name=re.compile("^Approvals")).first.click()
    card = page.locator(f"#plan-approval-{draft.pk}")
    expect(card).to_contain_text("FY27 plan")
    shot("annual-7-inbox")
    card.get_by_label(re.compile("^Comment")).fill("Balanced enough")
    card.get_by_role("button", name="Approve the plan").click()
    expect(page.locator(".messages")).to_contain_text("Your decision on FY27 plan is recorded")
    expect(page.locator(f"#plan-approval-{draft.pk}")).to_have_count(0)
    draft.refresh_from_db()
    assert draft.is_staged

    # 6. Staged: schedule the activation for tomorrow.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.goto(f"{live_server.url}/planning/plans/{draft.pk}/")
    expect(page.locator("[data-plan-status]")).to_have_text("Staged")
    shot("annual-8-staged")
    page.get_by_label("Or on").fill(tomorrow.isoformat())
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_role("main")).to_contain_text(f"becomes active on {tomorrow:%b} {tomorrow.day}")
    shot("annual-9-scheduled")

    # 7. The daily task: nothing today; tomorrow (a frozen date) the plan becomes active.
    assert plans_activate_due() == []
    assert TerritoryPlan.active() == live
    with time_machine.travel(dt.datetime.combine(tomorrow, dt.time(7), tzinfo=dt.UTC)):
        done = plans_activate_due()
        assert [a.plan_id for a in done] == [draft.pk] and done[0].moved == 6
        assert TerritoryPlan.active() == draft
        placed = _placed(draft)
        assert placed == simulated  # simulation = activation, account by account
        assert len(placed) == Account.objects.exclude(state="US-TX").count() == 24
        assert placed["OR Co 0"] == "CA" and _placed(live) == {}
        page.goto(f"{live_server.url}/planning/plans/{draft.pk}/")
        expect(page.locator("[data-plan-status]")).to_have_text("Active")
        expect(page.locator("[data-timeline]")).to_contain_text("Staged → Active")
        shot("annual-10-active")
        page.goto(f"{live_server.url}/planning/plans/{live.pk}/")
        expect(page.locator("[data-plan-status]")).to_have_text("Archived")
        shot("annual-11-archived")

        # The rep of California now holds Oregon's accounts too.
        page.context.clear_cookies()
        login(org.rep)
        page.goto(f"{live_server.url}/accounts/")
        expect(page.get_by_role("main")).to_contain_text("12 accounts")
        expect(page.get_by_role("main")).to_contain_text("OR Co 0")
        expect(page.get_by_role("main")).to_contain_text("CA Co 0")
        shot("annual-12-rep-accounts")
