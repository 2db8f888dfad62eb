"""Two people edit one territory at once (issue 8, section 7, lost update): the first save wins,
the second form, opened before it, is refused with a message and changes nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from territories.models import Territory, TerritoryPlan

pytestmark = pytest.mark.browser


def test_the_second_of_two_open_edit_forms_is_refused(page: Page, live_server, world, login):
    login(world.admin)
    territory = Territory.objects.filter(plan=TerritoryPlan.active(), status="active").order_by("code").first()
    url = f"{live_server.url}/territories/{territory.pk}/edit/"
    page.goto(url)
    other = page.context.new_page()
    other.goto(url)

    page.get_by_label("Description").fill("Changed in the first tab")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(rf"/territories/{territory.pk}/$"))

    other.get_by_label("Description").fill("Changed in the second tab")
    other.get_by_role("button", name="Save changes").click()
    expect(other.locator("#form-errors")).to_contain_text("Someone else changed this territory")

    territory.refresh_from_db()
    assert territory.description == "Changed in the first tab"
