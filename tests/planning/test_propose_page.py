"""The "Propose a move" page: the form on one of the user's territories (or one account), the
draft it creates, what bad input and foreign ids answer, and the draft's live impact preview."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from planning.models import Reassignment
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db
URL = "/planning/proposals/new/"


def _post(client, org, **over):
    data = {"accounts": [org.accounts[0].pk, org.accounts[1].pk], "to_territory": org.east.pk,
            "title": "Two West accounts to East", "reason": "Coverage", "transition_days": 14,
            "effective_date": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "deal_policy": "follow_territory", "deal_stage": ""}
    data.update(over)
    return client.post(f"{URL}?territory={org.west.pk}", {k: v for k, v in data.items() if v is not None})


def test_the_director_sees_the_territorys_accounts_and_the_targets(client):
    org = build_org()
    client.force_login(org.director)
    body = client.get(f"{URL}?territory={org.west.pk}").content.decode()
    assert "West 0" in body and "West 5" in body
    assert f'name="effective_date" value="{timezone.localdate().isoformat()}"' in body  # a date input reads ISO
    assert f'<option value="{org.east.pk}">EAST · East' in body and "Propose a move" in body


def test_a_valid_post_creates_one_draft_and_opens_its_page_with_a_preview(client):
    org = build_org()
    client.force_login(org.director)
    response = _post(client, org)
    assert response.status_code == 302, response.content.decode()[-3000:]
    proposal = Reassignment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/planning/proposals/{proposal.pk}/"
    assert proposal.status == Reassignment.Status.DRAFT and proposal.initiator == org.director
    assert sorted(proposal.change["accounts"]) == sorted([org.accounts[0].pk, org.accounts[1].pk])
    assert proposal.change["to_territory"] == org.east.pk and proposal.transition_days == 14
    page = client.get(response["Location"]).content.decode()
    assert "data-impact-preview" in page and 'data-impact-accounts>2<' in page


@pytest.mark.parametrize("over, message", [
    ({"accounts": None}, "Choose at least one account to move."),
    ({"effective_date": "2001-01-01"}, "The effective date is in the past"),
    ({"to_territory": "999999"}, "Choose one of the territories listed."),
    ({"deal_policy": "stage_based", "deal_stage": "closed_won"}, "Select a valid choice"),
    ({"transition_days": "-3"}, "greater than or equal to 0"),
])
def test_bad_input_answers_422_with_the_reason_and_creates_nothing(client, over, message):
    org = build_org()
    client.force_login(org.director)
    response = _post(client, org, **over)
    assert response.status_code == 422 and message in response.content.decode()
    assert not Reassignment.objects.exists()


def test_a_manager_cannot_start_from_or_move_into_another_team(client):
    org = build_org()
    client.force_login(org.west_manager)
    assert client.get(f"{URL}?territory={org.east.pk}").status_code == 404
    body = client.get(f"{URL}?territory={org.west.pk}").content.decode()
    assert f'<option value="{org.east.pk}"' not in body and "EAST · East" not in body
    response = _post(client, org)
    assert response.status_code == 422 and not Reassignment.objects.exists()


def test_reps_and_foreign_or_missing_ids_get_404(client):
    org = build_org()
    client.force_login(org.west_rep)
    assert client.get(URL).status_code == 404
    assert _post(client, org).status_code == 404
    client.force_login(org.west_manager)
    for query in ("territory=987654", "account=987654", "territory=abc", f"territory={org.elsewhere.pk}"):
        assert client.get(f"{URL}?{query}").status_code == 404
    assert not Reassignment.objects.exists()


def test_from_an_account_the_form_shows_that_account_ticked(client):
    org = build_org()
    client.force_login(org.director)
    body = client.get(f"{URL}?account={org.accounts[2].pk}").content.decode()
    assert f'value="{org.accounts[2].pk}" id="acc-{org.accounts[2].pk}" checked' in body
    assert "West 3" not in body


def test_the_territory_and_account_pages_offer_the_button_to_those_who_may_propose(client):
    org = build_org()
    pages = (f"/territories/{org.west.pk}/", f"/accounts/{org.accounts[0].pk}/")
    for user, shown in ((org.west_manager, True), (org.director, True), (org.admin, True), (org.west_rep, False)):
        client.force_login(user)
        for page in pages:
            body = client.get(page).content.decode()
            assert ("data-propose-move" in body) is shown, (user, page)
    client.force_login(org.west_manager)
    assert f"{URL}?territory={org.west.pk}" in client.get(pages[0]).content.decode()
    assert f"{URL}?account={org.accounts[0].pk}" in client.get(pages[1]).content.decode()
