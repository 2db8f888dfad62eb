"""Approvals in a real browser: the inbox with its badge (approve over htmx; request changes),
and the admin's policy page (add a director step with a pipeline condition)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from planning.models import ApprovalPolicy, Reassignment
from planning.reassignments.services import reassignment_propose, reassignment_submit
from tests.browser.conftest import PASSWORD
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.browser


@pytest.fixture
def wide(page: Page) -> Page:
    page.set_viewport_size({"width": 1440, "height": 900})
    return page


@pytest.fixture
def org(transactional_db):
    # A transactional test empties the tables the data migration filled: put the default back.
    if not ApprovalPolicy.objects.exists():
        default = ApprovalPolicy.objects.create(name="Default: both managers approve", order=1000)
        default.steps.create(order=1, name="Outgoing manager", relation="outgoing_manager", mode="all")
        default.steps.create(order=2, name="Incoming manager", relation="incoming_manager", mode="all")
    org = build_org(accounts=6)
    for user in (org.admin, org.director, org.west_manager, org.east_manager):
        user.set_password(PASSWORD)
        user.first_name = {
            org.admin.pk: "Ada",
            org.director.pk: "Dana",
            org.west_manager.pk: "Wes",
            org.east_manager.pk: "Erin",
        }[user.pk]
        user.save()
    proposal = reassignment_propose(
        by=org.director,
        plan=org.plan,
        kind="move_accounts",
        effective_date=timezone.localdate(),
        change={"accounts": [a.pk for a in org.accounts[:4]], "to_territory": org.east.pk},
        deal_policy="stage_based",
        deal_stage="discovery",
        title="Balance the coasts",
        reason="West is overloaded after the Q3 hires; East has room.",
    )
    org.proposal = reassignment_submit(by=org.director, reassignment=proposal)
    return org


def test_managers_approve_in_their_inboxes(wide: Page, live_server, org, login, shot):
    page = wide
    login(org.west_manager)
    badge = page.locator("#approvals-badge")
    expect(badge).to_have_text("1")
    page.get_by_role("link", name="Approvals").click()
    card = page.get_by_role("article", name="Balance the coasts")
    expect(card).to_contain_text("West is overloaded")
    expect(card.locator('[data-figure="accounts"]')).to_have_text("4")
    expect(card).to_contain_text("WEST · West")
    shot("approvals-inbox")
    card.get_by_label("Comment").fill("Fine by West")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator(f"#approval-{org.proposal.pk}")).to_contain_text("You approved “Balance the coasts”.")
    expect(badge).to_be_hidden()
    shot("approvals-inbox-approved")

    page.context.clear_cookies()
    login(org.east_manager)
    expect(page.locator("#approvals-badge")).to_have_text("1")
    page.goto(f"{live_server.url}/approvals/")
    card = page.get_by_role("article", name="Balance the coasts")
    expect(card).to_contain_text("Fine by West")  # the chain so far
    card.get_by_role("button", name="Request changes").click()  # no comment: refused, nothing recorded
    expect(page.locator(f"#approval-{org.proposal.pk}")).to_contain_text("Say why you are asking for changes")
    page.goto(f"{live_server.url}/approvals/")
    card = page.get_by_role("article", name="Balance the coasts")
    card.get_by_label("Comment").fill("Keep the two largest in the West")
    card.get_by_role("button", name="Request changes").click()
    expect(page.locator(f"#approval-{org.proposal.pk}")).to_contain_text("You asked for changes")
    assert Reassignment.objects.get(pk=org.proposal.pk).status == Reassignment.Status.CHANGES_REQUESTED
    page.goto(f"{live_server.url}/approvals/")
    expect(page.get_by_text("Nothing waits for your approval")).to_be_visible()
    shot("approvals-inbox-empty")


def test_admin_adds_a_director_step_over_a_pipeline_threshold(wide: Page, live_server, org, login, shot):
    page = wide
    login(org.admin)
    page.goto(f"{live_server.url}/approvals/policies/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Approval policies")
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_role("button", name="Add a step").click()
    step = page.locator("[data-step]").nth(2)
    expect(step).to_be_visible()
    step.get_by_label("Step name").fill("Director")
    step.get_by_label("Who approves").select_option("director")
    step.locator("summary").click()
    step.get_by_label("Fact 1").select_option("moved_pipeline")
    step.get_by_label("Operator 1").select_option("gt")
    step.get_by_label("Value 1").fill("abc")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator("#policy-editor")).to_contain_text("needs a number")
    shot("approvals-policy-error")
    step = page.locator("[data-step]").nth(2)
    step.get_by_label("Value 1").fill("250000")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator("#policy-editor")).to_contain_text("Saved.")
    shot("approvals-policy")
    policy = ApprovalPolicy.objects.get()
    assert list(policy.steps.values_list("relation", flat=True)) == ["outgoing_manager", "incoming_manager", "director"]
    assert policy.steps.get(relation="director").condition == {"fact": "moved_pipeline", "op": "gt", "value": 250000}
    page.goto(f"{live_server.url}/approvals/policies/")
    expect(page.locator("#policy-list")).to_contain_text("open pipeline moved more than 250000")
    shot("approvals-policies")
