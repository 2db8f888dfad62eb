"""Proposing a move in a real browser: from a territory page to the draft's page (live impact
preview) and its submission; then both managers approve in their inboxes, the daily run executes
it, and the accounts sit in their new territory with every step on the timeline."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from planning.models import ApprovalPolicy, Reassignment
from planning.reassignments.daily import reassignments_execute_due
from territories.models import Territory
from territories.placement import placement
from tests.browser.conftest import PASSWORD
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.browser


def test_a_manager_proposes_moving_two_accounts_and_submits(page: Page, live_server, world, login, shot):
    page.set_viewport_size({"width": 1440, "height": 900})
    ca, pnw = Territory.objects.get(code="AMER-W-CA"), Territory.objects.get(code="AMER-W-PNW")
    login(world.manager)
    page.goto(f"{live_server.url}/territories/{ca.pk}/")
    page.locator("[data-propose-move]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a move")
    boxes = page.locator("input[name=accounts]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_label("Move them to").select_option(str(pnw.pk))
    page.get_by_label("Title").fill("Two Bay Area accounts to the Northwest")
    page.get_by_label("Why").fill("Sam has room in the Northwest.")
    shot("propose-form")
    page.get_by_role("button", name="Save draft and see the impact").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Two Bay Area accounts to the Northwest")
    expect(page.locator("[data-impact-preview]")).to_be_visible()
    expect(page.locator("[data-impact-accounts]")).to_have_text("2")
    shot("propose-draft")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator("[data-timeline]")).to_contain_text("Submitted for approval")
    proposal = Reassignment.objects.get(title="Two Bay Area accounts to the Northwest")
    assert proposal.initiator == world.manager and len(proposal.change["accounts"]) == 2
    assert proposal.change["to_territory"] == pnw.pk and proposal.status != Reassignment.Status.DRAFT


@pytest.fixture
def org(transactional_db):
    # A transactional test empties the tables the data migration filled: put the default back.
    if not ApprovalPolicy.objects.exists():
        default = ApprovalPolicy.objects.create(name="Default: both managers approve", order=1000)
        default.steps.create(order=1, name="Outgoing manager", relation="outgoing_manager", mode="all")
        default.steps.create(order=2, name="Incoming manager", relation="incoming_manager", mode="all")
    org = build_org(accounts=4)
    for user in (org.director, org.west_manager, org.east_manager):
        user.set_password(PASSWORD)
        user.save()
    return org


def test_a_proposal_made_in_the_browser_is_approved_and_executed(page: Page, live_server, org, login, shot):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(org.director)
    page.goto(f"{live_server.url}/territories/{org.west.pk}/")
    page.locator("[data-propose-move]").click()
    page.get_by_label("West 0").check()
    page.get_by_label("West 1").check()
    page.get_by_label("Move them to").select_option(str(org.east.pk))
    page.get_by_label("Title").fill("West 0 and 1 to East")
    page.get_by_label("Open deals").select_option("follow_territory")
    page.get_by_role("button", name="Save draft and see the impact").click()
    page.get_by_role("button", name="Submit for approval").click()
    proposal = Reassignment.objects.get(title="West 0 and 1 to East")

    for manager in (org.west_manager, org.east_manager):
        page.context.clear_cookies()
        login(manager)
        page.goto(f"{live_server.url}/approvals/")
        page.get_by_role("article", name="West 0 and 1 to East").get_by_role("button", name="Approve").click()
        expect(page.locator(f"#approval-{proposal.pk}")).to_contain_text("You approved")

    reassignments_execute_due(today=timezone.localdate())
    moved = {a.pk: placement(a).territory for a in org.accounts[:3]}
    assert moved[org.accounts[0].pk] == org.east and moved[org.accounts[1].pk] == org.east
    assert moved[org.accounts[2].pk] == org.west
    page.goto(f"{live_server.url}/planning/proposals/{proposal.pk}/")
    timeline = page.locator("[data-timeline]")
    for step in ("Drafted", "Submitted for approval", "Approved (Outgoing manager)", "Approved (Incoming manager)",
                 "Scheduled", "Done", "Executed"):
        expect(timeline).to_contain_text(step)
    shot("propose-executed")
