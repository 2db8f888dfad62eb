"""Proposing, editing and withdrawing: who may, what is checked, nothing changed on bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone
from django_fsm_log.models import StateLog

from planning.models import DealPolicy, Reassignment, ReassignmentSettings
from planning.reassignments.access import (
    proposable_territories,
    reassignment_get_for_user,
    reassignments_visible_to,
)
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.services import reassignment_propose, reassignment_update, reassignment_withdraw
from tests.factories import make_plan, make_territory
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db


def _soon() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=7)


def _move(org, by=None, **kw) -> Reassignment:
    kw.setdefault("effective_date", _soon())
    return reassignment_propose(
        by=by or org.west_manager, plan=org.plan, kind="move_accounts",
        change={"accounts": [a.pk for a in org.accounts[:3]], "to_territory": org.east.pk}, **kw)


def test_a_manager_proposes_within_the_team_with_the_organisation_defaults():
    org = build_org()
    settings = ReassignmentSettings.load()
    settings.deal_policy = DealPolicy.STAGE_BASED
    settings.transition_days = 14
    settings.save()
    # West (their rep's) and East are both under the director; the West manager holds only West.
    assert set(proposable_territories(org.west_manager, org.plan)) == {org.west}
    with pytest.raises(ReassignmentError) as refused:
        _move(org)
    assert "to_territory" in refused.value.messages
    assert set(proposable_territories(org.director, org.plan)) == {org.root, org.west, org.east}
    proposal = _move(org, by=org.director, title="Balance the West")
    assert proposal.status == Reassignment.Status.DRAFT
    assert (proposal.deal_policy, proposal.deal_stage, proposal.transition_days) == ("stage_based", "proposal", 14)
    assert proposal.change == {"accounts": sorted(a.pk for a in org.accounts[:3]), "to_territory": org.east.pk}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"accounts": [], "to_territory": "east"}, "accounts"),
        ({"accounts": ["x"], "to_territory": "east"}, "accounts"),
        ({"accounts": "west", "to_territory": "other_plan"}, "to_territory"),
        ({"accounts": "west", "to_territory": "retired"}, "to_territory"),
        ({"accounts": "west", "to_territory": "emea"}, "to_territory"),
        ({"accounts": "emea", "to_territory": "east"}, "accounts"),
        ({"accounts": "west", "to_territory": None}, "to_territory"),
    ],
)
def test_bad_changes_get_a_message_and_save_nothing(change, field):
    org = build_org()
    other = make_territory(make_plan(status="draft"), code="OTHER")
    retired = make_territory(org.plan, code="OLD", parent=org.root, status="inactive")
    from tests.factories import make_account

    emea_account = make_account(territory=org.elsewhere)
    names = {"east": org.east.pk, "other_plan": other.pk, "retired": retired.pk, "emea": org.elsewhere.pk,
             "west": [a.pk for a in org.accounts], "emea_accounts": [emea_account.pk]}
    data = {k: (names["emea_accounts"] if v == "emea" and k == "accounts" else names.get(v, v))
            if isinstance(v, str) else v for k, v in change.items()}
    with pytest.raises(ReassignmentError) as refused:
        reassignment_propose(by=org.director, plan=org.plan, kind="move_accounts", change=data,
                             effective_date=_soon())
    assert field in refused.value.messages
    assert refused.value.messages[field][0]
    assert not Reassignment.objects.exists()


def test_reps_cannot_propose_and_past_dates_are_refused():
    org = build_org()
    with pytest.raises(ReassignmentError, match="Reps cannot propose"):
        _move(org, by=org.west_rep)
    with pytest.raises(ReassignmentError) as refused:
        _move(org, by=org.director, effective_date=timezone.localdate() - dt.timedelta(days=1))
    assert "in the past" in refused.value.messages["effective_date"][0]
    with pytest.raises(ReassignmentError) as refused:
        _move(org, by=org.director, deal_policy="stage_based", deal_stage="closed_won")
    assert "deal_stage" in refused.value.messages
    assert not Reassignment.objects.exists()


def test_drafts_are_edited_by_their_initiator_against_the_version_they_saw():
    org = build_org()
    proposal = _move(org, by=org.director)
    edited = reassignment_update(by=org.director, reassignment=proposal, version=1, title="Renamed",
                                 change={"accounts": [org.accounts[5].pk], "to_territory": org.east.pk})
    assert (edited.title, edited.version, edited.change["accounts"]) == ("Renamed", 2, [org.accounts[5].pk])
    with pytest.raises(ReassignmentError, match="changed this proposal"):
        reassignment_update(by=org.director, reassignment=proposal, version=1, title="Late")
    with pytest.raises(ReassignmentError, match="Only"):
        reassignment_update(by=org.admin, reassignment=proposal, version=2, title="Not mine")
    with pytest.raises(ReassignmentError) as refused:
        reassignment_update(by=org.director, reassignment=proposal, version=2, transition_days=400)
    assert "transition_days" in refused.value.messages
    proposal = Reassignment.objects.get(pk=proposal.pk)
    assert (proposal.title, proposal.version, proposal.transition_days) == ("Renamed", 2, 0)


def test_withdrawing_is_logged_and_final():
    org = build_org()
    proposal = _move(org, by=org.director)
    with pytest.raises(ReassignmentError):
        reassignment_withdraw(by=org.west_manager, reassignment=proposal)
    reassignment_withdraw(by=org.director, reassignment=proposal, comment="Not needed after all")
    proposal = Reassignment.objects.get(pk=proposal.pk)
    assert proposal.status == Reassignment.Status.WITHDRAWN
    log = StateLog.objects.for_(proposal).get()
    assert (log.by, log.description) == (org.director, "Not needed after all")
    with pytest.raises(ReassignmentError, match="cannot be withdrawn"):
        reassignment_withdraw(by=org.director, reassignment=proposal)
    with pytest.raises(ReassignmentError, match="can no longer be edited"):
        reassignment_update(by=org.director, reassignment=proposal, version=proposal.version, title="x")


def test_visibility_missing_and_foreign_both_404():
    org = build_org()
    proposal = _move(org, by=org.director)
    assert reassignment_get_for_user(org.director, proposal.pk) == proposal
    assert reassignment_get_for_user(org.admin, proposal.pk) == proposal
    for outsider in (org.other_manager, org.east_rep):
        with pytest.raises(Http404):
            reassignment_get_for_user(outsider, proposal.pk)
    with pytest.raises(Http404):
        reassignment_get_for_user(org.admin, proposal.pk + 1000)
    assert list(reassignments_visible_to(org.other_manager)) == []
