"""Proposal pages in a real browser: following a submitted proposal (its impact snapshot,
approval steps and timeline), the list, the account's ownership history, the mid-year changes
log and the reassignment settings with the live notice preview."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from planning.reassignments.services import reassignment_propose, reassignment_submit
from territories.models import Territory, TerritoryPlan
from territories.placement import current_primary_rows

pytestmark = pytest.mark.browser


@pytest.fixture
def wide(page: Page) -> Page:
    page.set_viewport_size({"width": 1440, "height": 900})
    return page


def test_a_manager_follows_a_submitted_proposal(wide: Page, live_server, world, login, shot):
    page = wide
    plan = TerritoryPlan.active()
    ca, pnw = Territory.objects.get(code="AMER-W-CA"), Territory.objects.get(code="AMER-W-PNW")
    moving = list(current_primary_rows(plan).filter(territory=ca).values_list("account_id", flat=True)[:4])
    proposal = reassignment_propose(
        by=world.manager, plan=plan, kind="move_accounts", change={"accounts": moving, "to_territory": pnw.pk},
        title="Even out the West Coast", reason="California is over capacity; Sam has room in the Northwest.",
        effective_date=dt.date.today() + dt.timedelta(days=14), transition_days=10, deal_policy="stage_based",
        deal_stage="proposal",
    )
    reassignment_submit(by=world.manager, reassignment=proposal)

    login(world.manager)
    page.goto(f"{live_server.url}/planning/")
    page.get_by_role("main").get_by_role("link", name="Proposals", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposals")
    page.get_by_role("link", name="Even out the West Coast").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Even out the West Coast")
    expect(page.locator("[data-impact-accounts]")).to_have_text("4")
    expect(page.locator("[data-timeline]")).to_contain_text("Submitted for approval")
    expect(page.get_by_role("heading", name="Approvals")).to_be_visible()
    shot("proposal-detail")

    page.goto(f"{live_server.url}/planning/proposals/")
    shot("proposal-list")
    page.goto(f"{live_server.url}/planning/changes/")
    expect(page.get_by_text("No mid-year changes yet")).to_be_visible()
    shot("proposal-changes-empty")
    page.goto(f"{live_server.url}/accounts/{moving[0]}/")
    expect(page.locator("[data-ownership]")).to_contain_text("AMER-W-CA")
    shot("proposal-account-ownership")


def test_an_admin_edits_the_notice_and_sees_the_preview(wide: Page, live_server, world, login, shot):
    page = wide
    login(world.admin)
    page.goto(f"{live_server.url}/planning/proposals/settings/")
    page.get_by_label("Customer notice body").fill("Hello {{ contact_name }}, {{ new_owner }} takes over {{ account }}")
    expect(page.locator("[data-preview-body]")).to_have_text(
        "Hello Dana Whitfield, Priya Natarajan takes over Acme Robotics")
    page.get_by_label("Remind approvers after (days)").fill("9")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Escalate after the reminder")).to_be_visible()
    shot("proposal-settings")


@pytest.mark.parametrize("width", [1200, 1366, 1440, 1920])
def test_the_proposals_nav_item_fits_in_one_row_and_marks_its_pages(page: Page, live_server, world, login, shot,
                                                                      width):
    """The admin's navbar is the widest (every area, Approvals, Proposals, the Admin site button)."""
    page.set_viewport_size({"width": width, "height": 900})
    login(world.admin)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Proposals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposals")
    expect(nav.locator('[aria-current="page"]')).to_have_text("Proposals")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    links = nav.locator(".navbar-nav .nav-link")
    tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
    assert len(tops) == 1, f"the navigation wraps onto {len(tops)} rows at {width} px"
    bar = page.locator(".app-navbar").bounding_box()
    assert bar["height"] < 80
    shot(f"nav-proposals-{width}")
    nav.get_by_role("link", name="Planning").click()
    expect(nav.locator('[aria-current="page"]')).to_have_text("Planning")
