"""The unassigned queue: filters, pages, htmx swaps and bulk manual routing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from routing import services
from salesos.models import Account
from territories import placement
from territories.models import AccountTerritory
from tests.factories import make_plan, make_territory
from tests.routing.pages import (
    login,
    queued,
    territory_of,
    unassigned,
)

pytestmark = pytest.mark.django_db

# --- the queue -----------------------------------------------------------------------------------


def test_queue_filters_narrow_the_list(client, world):
    unassigned(2, name="Munich")
    Account.objects.filter(name="Munich 1").update(created_at=timezone.now() - dt.timedelta(days=40))
    services.account_save(account=Account(name="Paris Health", country="FR", industry_code="622110"))
    services.account_save(account=Account(name="Lyon Food", country="FR", industry_code="311"))
    login(client, world, "admin")

    def names(**params):
        page = client.get(reverse("routing:index"), params).context["page"]
        return sorted(a.name for a in page)

    assert names() == ["Lyon Food", "Munich 0", "Munich 1", "Paris Health"]
    assert names(country="fr") == ["Lyon Food", "Paris Health"]
    assert names(state="DE-BY") == ["Munich 0", "Munich 1"]
    assert names(industry="62") == ["Paris Health"]
    assert names(q="lyon") == ["Lyon Food"]
    assert names(since=(timezone.localdate() - dt.timedelta(days=7)).isoformat(), country="DE") == ["Munich 0"]
    assert names(since="not-a-date") == names()  # a malformed filter is dropped, not fatal


def test_queue_is_paginated_and_keeps_filters_in_links(client, world):
    unassigned(55)
    login(client, world, "admin")
    response = client.get(reverse("routing:index"), {"country": "DE"})
    page = response.context["page"]
    assert page.paginator.count == 55 and len(page.object_list) == 50
    assert b'href="?country=DE&amp;page=2"' in response.content
    second = client.get(reverse("routing:index"), {"country": "DE", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_queue_filtering_with_htmx_returns_only_the_table(client, world):
    unassigned(1)
    login(client, world, "admin")
    response = client.get(reverse("routing:index"), {"q": "prospect"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content and b'id="queue"' in response.content


def test_bulk_route_puts_accounts_in_the_territory_with_the_reason(client, world):
    accounts = unassigned(3)
    login(client, world, "admin")
    response = client.post(
        reverse("routing:route"),
        {"accounts": [a.pk for a in accounts[:2]], "territory": "us-w", "reason": "Partner referral", "country": "DE"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("routing:index") + "?country=DE"
    assert "Routed 2 accounts to US-W West." in [str(m) for m in response.context["messages"]]
    rows = AccountTerritory.objects.filter(account__in=accounts[:2], valid_to__isnull=True)
    assert {(r.territory.code, r.source, r.reason, r.routed_by_id) for r in rows} == {
        ("US-W", "manual", "Partner referral", world.users["admin"].pk)
    }
    assert queued([accounts[2]]) == 1
    assert placement.placement(accounts[0]).owner == world.users["rep"]


def test_bulk_route_with_htmx_swaps_the_table_and_says_so(client, world):
    accounts = unassigned(2)
    login(client, world, "director")
    response = client.post(
        reverse("routing:route"),
        {"accounts": [accounts[0].pk], "territory": "US-E", "reason": "Territory swap"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="queue"' in body
    assert "Routed 1 account to US-E East." in body
    assert f'value="{accounts[0].pk}"' not in body and f'value="{accounts[1].pk}"' in body
    assert 'hx-swap-oob="true" id="queue-count"' in body


BAD_POSTS = {
    "no accounts": ({"accounts": [], "territory": "US-W", "reason": "r"}, "Select at least one account"),
    "unknown territory": ({"territory": "NOPE", "reason": "r"}, "No territory “NOPE”"),
    "overlay territory": ({"territory": "HC-OVL", "reason": "r"}, "No territory “HC-OVL”"),
    "empty reason": ({"territory": "US-W", "reason": "   "}, "Say why these accounts go there"),
    "no territory": ({"territory": "", "reason": "r"}, "Choose the territory"),
    "garbage id": ({"territory": "US-W", "reason": "r", "accounts": ["abc"]}, "not an account id"),
    # Past the database's integer range: SQLite raised OverflowError binding it.
    "huge id": ({"territory": "US-W", "reason": "r", "accounts": ["99999999999999999999"]}, "not an account id"),
    "non-ascii digit": ({"territory": "US-W", "reason": "r", "accounts": ["²"]}, "not an account id"),
}


@pytest.mark.parametrize("case", BAD_POSTS)
@pytest.mark.parametrize("htmx", [False, True])
def test_bulk_route_rejects_bad_input_and_changes_nothing(client, world, case, htmx):
    accounts = unassigned(2)
    data, message = BAD_POSTS[case]
    data = {"accounts": [a.pk for a in accounts], **data}
    rows = AccountTerritory.objects.count()
    login(client, world, "admin")
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(reverse("routing:route"), data, headers=headers)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert AccountTerritory.objects.count() == rows
    assert queued(accounts) == 2


def test_bulk_route_refuses_accounts_that_left_the_queue(client, world):
    (waiting,) = unassigned(1)
    login(client, world, "admin")
    data = {"accounts": [waiting.pk, world.own.pk], "territory": "US-E", "reason": "r"}
    response = client.post(reverse("routing:route"), data)
    assert "1 of the selected accounts are no longer in the unassigned queue" in response.content.decode()
    assert territory_of(world.own) == world.t["west"] and territory_of(waiting) is None


def test_a_manager_routes_only_into_their_teams_territories(client, world):
    (account,) = unassigned(1)
    login(client, world, "manager")
    page = client.get(reverse("routing:index"))
    assert [t.code for t in page.context["targets"]] == ["US-W", "W-HC"]
    response = client.post(reverse("routing:route"), {"accounts": [account.pk], "territory": "US-E", "reason": "r"})
    assert "No territory “US-E” you can route into" in response.content.decode()
    assert territory_of(account) is None
    client.post(reverse("routing:route"), {"accounts": [account.pk], "territory": "US-W", "reason": "r"})
    assert territory_of(account) == world.t["west"]


def test_territory_of_another_plan_is_unknown(client, world):
    draft = make_plan(name="Draft", status="draft")
    make_territory(draft, code="DRAFT-1")
    (account,) = unassigned(1)
    login(client, world, "admin")
    response = client.post(reverse("routing:route"), {"accounts": [account.pk], "territory": "DRAFT-1", "reason": "r"})
    assert "No territory “DRAFT-1”" in response.content.decode()


def test_territory_options_search_by_code_or_name(client, world):
    login(client, world, "admin")
    body = client.get(reverse("routing:territory_options"), {"territory": "texas"}).content.decode()
    assert 'value="TX-A"' in body and 'value="TX-B"' in body and "US-W" not in body
