"""Proposing a move in a real browser: from a territory page to the draft's page (live impact
preview) and its submission."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from planning.models import Reassignment
from territories.models import Territory

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
