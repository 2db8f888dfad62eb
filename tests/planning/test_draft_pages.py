"""Working on a draft in the browser's pages: editing its terms and accounts, and the manual deal
grid (htmx one deal at a time, a plain POST for the whole grid, "all stay" / "all move"). Only
the initiator edits, only while editable; a submitted proposal is frozen; bad input changes
nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from planning.models import DealDecision, Reassignment
from planning.reassignments.services import reassignment_propose, reassignment_submit
from salesos.models import Opportunity
from territories.grants import grants_rebuild
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def org():
    org = build_org(accounts=4)
    grants_rebuild()
    return org


def _draft(org, *, policy="manual", accounts=3) -> Reassignment:
    return reassignment_propose(
        by=org.director, plan=org.plan, kind="move_accounts", title="West to East",
        effective_date=timezone.localdate() + dt.timedelta(days=7), deal_policy=policy,
        change={"accounts": [a.pk for a in org.accounts[:accounts]], "to_territory": org.east.pk})


def _get(r: Reassignment) -> Reassignment:
    return Reassignment.objects.get(pk=r.pk)


def _edit_data(r: Reassignment, **kw) -> dict:
    data = {"version": r.version, "accounts": [str(a) for a in r.change["accounts"]],
            "to_territory": r.change["to_territory"], "title": r.title, "reason": r.reason,
            "effective_date": r.effective_date.isoformat(), "transition_days": r.transition_days,
            "deal_policy": r.deal_policy, "deal_stage": r.deal_stage}
    data.update(kw)
    return data


# --- editing a draft ------------------------------------------------------------------------------


def test_the_initiator_edits_terms_and_drops_an_account(client, org):
    r = _draft(org, policy="follow_territory")
    client.force_login(org.director)
    page = client.get(reverse("planning:proposal_edit", args=[r.pk]))
    assert page.status_code == 200 and "West 0" in page.content.decode() and "Save the draft" in page.content.decode()
    later = timezone.localdate() + dt.timedelta(days=20)
    kept = r.change["accounts"][:2]
    response = client.post(reverse("planning:proposal_edit", args=[r.pk]), _edit_data(
        r, accounts=[str(a) for a in kept], title="Two West accounts to the East", effective_date=later.isoformat(),
        transition_days=5, deal_policy="stage_based", deal_stage="proposal"))
    assert response.status_code == 302 and response["Location"] == reverse("planning:proposal", args=[r.pk])
    saved = _get(r)
    assert saved.change["accounts"] == kept and saved.title == "Two West accounts to the East"
    assert (saved.effective_date, saved.transition_days, saved.deal_policy, saved.deal_stage) == (
        later, 5, "stage_based", "proposal")
    assert saved.version == r.version + 1
    # The proposal page offers the edit to its initiator.
    assert reverse("planning:proposal_edit", args=[r.pk]) in client.get(
        reverse("planning:proposal", args=[r.pk])).content.decode()


@pytest.mark.parametrize(("change", "message"), [
    ({"effective_date": "2020-01-01"}, "The effective date is in the past"),
    ({"effective_date": "not a date"}, "Enter a valid date"),
    ({"transition_days": "400"}, "less than or equal to 365"),
    ({"accounts": []}, "Choose at least one account to move"),
    ({"to_territory": "999999"}, "Choose one of the territories listed"),
    ({"deal_policy": "whatever"}, "Select a valid choice"),
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(client, org, change, message):
    r = _draft(org, policy="follow_territory")
    client.force_login(org.director)
    response = client.post(reverse("planning:proposal_edit", args=[r.pk]), _edit_data(r, **change))
    assert response.status_code == 422 and message in response.content.decode()
    saved = _get(r)
    assert (saved.version, saved.change, saved.effective_date, saved.deal_policy) == (
        r.version, r.change, r.effective_date, r.deal_policy)


def test_an_edit_against_an_older_version_is_refused(client, org):
    r = _draft(org, policy="follow_territory")
    client.force_login(org.director)
    response = client.post(reverse("planning:proposal_edit", args=[r.pk]), _edit_data(
        r, version=r.version - 1 if r.version > 1 else r.version + 5, title="Lost update"))
    assert response.status_code == 422 and "Someone changed this proposal" in response.content.decode()
    assert _get(r).title == "West to East"


def test_a_submitted_proposal_is_frozen(client, org):
    r = reassignment_submit(by=org.director, reassignment=_draft(org, policy="follow_territory"))
    client.force_login(org.director)
    page = client.get(reverse("planning:proposal_edit", args=[r.pk]), follow=True)
    assert "can no longer be edited" in page.content.decode()
    response = client.post(reverse("planning:proposal_edit", args=[r.pk]), _edit_data(_get(r), title="Sneaky"))
    assert response.status_code == 302
    assert _get(r).title == "West to East" and _get(r).status == Reassignment.Status.SUBMITTED


@pytest.mark.parametrize("who", ["west_manager", "west_rep", "east_rep", "admin", "other_manager"])
def test_only_the_initiator_edits(client, org, who):
    r = _draft(org, policy="follow_territory")
    client.force_login(getattr(org, who))
    assert client.get(reverse("planning:proposal_edit", args=[r.pk])).status_code == 404
    assert client.post(reverse("planning:proposal_edit", args=[r.pk]), _edit_data(r, title="Not mine")
                       ).status_code == 404
    assert _get(r).title == "West to East"


# --- the manual deal grid ----------------------------------------------------------------------------


def test_the_grid_lists_each_open_deal_with_its_new_owner(client, org):
    r = _draft(org)
    Opportunity.objects.filter(pk=org.deals[2].pk).update(owner=None)  # a deal nobody owns is listed too
    client.force_login(org.director)
    page = client.get(reverse("planning:proposal_deals", args=[r.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    for deal in org.deals[:3]:
        assert f'id="deal-{deal.pk}"' in body
    assert f'id="deal-{org.deals[3].pk}"' not in body  # not on a moved account
    assert org.east_rep.get_full_name() in body  # the East's owner on the effective date
    assert "3</strong> of 3 undecided" in body


def test_htmx_decides_one_deal_and_the_count_follows(client, org):
    r = _draft(org)
    deal = org.deals[0]
    client.force_login(org.director)
    # As a browser sends it: the whole grid's values, the changed radio named in HX-Trigger-Name.
    response = client.post(reverse("planning:proposal_deals", args=[r.pk]),
                           {f"deal-{deal.pk}": "move", f"deal-{org.deals[1].pk}": "stay"}, **HTMX,
                           HTTP_HX_TRIGGER_NAME=f"deal-{deal.pk}")
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith(f'<tr id="deal-{deal.pk}"')
    assert body.count("<tr ") == 1  # only the changed deal's row comes back
    assert not DealDecision.objects.filter(reassignment=r, opportunity=org.deals[1]).exists()
    assert f'value="move" id="deal-{deal.pk}-move" checked' in body
    assert "2</strong> of 3 undecided" in body and 'hx-swap-oob="true"' in body
    assert DealDecision.objects.get(reassignment=r, opportunity=deal).choice == "move"


def test_submit_is_refused_while_a_deal_is_undecided_then_allowed(client, org):
    r = _draft(org)
    client.force_login(org.director)
    client.post(reverse("planning:proposal_deals", args=[r.pk]), {f"deal-{org.deals[0].pk}": "stay",
                                                                  f"deal-{org.deals[1].pk}": "move"})
    refused = client.post(reverse("planning:proposal_submit", args=[r.pk]), follow=True)
    assert "1 open deal still needs a choice" in refused.content.decode()
    assert _get(r).status == Reassignment.Status.DRAFT
    saved = client.post(reverse("planning:proposal_deals", args=[r.pk]), {"all": "move"}, follow=True)
    assert "Every deal has a choice" in saved.content.decode()
    assert set(DealDecision.objects.filter(reassignment=r).values_list("choice", flat=True)) == {"move"}
    client.post(reverse("planning:proposal_submit", args=[r.pk]))
    assert _get(r).status == Reassignment.Status.SUBMITTED


@pytest.mark.parametrize("data", [
    lambda org: {f"deal-{org.deals[0].pk}": "maybe"},
    lambda org: {f"deal-{org.deals[3].pk}": "move"},  # a deal the proposal does not move
    lambda org: {"deal-abc": "move"},
    lambda org: {"all": "everything"},
])
def test_bad_choices_are_refused_and_change_nothing(client, org, data):
    r = _draft(org)
    client.force_login(org.director)
    response = client.post(reverse("planning:proposal_deals", args=[r.pk]), data(org), follow=True)
    assert "Nothing was saved" in response.content.decode()
    assert not DealDecision.objects.filter(reassignment=r).exclude(choice="").exists()
    htmx = client.post(reverse("planning:proposal_deals", args=[r.pk]), data(org), **HTMX)
    assert htmx.status_code == 200 and "Nothing was saved" in htmx.content.decode()
    assert not DealDecision.objects.filter(reassignment=r).exclude(choice="").exists()


def test_others_see_the_grid_read_only_and_cannot_decide(client, org):
    r = _draft(org)
    client.force_login(org.admin)  # sees every proposal, proposed none of these
    page = client.get(reverse("planning:proposal_deals", args=[r.pk]))
    assert page.status_code == 200 and "Only" in page.content.decode() and "disabled" in page.content.decode()
    assert client.post(reverse("planning:proposal_deals", args=[r.pk]), {"all": "move"}).status_code == 404
    client.force_login(org.other_manager)  # does not see it
    assert client.get(reverse("planning:proposal_deals", args=[r.pk])).status_code == 404
    assert not DealDecision.objects.filter(reassignment=r).exists()


def test_a_frozen_grid_takes_no_choice(client, org):
    r = _draft(org)
    client.force_login(org.director)
    client.post(reverse("planning:proposal_deals", args=[r.pk]), {"all": "stay"})
    reassignment_submit(by=org.director, reassignment=r)
    response = client.post(reverse("planning:proposal_deals", args=[r.pk]), {"all": "move"})
    assert response.status_code == 302
    assert set(DealDecision.objects.filter(reassignment=r).values_list("choice", flat=True)) == {"stay"}
    page = client.get(reverse("planning:proposal_deals", args=[r.pk])).content.decode()
    assert "its choices are frozen" in page


def test_a_proposal_under_another_policy_has_no_grid(client, org):
    r = _draft(org, policy="follow_rep")
    client.force_login(org.director)
    body = client.get(reverse("planning:proposal_deals", args=[r.pk])).content.decode()
    assert "Deals follow the proposal" in body and "deal-grid" not in body
