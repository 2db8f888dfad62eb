"""Coverage pages in a real browser: ending a primary asks first and says what happens; retired
territories stay out of the tree until "Show retired" is ticked."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from territories.models import RepAssignment, Territory

pytestmark = pytest.mark.browser


def test_ending_a_primary_shows_what_happens_then_ends_it(page: Page, live_server, world, login, shot):
    ca = Territory.objects.get(code="AMER-W-CA")
    login(world.admin)
    page.goto(f"{live_server.url}/territories/{ca.pk}/")
    page.get_by_role("link", name="End Riley Rep’s primary owner assignment…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("End Riley Rep’s primary owner assignment?")
    expect(page.locator("[data-outcome=vacant]")).to_contain_text("vacant")
    shot("assignment-end-confirm")
    assert RepAssignment.objects.get(territory=ca, user=world.rep).end_date is None  # nothing ended yet
    page.get_by_role("button", name="End it on").click()
    expect(page.locator("#assign-section")).to_contain_text("(until")
    assert RepAssignment.objects.get(territory=ca, user=world.rep).end_date is not None


def test_retired_territories_appear_only_when_asked(page: Page, live_server, world, login, shot):
    Territory.objects.filter(code="AMER-C").update(status=Territory.Status.INACTIVE)
    login(world.admin)
    page.goto(f"{live_server.url}/territories/")
    tree = page.locator("#territory-tree")
    expect(tree).to_contain_text("AMER-E")
    expect(tree).not_to_contain_text("AMER-C")
    page.get_by_label("Show retired").check()
    expect(page.locator("#territory-tree")).to_contain_text("AMER-C")
    shot("tree-show-retired")
