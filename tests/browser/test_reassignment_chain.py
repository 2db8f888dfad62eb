"""The whole chain in Chromium with 40 accounts: a sales ops admin proposes moving 40 West accounts
with open deals to the East under the stage-based policy, effective in a week; both managers approve
in their inboxes; the director step applies (more than $250,000 of pipeline moves) and the
director approves it; on the effective date (the daily task run under a frozen clock) accounts,
deals and activities move as the policy says; the reps' notifications and the timeline show it.

An admin proposes, not a manager: a manager proposes only within their own team
(``planning.reassignments.access``), so a move between two managers' teams, which is what makes
both managers approve, is proposed above them; and the director, who approves here, cannot
approve a proposal of their own (their place would go to their manager)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from planning.models import ApprovalPolicy, ApprovalPolicyStep, Reassignment
from planning.reassignments.daily import reassignments_execute_due
from salesos.models import STAGE_ORDER, Activity, Opportunity
from territories.grants import grants_rebuild
from territories.placement import current_primary_rows
from tests.browser.conftest import PASSWORD
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.browser
Step = ApprovalPolicyStep


@pytest.fixture
def org(transactional_db):
    # A transactional test empties the tables the data migration filled: put the default back.
    if not ApprovalPolicy.objects.exists():
        default = ApprovalPolicy.objects.create(name="Default: both managers approve", order=1000)
        default.steps.create(order=1, name="Outgoing manager", relation="outgoing_manager", mode="all")
        default.steps.create(order=2, name="Incoming manager", relation="incoming_manager", mode="all")
    policy = ApprovalPolicy.objects.get()
    Step.objects.create(policy=policy, order=3, name="Director over $250k", relation=Step.Relation.DIRECTOR,
                        mode=Step.Mode.ALL,
                        condition={"all": [{"fact": "moved_pipeline", "op": "gt", "value": 250000}]})
    org = build_org(accounts=40)
    for user in (org.admin, org.director, org.west_manager, org.east_manager, org.west_rep, org.east_rep):
        user.set_password(PASSWORD)
        user.save()
    grants_rebuild()
    return org


def test_forty_accounts_stage_based_three_approvals_then_executed_on_the_day(page: Page, live_server, org, login,
                                                                              shot):
    page.set_viewport_size({"width": 1440, "height": 900})
    effective = timezone.localdate() + dt.timedelta(days=7)
    login(org.admin)
    page.goto(f"{live_server.url}/territories/{org.west.pk}/")
    page.locator("[data-propose-move]").click()
    boxes = page.locator("input[name=accounts]")
    expect(boxes).to_have_count(40)
    for i in range(40):
        boxes.nth(i).check()
    page.get_by_label("Move them to").select_option(str(org.east.pk))
    page.get_by_label("Title").fill("Forty West accounts to the East")
    page.locator("#id_effective_date").fill(effective.isoformat())
    page.get_by_label("Open deals").select_option("stage_based")
    page.get_by_label("Stage-based threshold").select_option("discovery")
    page.get_by_role("button", name="Save draft and see the impact").click()
    expect(page.locator("[data-impact-accounts]")).to_have_text("40")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator("[data-timeline]")).to_contain_text("Submitted for approval")
    proposal = Reassignment.objects.get(title="Forty West accounts to the East")
    shot("chain-submitted")

    # Deals before: early-stage ones (before Discovery) move to the East's rep, later ones stay.
    deals = {d.pk: d for d in Opportunity.objects.filter(account__in=org.accounts, status="open")}
    early = {pk for pk, d in deals.items() if STAGE_ORDER[d.stage] < STAGE_ORDER["discovery"]}
    assert 0 < len(early) < len(deals) == 40
    assert sum(deals[pk].amount for pk in early) > 250_000

    for approver in (org.west_manager, org.east_manager, org.director):
        page.context.clear_cookies()
        login(approver)
        page.goto(f"{live_server.url}/approvals/")
        card = page.get_by_role("article", name="Forty West accounts to the East")
        card.get_by_role("button", name="Approve").click()
        expect(page.locator(f"#approval-{proposal.pk}")).to_contain_text("You approved")
    assert Reassignment.objects.get(pk=proposal.pk).status == Reassignment.Status.SCHEDULED

    # Activities still to come on the effective date (two days after it) are the pending ones.
    Activity.objects.filter(account__in=org.accounts, at__gt=timezone.now()).update(
        at=dt.datetime.combine(effective + dt.timedelta(days=2), dt.time(10), tzinfo=dt.UTC))
    # The daily task, a day early, does nothing; on the effective date it executes.
    with time_machine.travel(dt.datetime.combine(effective - dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)):
        assert reassignments_execute_due()["executed"] == 0
    assert current_primary_rows(org.plan).filter(territory=org.east).count() == 0
    with time_machine.travel(dt.datetime.combine(effective, dt.time(6), tzinfo=dt.UTC)):
        assert reassignments_execute_due()["executed"] == 1
    assert current_primary_rows(org.plan).filter(territory=org.east).count() == 40
    after = dict(Opportunity.objects.filter(pk__in=deals).values_list("pk", "owner_id"))
    assert {pk for pk, owner in after.items() if owner == org.east_rep.pk} == early
    assert {pk for pk, owner in after.items() if owner == org.west_rep.pk} == set(deals) - early
    # Pending activities: the ones without a deal follow the account; the others follow their deal.
    pending = list(Activity.objects.filter(account__in=org.accounts, at__gt=timezone.now()))
    assert len(pending) == 80
    for activity in pending:
        expected = org.east_rep.pk if activity.opportunity_id is None or activity.opportunity_id in early \
            else org.west_rep.pk
        assert activity.user_id == expected

    page.goto(f"{live_server.url}/planning/proposals/{proposal.pk}/")
    timeline = page.locator("[data-timeline]")
    for step in ("Drafted", "Submitted for approval", "Approved (Outgoing manager)", "Approved (Incoming manager)",
                 "Approved (Director over $250k)", "Scheduled", "Done"):
        expect(timeline).to_contain_text(step)
    shot("chain-done")

    # The reps on both sides were told, in their notifications.
    for rep in (org.west_rep, org.east_rep):
        page.context.clear_cookies()
        login(rep)
        page.goto(f"{live_server.url}/routing/notifications/")
        expect(page.get_by_role("main")).to_contain_text("Forty West accounts to the East")
    shot("chain-rep-notifications")
