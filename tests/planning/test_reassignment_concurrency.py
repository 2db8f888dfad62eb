"""Two approvers deciding on one proposal at the same moment (PostgreSQL row locks)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_fsm_log.models import StateLog

from planning.approvals import services as approval_services
from planning.models import ApprovalPolicy, ApprovalPolicyStep, ApprovalTask, Reassignment
from planning.reassignments.services import reassignment_decide, reassignment_propose, reassignment_submit
from tests.factories import make_account
from tests.planning.reassign_helpers import build_org

Step = ApprovalPolicyStep


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_approve_and_schedule_exactly_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs two connections deciding at once with row locks: PostgreSQL")
    org = build_org(accounts=2)
    east_account = make_account(territory=org.east, name="East 0")
    # One all-of step: the managers of both giving territories (West and East give to the root).
    policy = ApprovalPolicy.objects.create(name="Both giving managers at once", order=1)
    Step.objects.create(policy=policy, order=1, relation=Step.Relation.OUTGOING_MANAGER, mode=Step.Mode.ALL)
    proposal = reassignment_propose(
        by=org.director, plan=org.plan, kind="move_accounts", effective_date=timezone.localdate(),
        change={"accounts": [org.accounts[0].pk, east_account.pk], "to_territory": org.root.pk})
    proposal = reassignment_submit(by=org.director, reassignment=proposal)
    assert ApprovalTask.objects.filter(reassignment=proposal, status="waiting").count() == 2
    # Widen the window between reading the round and writing: without the locks both would see
    # the other's task waiting, and neither would approve the proposal (or both would).
    real = approval_services._locked_round

    def slow(where):
        tasks = real(where)
        time.sleep(0.2)
        return tasks

    monkeypatch.setattr(approval_services, "_locked_round", slow)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def decide(user) -> None:
        try:
            barrier.wait(timeout=10)
            fresh = Reassignment.objects.get(pk=proposal.pk)
            outcomes[user.username] = reassignment_decide(by=user, reassignment=fresh, decision="approve").status
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcomes[user.username] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(u,)) for u in (org.west_manager, org.east_manager)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The one who came second saw the first's approval and approved the proposal; the proposal
    # (effective today) then executed right after commit.
    assert sorted(map(str, outcomes.values())) == ["scheduled", "submitted"], outcomes
    done = Reassignment.objects.get(pk=proposal.pk)
    states = list(StateLog.objects.for_(done).values_list("state", flat=True))
    assert states.count("approved") == 1 and states.count("scheduled") == 1
    assert set(ApprovalTask.objects.filter(reassignment=proposal).values_list("status", flat=True)) == {"approved"}
