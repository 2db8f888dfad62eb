"""Proposing from the unassigned queue: ticked queue accounts become a draft move into a
territory the user may change; accounts routed meanwhile drop out; bad input creates nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from planning.models import Reassignment
from territories.grants import grants_rebuild
from tests.factories import make_account
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db
URL = "/planning/proposals/from-queue/"


@pytest.fixture
def org():
    org = build_org(accounts=2)
    org.queued = [make_account(name=f"Queued {i}", territory=None, state="US-TX") for i in range(3)]
    grants_rebuild()
    return org


def _form(org, **kw) -> dict:
    data = {"propose": "1", "accounts": [str(a.pk) for a in org.queued[:2]], "to_territory": org.west.pk,
            "title": "Texas prospects to the West", "effective_date": (timezone.localdate() + dt.timedelta(days=3))
            .isoformat(), "transition_days": 0, "deal_policy": "follow_territory", "deal_stage": ""}
    data.update(kw)
    return data


def _query(accounts) -> str:
    return URL + "?" + "&".join(f"accounts={a.pk}" for a in accounts)


def test_ticked_queue_accounts_become_a_draft_move(client, org):
    client.force_login(org.director)
    # The queue page's "Propose a move" posts the ticked accounts; the form opens with them.
    sent = client.post(URL, {"accounts": [a.pk for a in org.queued[:2]], "territory": "", "reason": ""})
    assert sent.status_code == 302 and sent["Location"] == _query(org.queued[:2])
    page = client.get(sent["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and "Queued 0" in body and "Queued 1" in body and "Queued 2" not in body
    assert "unassigned queue" in body
    created = client.post(_query(org.queued[:2]), _form(org))
    proposal = Reassignment.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("planning:proposal", args=[proposal.pk])
    assert proposal.change == {"accounts": sorted(a.pk for a in org.queued[:2]), "to_territory": org.west.pk}
    assert (proposal.initiator, proposal.status, proposal.title) == (org.director, "draft",
                                                                     "Texas prospects to the West")


def test_htmx_from_the_queue_page_redirects_the_browser(client, org):
    client.force_login(org.director)
    sent = client.post(URL, {"accounts": [org.queued[0].pk]}, HTTP_HX_REQUEST="true")
    assert sent.status_code == 200 and sent["HX-Redirect"] == _query(org.queued[:1])


def test_accounts_routed_meanwhile_drop_out_with_a_word(client, org):
    client.force_login(org.director)
    body = client.get(_query([org.queued[0], org.accounts[0]])).content.decode()
    assert "Queued 0" in body and "West 0" not in body
    assert "1 of the ticked accounts is no longer in the unassigned queue" in body


@pytest.mark.parametrize(("change", "message"), [
    ({"effective_date": "2020-01-01"}, "The effective date is in the past"),
    ({"to_territory": ""}, "Choose the territory that receives them"),
    ({"accounts": []}, "Choose at least one account to move"),
])
def test_bad_input_creates_nothing(client, org, change, message):
    client.force_login(org.director)
    response = client.post(_query(org.queued[:2]), _form(org, **change))
    assert response.status_code == 422 and message in response.content.decode()
    assert not Reassignment.objects.exists()


def test_a_manager_cannot_slip_in_an_account_outside_their_reach(client, org):
    client.force_login(org.other_manager)  # holds EMEA only
    response = client.post(_query(org.queued[:1]), _form(
        org, accounts=[str(org.queued[0].pk), str(org.accounts[0].pk)], to_territory=org.elsewhere.pk))
    assert response.status_code == 422 and "outside the territories you may change" in response.content.decode()
    assert not Reassignment.objects.exists()
    # A target they may not change is not even offered.
    refused = client.post(_query(org.queued[:1]), _form(org, accounts=[str(org.queued[0].pk)]))
    assert refused.status_code == 422 and "Choose one of the territories listed" in refused.content.decode()
    assert not Reassignment.objects.exists()


def test_reps_and_bad_ids_get_nothing(client, org):
    client.force_login(org.west_rep)
    assert client.get(_query(org.queued[:1])).status_code == 404
    assert client.post(URL, {"accounts": [org.queued[0].pk]}).status_code == 404
    client.force_login(org.director)
    assert client.get(URL + "?accounts=abc").status_code == 404
    empty = client.post(URL, {}, follow=True)
    assert "Tick the queued accounts" in empty.content.decode()
    assert not Reassignment.objects.exists()


def test_the_queue_page_offers_the_proposal_to_those_who_may_propose(client, org):
    client.force_login(org.director)
    assert "Propose a move" in client.get(reverse("routing:index")).content.decode()
