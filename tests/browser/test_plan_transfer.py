"""Plan export and import on the plans page, in a real browser: download a plan, upload it back
as a draft, and see a faulty file refused with its problems."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from territories.models import TerritoryPlan

pytestmark = pytest.mark.browser


def test_admin_downloads_a_plan_and_imports_it_back(page: Page, live_server, world, login, shot, tmp_path):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(world.admin)
    page.goto(f"{live_server.url}/planning/")
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download FY26 Annual plan as JSON").click()
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    assert saved.name == "plan-fy26-annual-plan.json"
    document = json.loads(saved.read_text())
    assert len(document["territories"]) == 7

    broken = dict(document, territories=[dict(t, parent="NOWHERE") if t["code"] == "AMER-E" else t
                                         for t in document["territories"]])
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(broken))
    page.get_by_label("Plan file (JSON)").set_input_files(str(bad))
    page.get_by_role("button", name="Import as draft").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported: 1 problem in the file.")
    expect(page.get_by_role("alert")).to_contain_text("No territory NOWHERE in this file.")
    shot("planning-import-problems")

    page.get_by_label("Plan file (JSON)").set_input_files(str(saved))
    page.get_by_label("Name of the new draft").fill("FY27 from file")
    page.get_by_role("button", name="Import as draft").click()
    expect(page.locator(".messages")).to_contain_text("Imported “FY27 from file” as a draft plan with 7 territories.")
    expect(page.get_by_role("row", name="FY27 from file")).to_contain_text("Draft")
    shot("planning-import-done")
    assert TerritoryPlan.objects.get(name="FY27 from file").status == "draft"
