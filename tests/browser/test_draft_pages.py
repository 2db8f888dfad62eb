"""Working on a draft in Chromium: proposing from the unassigned queue, editing the draft, and
deciding its open deals one by one in the manual grid (htmx: each choice saves, the count
follows) until the proposal can be submitted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from planning.models import DealDecision, Reassignment
from salesos.models import Account
from territories.models import Territory

pytestmark = pytest.mark.browser


@pytest.fixture
def wide(page: Page) -> Page:
    page.set_viewport_size({"width": 1440, "height": 900})
    return page


def test_propose_from_the_queue_edit_the_draft_and_decide_its_deals(wide: Page, live_server, world, login, shot):
    page = wide
    login(world.director)
    page.goto(f"{live_server.url}/routing/")
    page.get_by_label("Select Unrouted Prospect 1").check()
    page.get_by_label("Select Unrouted Prospect 2").check()
    page.get_by_role("button", name="Propose a move").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a move")
    expect(page.get_by_label("Unrouted Prospect 1")).to_be_checked()
    page.get_by_label("Move them to").select_option(label="AMER-E · East Coast")
    page.get_by_label("Title").fill("Munich prospects to the East Coast")
    shot("rgaps-queue-propose")
    page.get_by_role("button", name="Save draft and see the impact").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Munich prospects to the East Coast")
    queued = Reassignment.objects.get(title="Munich prospects to the East Coast")
    assert len(queued.change["accounts"]) == 2

    # Edit it: drop one account, rename, and decide deals by hand.
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit the draft")
    page.get_by_label("Unrouted Prospect 2").uncheck()
    page.get_by_label("Title").fill("One Munich prospect to the East Coast")
    shot("rgaps-draft-edit")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("One Munich prospect to the East Coast")
    assert len(Reassignment.objects.get(pk=queued.pk).change["accounts"]) == 1


def test_the_manual_deal_grid_over_htmx(wide: Page, live_server, world, login, shot):
    page = wide
    login(world.manager)
    ca, pnw = Territory.objects.get(code="AMER-W-CA"), Territory.objects.get(code="AMER-W-PNW")
    page.goto(f"{live_server.url}/planning/proposals/new/?territory={ca.pk}")
    for name in ("Golden Labs 1", "Golden Systems 4", "Golden Health 7"):  # the ones with an open deal
        page.locator(f"#acc-{Account.objects.get(name=name).pk}").check()
    page.get_by_label("Move them to").select_option(str(pnw.pk))
    page.get_by_label("Title").fill("Golden Labs by hand")
    page.get_by_label("Open deals").select_option("manual")
    page.get_by_role("button", name="Save draft and see the impact").click()
    proposal = Reassignment.objects.get(title="Golden Labs by hand")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text(re.compile("3 open deals still need a choice"))).to_be_visible()
    page.get_by_role("link", name="Decide open deals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open deals, one by one")
    counter = page.locator("#deal-counter")
    rows = page.locator("table.deal-grid tbody tr")
    expect(rows).to_have_count(3)
    total = 3
    expect(counter).to_contain_text(f"{total} of {total} undecided")
    shot("rgaps-deal-grid-empty")
    for i in range(total):
        choice = "Move" if i % 2 == 0 else "Stay"
        rows.nth(i).get_by_label(choice).check()
        # Each choice is saved and the count recomputed from the proposal's dry run: allow a slow server.
        expect(counter).to_contain_text(f"{total - i - 1} of {total} undecided" if i < total - 1 else "All",
                                        timeout=30_000)
    expect(counter).to_contain_text(f"All {total} decided")
    shot("rgaps-deal-grid-decided")
    assert DealDecision.objects.filter(reassignment=proposal).exclude(choice="").count() == total
    page.get_by_role("link", name="Back to the proposal").click()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator("[data-timeline]")).to_contain_text("Submitted for approval")
    assert Reassignment.objects.get(pk=proposal.pk).status != Reassignment.Status.DRAFT
