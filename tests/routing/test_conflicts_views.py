"""The conflicts list: ties, candidates and who sees which."""

from __future__ import annotations

import pytest
from django.urls import reverse

from routing import services
from salesos.models import Account
from tests.factories import make_territory
from tests.routing.pages import (
    login,
)

pytestmark = pytest.mark.django_db

# --- conflicts -----------------------------------------------------------------------------------


def test_conflicts_list_the_tie_and_its_candidates(client, world):
    tied = services.account_save(account=Account(name="Lone Star", country="US", state="US-TX"))
    login(client, world, "director")
    response = client.get(reverse("routing:conflicts"))
    rows = list(response.context["page"])
    assert [(r.account, r.territory.code, [c.code for c in r.view.tied]) for r in rows] == [(tied, "TX-A", ["TX-B"])]
    assert "Texas South" in response.content.decode()


def test_a_manager_sees_only_conflicts_won_by_their_teams_territories(client, world):
    services.account_save(account=Account(name="Lone Star", country="US", state="US-TX"))
    login(client, world, "manager")
    assert client.get(reverse("routing:conflicts")).context["page"].paginator.count == 0
    client.force_login(world.users["other_manager"])
    assert client.get(reverse("routing:conflicts")).context["page"].paginator.count == 1


def test_a_tied_loser_the_user_may_not_see_is_shown_without_code_or_name(client, world):
    """The other manager sees TX-A (his rep's), not TX-B, which it beat on the lowest code."""
    services.account_save(account=Account(name="Lone Star", country="US", state="US-TX"))
    client.force_login(world.users["other_manager"])
    body = client.get(reverse("routing:conflicts")).content.decode()
    assert "Lone Star" in body and "Texas North" in body
    assert "TX-B" not in body and "Texas South" not in body and "Another team&#x27;s territory" in body
    login(client, world, "admin")
    body = client.get(reverse("routing:conflicts")).content.decode()
    assert "TX-B" in body and "Texas South" in body and "Another team" not in body


def test_a_director_sees_only_conflicts_in_the_subtrees_they_lead(client, world):
    make_territory(world.plan, code="APAC-2", name="Asia Pacific Two",
                   rule={"all": [{"field": "country", "op": "in", "value": ["JP"]}]})
    services.plan_touch(plan=world.plan)
    services.account_save(account=Account(name="Osaka Works", country="JP"))
    services.account_save(account=Account(name="Lone Star", country="US", state="US-TX"))
    login(client, world, "director")
    body = client.get(reverse("routing:conflicts")).content.decode()
    assert "Lone Star" in body and "Osaka Works" not in body and "Asia Pacific" not in body
    login(client, world, "admin")
    body = client.get(reverse("routing:conflicts")).content.decode()
    assert "Lone Star" in body and "Osaka Works" in body
