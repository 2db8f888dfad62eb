"""The simulator in a real browser: an admin simulates an edited draft from the plans page, reads
the impact (figures, matrix, flow chart), edits the draft, sees the run marked stale and runs it
again in one click; two drafts side by side; a director sees only their part."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from territories import services as territory_services
from tests.browser.conftest import PASSWORD
from tests.planning.sim_helpers import company, draft_of, state_rule, territory

pytestmark = pytest.mark.browser


@pytest.fixture
def sim_world(transactional_db):
    world = company()
    for user in (world.admin, world.director, world.rep):
        user.set_password(PASSWORD)
        user.save()
    draft = draft_of(world.active, name="FY27 West merge")
    territory_services.territory_update_rule(territory=territory(draft, "CA"), rule=state_rule("US-CA", "US-OR"),
                                             by=world.admin)
    other = draft_of(world.active, name="FY27 as is")
    return world, draft, other


def test_an_admin_simulates_a_draft_then_reruns_it_after_an_edit(page: Page, live_server, sim_world, login, shot):
    world, draft, other = sim_world
    page.set_viewport_size({"width": 1440, "height": 900})
    login(world.admin)
    page.goto(f"{live_server.url}/planning/")
    page.get_by_role("row", name="FY27 West merge").get_by_role("link", name="Simulation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Simulation of FY27 West merge")
    shot("psim-simulation-empty")
    page.get_by_role("button", name="Simulate").click()
    expect(page.locator("[data-kpi=moved]")).to_have_text("6")
    expect(page.locator("[data-kpi=deals]")).to_have_text("6")
    expect(page.locator("#move-matrix")).to_contain_text("OR State OR")
    expect(page.locator("[data-chart=chart-simulation-flow]")).to_have_attribute("data-drawn", "1", timeout=30_000)
    expect(page.locator("[data-stale]")).to_have_count(0)
    shot("psim-simulation-done")

    territory_services.territory_update_rule(territory=territory(draft, "NY"), rule=state_rule("US-NY", "US-MA"),
                                             by=world.admin)
    territory_services.territory_update_rule(territory=territory(draft, "MA"), rule=state_rule("US-CT"),
                                             by=world.admin)
    page.reload()
    expect(page.locator("[data-stale]")).to_be_visible()
    page.get_by_role("button", name="Run again").click()
    expect(page.locator("[data-kpi=moved]")).to_have_text("12")
    expect(page.locator("[data-stale]")).to_have_count(0)

    page.goto(f"{live_server.url}/planning/plans/{other.pk}/simulation/")
    page.get_by_role("button", name="Simulate").click()
    expect(page.locator("[data-kpi=moved]")).to_have_text("0")
    page.get_by_role("link", name="Compare with another draft").click()
    page.locator("#plan-b").select_option(str(draft.pk))
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("[data-side=a] [data-figure=moved]")).to_have_text("0")
    expect(page.locator("[data-side=b] [data-figure=moved]")).to_have_text("12")
    shot("psim-simulation-compare")


def test_a_director_sees_their_part_and_a_rep_nothing(page: Page, live_server, sim_world, login, shot):
    world, draft, _ = sim_world
    login(world.admin)
    page.goto(f"{live_server.url}/planning/plans/{draft.pk}/simulation/")
    page.get_by_role("button", name="Simulate").click()
    expect(page.locator("[data-kpi=moved]")).to_have_text("6")
    page.context.clear_cookies()
    login(world.director)
    page.goto(f"{live_server.url}/planning/plans/{draft.pk}/simulation/")
    expect(page.locator("[data-kpi=moved]")).to_have_text("6")
    expect(page.locator("#balance-rows")).to_contain_text("State CA")
    expect(page.locator("#balance-rows")).not_to_contain_text("State NY")
    shot("psim-simulation-director")
    page.context.clear_cookies()
    login(world.rep)
    response = page.goto(f"{live_server.url}/planning/plans/{draft.pk}/simulation/")
    assert response is not None and response.status == 404
