"""Two writers on one draft at the same moment, through the pages (PostgreSQL row locks): the draft
edit and the manual deal grid each lock the proposal's row before reading it, so nothing one of
them saved is lost or silently overwritten by the other."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from planning.models import DealDecision, Reassignment
from planning.reassignments import services as reassignment_services
from planning.reassignments.services import reassignment_propose
from territories.grants import grants_rebuild
from tests.planning.concurrent import at_the_same_moment
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def org():
    if connection.vendor != "postgresql":
        pytest.skip("needs two connections writing at once with row locks: PostgreSQL")
    org = build_org(accounts=4)
    grants_rebuild()
    return org


def _draft(org) -> Reassignment:
    return reassignment_propose(
        by=org.director,
        plan=org.plan,
        kind="move_accounts",
        title="West to East",
        deal_policy="manual",
        effective_date=timezone.localdate() + dt.timedelta(days=7),
        change={"accounts": [a.pk for a in org.accounts[:3]], "to_territory": org.east.pk},
    )


def _edit_data(r: Reassignment, **kw) -> dict:
    data = {
        "version": r.version,
        "accounts": [str(a) for a in r.change["accounts"]],
        "to_territory": r.change["to_territory"],
        "title": r.title,
        "reason": r.reason,
        "effective_date": r.effective_date.isoformat(),
        "transition_days": r.transition_days,
        "deal_policy": r.deal_policy,
        "deal_stage": r.deal_stage,
    }
    data.update(kw)
    return data


def _slow(monkeypatch, name: str, seconds: float = 0.3) -> None:
    """Sleep inside the service, after it read the proposal: without the row lock, the other
    writer would read the same version meanwhile."""
    real = getattr(reassignment_services, name)

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(reassignment_services, name, slow)


@dataclass(frozen=True)
class Tab:
    """One browser tab of the initiator (``at_the_same_moment`` keys outcomes by username)."""

    username: str


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_two_edits_of_one_version_save_one_and_refuse_the_other(org, monkeypatch):
    r = _draft(org)
    _slow(monkeypatch, "change_validate")
    url = reverse("planning:proposal_edit", args=[r.pk])
    # Two tabs of the initiator, both opened on the same version.
    tabs = {
        "first": _edit_data(r, title="Edited in the first tab", reason="first"),
        "second": _edit_data(r, title="Edited in the second tab", reason="second"),
    }
    clients = {name: _client(org.director) for name in tabs}

    outcomes = at_the_same_moment(
        [Tab(n) for n in tabs], lambda tab: clients[tab.username].post(url, tabs[tab.username])
    )
    codes = sorted(response.status_code for response in outcomes.values())
    assert codes == [302, 422], outcomes
    refused = next(response for response in outcomes.values() if response.status_code == 422)
    assert "Someone changed this proposal after you opened it" in refused.content.decode()
    saved = Reassignment.objects.get(pk=r.pk)
    winner = next(name for name, response in outcomes.items() if response.status_code == 302)
    # The winner's edit is whole (title and reason from one tab), and counted once.
    assert (saved.title, saved.reason) == (tabs[winner]["title"], tabs[winner]["reason"])
    assert saved.version == r.version + 1


def test_two_grid_choices_at_once_are_both_kept(org, monkeypatch):
    r = _draft(org)
    _slow(monkeypatch, "open_deals_of")
    url = reverse("planning:proposal_deals", args=[r.pk])
    first, second = org.deals[0], org.deals[1]
    posts = {
        "first": ({f"deal-{first.pk}": "move"}, f"deal-{first.pk}"),
        "second": ({f"deal-{second.pk}": "stay"}, f"deal-{second.pk}"),
    }
    clients = {name: _client(org.director) for name in posts}

    outcomes = at_the_same_moment(
        [Tab(n) for n in posts],
        lambda tab: clients[tab.username].post(
            url, posts[tab.username][0], **HTMX, HTTP_HX_TRIGGER_NAME=posts[tab.username][1]
        ),
    )
    assert all(response.status_code == 200 for response in outcomes.values()), outcomes
    choices = dict(DealDecision.objects.filter(reassignment=r).values_list("opportunity_id", "choice"))
    assert choices == {first.pk: "move", second.pk: "stay"}
    # Each choice counted: the version moved twice, so an edit opened before either is refused.
    assert Reassignment.objects.get(pk=r.pk).version == r.version + 2


def test_a_policy_change_and_a_grid_choice_at_once_never_leave_a_choice_behind(org, monkeypatch):
    r = _draft(org)
    _slow(monkeypatch, "change_validate")
    _slow(monkeypatch, "open_deals_of")
    deal = org.deals[0]
    edit_url = reverse("planning:proposal_edit", args=[r.pk])
    grid_url = reverse("planning:proposal_deals", args=[r.pk])
    clients = {"edit": _client(org.director), "grid": _client(org.director)}
    acts = {
        "edit": lambda: clients["edit"].post(edit_url, _edit_data(r, deal_policy="follow_territory")),
        "grid": lambda: clients["grid"].post(
            grid_url, {f"deal-{deal.pk}": "move"}, **HTMX, HTTP_HX_TRIGGER_NAME=f"deal-{deal.pk}"
        ),
    }

    outcomes = at_the_same_moment([Tab(n) for n in acts], lambda tab: acts[tab.username]())
    saved = Reassignment.objects.get(pk=r.pk)
    if outcomes["edit"].status_code == 302:
        # The edit won: whether the grid came before (its choice dropped) or after (refused), no
        # manual choice survives under the new policy.
        assert saved.deal_policy == "follow_territory"
        assert not DealDecision.objects.filter(reassignment=r).exists()
        if saved.version == r.version + 1:  # the grid came second and was refused
            assert "manual policy only" in outcomes["grid"].content.decode()
    else:
        # The grid saved first: the edit, opened before that choice, is refused whole and tells why;
        # the policy and the choice stay together.
        assert outcomes["edit"].status_code == 422 and outcomes["grid"].status_code == 200, outcomes
        assert "Someone changed this proposal after you opened it" in outcomes["edit"].content.decode()
        assert saved.deal_policy == r.deal_policy
        assert dict(DealDecision.objects.filter(reassignment=r).values_list("opportunity_id", "choice")) == {
            deal.pk: "move"
        }
