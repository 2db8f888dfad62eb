"""A merge, executed: the merged territory's accounts go to the receiving one, the merged
territory retires, and its reps' assignments end the day before the effective date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from planning.models import Reassignment
from planning.reassignments import impact as impact_module
from planning.reassignments.impact import reassignment_impact
from planning.reassignments.services import (
    reassignment_decide,
    reassignment_execute,
    reassignment_propose,
    reassignment_submit,
)
from territories import coverage
from territories.models import RepAssignment, Territory
from territories.placement import current_primary_rows
from tests.factories import assign, make_user
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db


def test_a_merge_retires_the_territory_and_ends_its_reps_slots():
    org = build_org(accounts=3)
    backup = make_user("rep", manager=org.west_manager)
    assign(org.west, backup, slot=RepAssignment.Slot.BACKUP, start_date=dt.date(2026, 1, 1))
    today = timezone.localdate()
    proposal = reassignment_propose(by=org.director, plan=org.plan, kind="merge", effective_date=today,
                                    change={"territory": org.west.pk, "into": org.east.pk}, title="West into East")
    proposal = reassignment_submit(by=org.director, reassignment=proposal)
    for approver in (org.west_manager, org.east_manager):
        proposal = reassignment_decide(by=approver, reassignment=proposal, decision="approve", comment="ok")
    result = reassignment_execute(reassignment_id=proposal.pk)
    assert result.outcome == "executed", result.message
    assert Reassignment.objects.get(pk=proposal.pk).status == Reassignment.Status.DONE
    assert Territory.objects.get(pk=org.west.pk).status == Territory.Status.INACTIVE
    assert set(current_primary_rows(org.plan).filter(account__in=org.accounts).values_list(
        "territory_id", flat=True)) == {org.east.pk}
    # Nobody holds a slot of the merged territory any more; they covered it up to the day before.
    assert not coverage.open_assignments().filter(territory=org.west).exists()
    ended = RepAssignment.objects.filter(territory=org.west)
    assert {(a.user_id, a.end_date) for a in ended} == {(org.west_rep.pk, today - dt.timedelta(days=1)),
                                                        (backup.pk, today - dt.timedelta(days=1))}
    assert coverage.owner_ids_on(territory_ids={org.west.pk}, on=today).get(org.west.pk) is None
    # A second run changes nothing.
    assert reassignment_execute(reassignment_id=proposal.pk).outcome == "nothing_to_do"


def test_a_merge_is_previewed_by_the_engine_and_executes_as_previewed(monkeypatch):
    org = build_org(accounts=4)
    today = timezone.localdate()
    proposal = reassignment_propose(by=org.director, plan=org.plan, kind="merge", effective_date=today,
                                    change={"territory": org.west.pk, "into": org.east.pk}, title="West into East")
    routed = []
    real_route = impact_module.vector.route

    def spy(vplan, cols):
        routed.append(sorted(cols.ids.tolist()))
        return real_route(vplan, cols)

    monkeypatch.setattr(impact_module.vector, "route", spy)
    impact = reassignment_impact(reassignment=proposal)
    # The engine resolved the merged territory's accounts (with the lock to the receiving one).
    assert routed == [sorted(a.pk for a in org.accounts)]
    previewed = dict(zip(impact.account_ids.tolist(), impact.to_ids.tolist(), strict=True))
    assert previewed == {a.pk: org.east.pk for a in org.accounts}
    assert set(impact.from_ids.tolist()) == {org.west.pk}
    monkeypatch.undo()
    proposal = reassignment_submit(by=org.director, reassignment=proposal)
    for approver in (org.west_manager, org.east_manager):
        proposal = reassignment_decide(by=approver, reassignment=proposal, decision="approve", comment="ok")
    assert reassignment_execute(reassignment_id=proposal.pk).outcome == "executed"
    placed = dict(current_primary_rows(org.plan).filter(account__in=org.accounts).values_list(
        "account_id", "territory_id"))
    assert placed == previewed
