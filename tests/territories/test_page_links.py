"""The territory pages link what they mention, offer the bulk tools to the roles that may use
them, and give a leaf territory's open deals the full width."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_opportunity
from tests.routing.pages import ROLES, World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.mark.parametrize("role", ROLES)
def test_bulk_tools_are_linked_for_the_roles_that_may_use_them(client, world, role):
    client.force_login(world.users[role])
    body = client.get(reverse("territories:index")).content.decode()
    may = role in ("admin", "director")
    assert (reverse("territories:csv_upload") in body) == may
    assert (reverse("territories:propose") in body) == may
    if may:  # and the links lead somewhere
        assert client.get(reverse("territories:csv_upload")).status_code == 200
        assert client.get(reverse("territories:propose")).status_code == 200


def test_territory_page_links_accounts_owner_and_deal_accounts(client, world):
    make_opportunity(world.own, amount=5000)
    client.force_login(world.users["rep"])
    from territories.placement import placement

    where = placement(world.own)
    body = client.get(reverse("territories:detail", args=[where.territory.pk])).content.decode()
    account_link = f'<a href="{reverse("accounts:detail", args=[world.own.pk])}">Golden Labs</a>'
    assert body.count(account_link) == 2  # the account row and the deal's account
    assert f'{reverse("accounts:index")}?owner={world.users["rep"].pk}' in body


def test_leaf_territory_gives_open_deals_the_full_width(client, world):
    client.force_login(world.users["admin"])
    leaf = client.get(reverse("territories:detail", args=[world.t["west"].pk])).content.decode()
    assert "Territories under it" not in leaf and '<div class="col-12">' in leaf
    parent = client.get(reverse("territories:detail", args=[world.t["us"].pk])).content.decode()
    assert "Territories under it" in parent and '<div class="col-xl-5">' in parent


def test_rep_home_links_accounts_and_territories(client, world):
    client.force_login(world.users["rep"])
    body = client.get(reverse("home")).content.decode()
    assert reverse("accounts:detail", args=[world.own.pk]) in body
    assert reverse("territories:detail", args=[world.t["west"].pk]) in body


def test_manager_home_links_reps_to_their_accounts(client, world):
    client.force_login(world.users["manager"])
    body = client.get(reverse("home")).content.decode()
    assert f'{reverse("accounts:index")}?owner={world.users["rep"].pk}' in body
    assert reverse("territories:detail", args=[world.t["west"].pk]) in body


@pytest.mark.parametrize("role", ["admin", "director", "manager"])
def test_routing_pages_link_the_territories_the_user_may_open(client, world, role):
    from territories.placement import placement

    client.force_login(world.users[role])
    body = client.get(reverse("routing:account_explain", args=[world.own.pk])).content.decode()
    current = placement(world.own).territory
    assert reverse("territories:detail", args=[current.pk]) in body
    # A territory the user may not open is named without a link.
    if role == "manager":
        assert reverse("territories:detail", args=[world.t["us"].pk]) not in body
    from routing import services
    from salesos.models import Account

    services.account_save(account=Account(name="Lone Star Energy", country="US", state="US-TX"))  # a tie
    conflicts = client.get(reverse("routing:conflicts")).content.decode()
    texas = world.t["tx_a"]
    linked = reverse("territories:detail", args=[texas.pk]) in conflicts
    assert linked == (role != "manager")  # managers see only their own territories' conflicts
    if role != "manager":
        assert "Lone Star Energy" in conflicts


def test_reps_section_links_the_owner_to_their_accounts(client, world):
    client.force_login(world.users["admin"])
    body = client.get(reverse("territories:detail", args=[world.t["west_hc"].pk])).content.decode()  # no accounts
    owner_url = f'{reverse("accounts:index")}?owner={world.users["rep"].pk}'
    assert owner_url in body
    assert client.get(owner_url).status_code == 200  # the link is a valid filter


@pytest.mark.parametrize("role", ["admin", "director", "manager", "rep"])
def test_lead_explanation_links_its_territory_and_owner_where_the_user_may_open_them(client, world, role):
    lead = world.own_lead
    lead.refresh_from_db()
    assert lead.territory_id is not None and lead.owner_id is not None
    client.force_login(world.users[role])
    body = client.get(reverse("routing:lead_explain", args=[lead.pk])).content.decode()
    assert f'href="{reverse("territories:detail", args=[lead.territory_id])}"' in body
    owner_url = f'{reverse("leads:index")}?owner={lead.owner_id}'
    assert owner_url in body
    assert client.get(owner_url).status_code == 200

