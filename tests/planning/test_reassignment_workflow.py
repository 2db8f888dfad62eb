"""Submit, decide, execute: the whole workflow through the services, and execution's promises
(all or nothing, idempotent, resumable, stale detection, impact equals execution)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone
from django_fsm_log.models import StateLog

from planning.models import ApprovalTask, CustomerNotice, DealOwnerChange, Reassignment, ReassignmentSettings
from planning.reassignments import execute
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.impact import reassignment_impact
from planning.reassignments.selectors import in_transition_for_account
from planning.reassignments.services import (
    reassignment_deal_decisions_set,
    reassignment_decide,
    reassignment_execute,
    reassignment_propose,
    reassignment_submit,
    reassignment_withdraw,
    reassignments_execute_due,
)
from planning.reassignments.transition import transition_account_ids
from routing.models import Notification
from salesos.models import STAGE_ORDER, Activity, Opportunity
from territories.access import account_get_for_user, accounts_visible_to
from territories.models import AccountTerritory
from territories.placement import placements
from tests import factories
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db
S = Reassignment.Status


def _get(proposal: Reassignment) -> Reassignment:
    return Reassignment.objects.get(pk=proposal.pk)


def _state(org):
    """Everything execution may touch, to compare before and after."""
    rows = sorted(AccountTerritory.objects.values_list("account_id", "territory_id", "is_primary", "valid_to"))
    deals = sorted(Opportunity.objects.values_list("pk", "owner_id", "territory_id"))
    acts = sorted(Activity.objects.values_list("pk", "user_id"))
    return rows, deals, acts


def _proposal(org, *, days=0, policy="stage_based", accounts=4, notify=False, when=None):
    return reassignment_propose(
        by=org.director, plan=org.plan, kind="move_accounts", effective_date=when or timezone.localdate(),
        change={"accounts": [a.pk for a in org.accounts[:accounts]], "to_territory": org.east.pk},
        deal_policy=policy, deal_stage="discovery", transition_days=days, notify_customers=notify,
        reason="Balance the West")


def _approve_all(org, proposal):
    for approver in (org.west_manager, org.east_manager):
        proposal = reassignment_decide(by=approver, reassignment=proposal, decision="approve", comment="ok")
    return proposal


def test_the_whole_chain_moves_accounts_deals_and_activities_as_the_policy_says():
    org = build_org(accounts=6)
    for account in org.accounts:
        account.contact_email = f"buyer{account.pk}@customer.example"
        account.contact_name = "Pat"
        account.save()
    when = timezone.localdate() + dt.timedelta(days=3)
    proposal = _proposal(org, notify=True, when=when)
    proposal = reassignment_submit(by=org.director, reassignment=proposal)
    assert proposal.status == S.SUBMITTED and proposal.round == 1
    assert proposal.moves.count() == 4 and proposal.impact["accounts"] == 4
    assert len(proposal.impact_hash) == 64
    notice = CustomerNotice.objects.get(reassignment=proposal, account=org.accounts[0])
    assert notice.send_on == when and "Pat" in notice.body and org.east_rep.get_full_name() in notice.body
    with pytest.raises(ReassignmentError, match="already submitted"):
        reassignment_submit(by=org.director, reassignment=proposal)
    # The incoming manager's step comes second.
    with pytest.raises(ReassignmentError, match="not your turn"):
        reassignment_decide(by=org.east_manager, reassignment=proposal, decision="approve")
    with pytest.raises(ReassignmentError):
        reassignment_decide(by=org.west_rep, reassignment=proposal, decision="approve")
    proposal = reassignment_decide(by=org.west_manager, reassignment=proposal, decision="approve", comment="fine")
    assert proposal.status == S.SUBMITTED
    with pytest.raises(ReassignmentError, match="already decided"):
        reassignment_decide(by=org.west_manager, reassignment=proposal, decision="approve")
    proposal = reassignment_decide(by=org.east_manager, reassignment=proposal, decision="approve")
    assert proposal.status == S.SCHEDULED
    before = _state(org)
    # Not due yet: nothing happens.
    assert reassignment_execute(reassignment_id=proposal.pk).outcome == "not_due"
    assert _state(org) == before
    predicted = reassignment_impact(reassignment=proposal)
    counts = reassignments_execute_due(today=when)
    assert counts["executed"] == 1 and counts["notices"] == 4
    proposal = _get(proposal)
    assert proposal.status == S.DONE
    where = placements([a.pk for a in org.accounts])
    for account in org.accounts[:4]:
        assert where[account.pk].territory == org.east
        assert factories.lock_of(account) == org.east.pk
    for account in org.accounts[4:]:
        assert where[account.pk].territory == org.west
    for deal in org.deals:
        deal.refresh_from_db()
        moved = deal.account in org.accounts[:4] and STAGE_ORDER[deal.stage] < STAGE_ORDER["discovery"]
        assert deal.owner == (org.east_rep if moved else org.west_rep)
    assert DealOwnerChange.objects.filter(reassignment=proposal).count() == len(predicted.moving_deals)
    # Activities: with no deal they follow the account; with a deal they follow the deal.
    for activity in Activity.objects.filter(at__gt=timezone.now(), account__in=org.accounts[:4]):
        follows = activity.opportunity is None or activity.opportunity.owner == org.east_rep
        assert activity.user == (org.east_rep if follows else org.west_rep)
    assert len(mail.outbox) >= 4 and CustomerNotice.objects.filter(status="sent").count() == 4
    assert Notification.objects.filter(user=org.east_rep, title__startswith="Done").exists()
    # Four accounts moved, yet each person concerned hears of the execution once.
    done = list(Notification.objects.filter(title__startswith="Done").values_list("user_id", flat=True))
    assert len(done) == len(set(done)) >= 4
    # The log holds every transition.
    states = list(StateLog.objects.for_(proposal).order_by("timestamp", "pk").values_list("state", flat=True))
    assert states == ["submitted", "approved", "scheduled", "done"]
    # A second run changes nothing.
    after = _state(org)
    assert reassignment_execute(reassignment_id=proposal.pk, today=when).outcome == "nothing_to_do"
    assert reassignments_execute_due(today=when)["executed"] == 0
    assert _state(org) == after


def test_impact_equals_execution_account_by_account_and_deal_by_deal():
    org = build_org(accounts=10)
    proposal = reassignment_submit(by=org.director, reassignment=_proposal(org, accounts=8))
    proposal = _approve_all(org, proposal)
    impact = reassignment_impact(reassignment=proposal)
    reassignment_execute(reassignment_id=proposal.pk)
    where = placements(impact.account_ids.tolist())
    assert {a: where[a].territory.pk for a in impact.account_ids.tolist()} == dict(
        zip(impact.account_ids.tolist(), impact.to_ids.tolist(), strict=True))
    owners = dict(Opportunity.objects.filter(pk__in=[d.id for d in impact.deals]).values_list("pk", "owner_id"))
    assert owners == {d.id: d.new_owner_id for d in impact.deals}


def test_a_fault_mid_execution_leaves_everything_as_it_was_and_the_next_run_completes():
    org = build_org(accounts=5)
    proposal = _approve_all(org, reassignment_submit(by=org.director, reassignment=_proposal(org)))
    before = _state(org)
    fault = mock.patch.object(execute, "_move_deals_and_activities", side_effect=RuntimeError("worker killed"))
    with fault, pytest.raises(RuntimeError):
        reassignment_execute(reassignment_id=proposal.pk)
    assert _state(org) == before
    failed = _get(proposal)
    assert failed.status == S.SCHEDULED and "worker killed" in failed.failure
    assert not failed.moves.filter(done_at__isnull=False).exists()
    assert reassignments_execute_due()["executed"] == 1
    done = _get(proposal)
    assert done.status == S.DONE and done.failure == ""
    assert not done.moves.filter(done_at__isnull=True).exists()


def test_a_change_since_approval_sends_the_proposal_back_with_the_difference():
    org = build_org(accounts=5)
    proposal = _approve_all(org, reassignment_submit(by=org.director, reassignment=_proposal(org)))
    deal = org.deals[0]
    deal.amount += 1000
    deal.save()
    before = _state(org)
    assert reassignment_execute(reassignment_id=proposal.pk).outcome == "stale"
    stale = _get(proposal)
    assert stale.status == S.STALE and stale.stale_difference["deals"] == [4, 4]
    assert _state(org) == before
    assert not ApprovalTask.objects.filter(reassignment=proposal, status="waiting").exists()
    # The initiator submits again: a new round.
    again = reassignment_submit(by=org.director, reassignment=stale)
    assert again.round == 2 and again.status == S.SUBMITTED


def test_the_transition_window_keeps_the_outgoing_rep_seeing_read_only():
    org = build_org(accounts=3)
    proposal = _approve_all(org, reassignment_submit(by=org.director, reassignment=_proposal(org, days=10,
                                                                                            accounts=2)))
    reassignment_execute(reassignment_id=proposal.pk)
    proposal = _get(proposal)
    assert proposal.status == S.IN_TRANSITION
    # "Until D": a 10-day window from today has today + 9 as its last day, included.
    last_day = timezone.localdate() + dt.timedelta(days=9)
    assert proposal.transition_ends == last_day
    moved = org.accounts[0]
    assert account_get_for_user(user=org.west_rep, pk=moved.pk) == moved
    assert accounts_visible_to(org.east_rep).filter(pk=moved.pk).exists()
    from_owner, to_owner, until = in_transition_for_account(moved, timezone.localdate())
    assert (from_owner, to_owner, until) == (org.west_rep, org.east_rep, last_day)
    # On the last day the outgoing rep still sees the account and the daily run keeps the window.
    assert in_transition_for_account(moved, last_day) is not None
    assert transition_account_ids(org.west_rep, last_day).filter(pk=moved.pk).exists()
    assert transition_account_ids(org.west_rep, last_day + dt.timedelta(days=1)) is None
    assert reassignments_execute_due(today=last_day)["completed"] == 0
    assert _get(proposal).status == S.IN_TRANSITION
    # The day after, the window is over.
    assert in_transition_for_account(moved, last_day + dt.timedelta(days=1)) is None
    counts = reassignments_execute_due(today=last_day + dt.timedelta(days=1))
    assert counts["completed"] == 1 and _get(proposal).status == S.DONE
    assert not accounts_visible_to(org.west_rep).filter(pk=moved.pk).exists()
    assert in_transition_for_account(moved, timezone.localdate()) is None


def test_manual_deals_must_all_be_decided_and_rejection_ends_it():
    org = build_org(accounts=3)
    proposal = _proposal(org, policy="manual", accounts=2)
    with pytest.raises(ReassignmentError) as refused:
        reassignment_submit(by=org.director, reassignment=proposal)
    assert "2 open deals still need a choice" in refused.value.messages["deals"][0]
    with pytest.raises(ReassignmentError):
        reassignment_deal_decisions_set(by=org.director, reassignment=proposal, choices={org.deals[2].pk: "move"})
    left = reassignment_deal_decisions_set(by=org.director, reassignment=proposal,
                                           choices={org.deals[0].pk: "move", org.deals[1].pk: "stay"})
    assert left == 0
    proposal = reassignment_submit(by=org.director, reassignment=proposal)
    moving = {d.id for d in reassignment_impact(reassignment=proposal).moving_deals}
    assert moving == {org.deals[0].pk}
    proposal = reassignment_decide(by=org.west_manager, reassignment=proposal, decision="reject", comment="No")
    assert proposal.status == S.REJECTED
    with pytest.raises(ReassignmentError):
        reassignment_decide(by=org.east_manager, reassignment=proposal, decision="approve")
    with pytest.raises(ReassignmentError):
        reassignment_withdraw(by=org.director, reassignment=proposal)


def test_no_policy_step_means_approved_and_scheduled_at_once(django_capture_on_commit_callbacks):
    org = build_org(accounts=2)
    from planning.models import ApprovalPolicy

    ApprovalPolicy.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        proposal = reassignment_submit(by=org.director, reassignment=_proposal(org, accounts=1))
    # Effective today: executed right after the approval (the task runs inline in tests).
    assert _get(proposal).status == S.DONE
    assert placements([org.accounts[0].pk])[org.accounts[0].pk].territory == org.east
    assert ReassignmentSettings.load().transition_days == 0


def test_the_detail_timeline_the_ownership_history_and_the_mid_year_log(django_assert_max_num_queries):
    from planning.reassignments.selectors import (
        account_owner_on,
        account_ownership_timeline,
        mid_year_changes,
        reassignment_detail,
    )

    org = build_org(accounts=3)
    proposal = reassignment_submit(by=org.director, reassignment=_proposal(org, accounts=1))
    detail = reassignment_detail(org.west_manager, proposal.pk)
    assert detail.may_decide and not detail.may_edit and detail.impact["accounts"] == 1
    proposal = _approve_all(org, proposal)
    reassignment_execute(reassignment_id=proposal.pk)
    with django_assert_max_num_queries(8):
        detail = reassignment_detail(org.director, proposal.pk)
    whats = [e.what for e in detail.timeline]
    assert whats[0] == "Drafted" and whats[-1] == "Done"
    decisions = [e for e in detail.timeline if e.kind == "decision"]
    assert [(e.who, e.comment) for e in decisions] == [(org.west_manager, "ok"), (org.east_manager, "ok")]
    assert not detail.may_withdraw and not detail.may_decide
    account = org.accounts[0]
    with django_assert_max_num_queries(3):
        spans = account_ownership_timeline(account, org.director)
    assert [s.territory for s in spans] == [org.east, org.west]
    assert spans[0].end is None and spans[1].end is not None
    assert [o[0] for o in spans[0].owners] == [org.east_rep] and [o[0] for o in spans[1].owners] == [org.west_rep]
    assert account_owner_on(account, timezone.localdate()) == org.east_rep
    log = mid_year_changes(org.plan, org.director, territory=org.west)
    assert list(log) == [proposal]
    assert list(mid_year_changes(org.plan, org.director, territory=org.elsewhere)) == []
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert list(mid_year_changes(org.plan, org.director, date_from=tomorrow)) == []
    assert list(mid_year_changes(org.plan, org.other_manager)) == []
