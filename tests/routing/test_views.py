"""Routing pages for every role: each page against an object the role may see and one it may not,
locks, and bounded query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from routing import services
from salesos.models import Account
from territories.models import AccountTerritory
from tests import factories
from tests.routing.pages import (
    ROLES,
    grow,
    login,
    territory_of,
    unassigned,
)

pytestmark = pytest.mark.django_db

# --- permission matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_queue_page_answers_every_role(client, world, role):
    unassigned(1)
    login(client, world, role)
    response = client.get(reverse("routing:index"))
    assert response.status_code == 200
    if role == "rep":
        assert b"Routing is managed by sales ops" in response.content
        assert b'name="accounts"' not in response.content
    else:
        assert b"Prospect 0" in response.content and b'name="accounts"' in response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "foreign"])
def test_account_explanation_matrix(client, world, role, which):
    login(client, world, role)
    account = world.own if which == "own" else world.foreign_for(role)
    expected = 200 if which == "own" or role == "admin" else 404
    assert client.get(reverse("routing:account_explain", args=[account.pk])).status_code == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "foreign"])
def test_lead_explanation_matrix(client, world, role, which):
    login(client, world, role)
    lead = world.own_lead if which == "own" else world.foreign_for(role, "lead")
    expected = 200 if which == "own" or role == "admin" else 404
    assert client.get(reverse("routing:lead_explain", args=[lead.pk])).status_code == expected


def test_missing_records_are_404(client, world):
    login(client, world, "admin")
    assert client.get(reverse("routing:account_explain", args=[99999])).status_code == 404
    assert client.get(reverse("routing:lead_explain", args=[99999])).status_code == 404


@pytest.mark.parametrize("role,expected", [("admin", 200), ("director", 200), ("manager", 200), ("rep", 404)])
def test_conflicts_page_matrix(client, world, role, expected):
    login(client, world, role)
    assert client.get(reverse("routing:conflicts")).status_code == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "foreign"])
def test_lock_matrix(client, world, role, which):
    login(client, world, role)
    account = world.own if which == "own" else world.foreign_for(role)
    response = client.post(reverse("routing:account_lock", args=[account.pk]), {"territory": "TX-B"})
    assert response.status_code == (302 if role == "admin" else 404)
    account.refresh_from_db()
    assert (factories.lock_of(account) == world.t["tx_b"].pk) == (role == "admin")


@pytest.mark.parametrize("role,expected", [("admin", 302), ("director", 302), ("manager", 302), ("rep", 404)])
def test_bulk_route_matrix(client, world, role, expected):
    (account,) = unassigned(1)
    login(client, world, role)
    response = client.post(reverse("routing:route"), {"accounts": [account.pk], "territory": "US-W", "reason": "x"})
    assert response.status_code == expected
    assert (territory_of(account) == world.t["west"]) == (expected == 302)


@pytest.mark.parametrize("role,purpose,expected", [
    ("admin", "lock", 200), ("director", "lock", 404), ("manager", "route", 200), ("rep", "route", 404),
])
def test_territory_options_matrix(client, world, role, purpose, expected):
    login(client, world, role)
    response = client.get(reverse("routing:territory_options"), {"purpose": purpose, "territory": "us-"})
    assert response.status_code == expected


def test_anonymous_users_go_to_login(client, world):
    for url in [reverse("routing:index"), reverse("routing:conflicts"),
                reverse("routing:account_explain", args=[world.own.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- locks ---------------------------------------------------------------------------------------


def test_lock_then_unlock(client, world):
    login(client, world, "admin")
    account = world.own
    response = client.post(reverse("routing:account_lock", args=[account.pk]), {"territory": "US-E"}, follow=True)
    account.refresh_from_db()
    assert factories.lock_of(account) == world.t["east"].pk and territory_of(account) == world.t["east"]
    assert AccountTerritory.objects.get(account=account, valid_to__isnull=True, is_primary=True).source == "lock"
    body = response.content.decode()
    assert "Locked to US-E East. Now in US-E East, owner Taylor Tran." in body and 'data-lock="locked"' in body

    response = client.post(reverse("routing:account_lock", args=[account.pk]), {"action": "unlock"}, follow=True)
    account.refresh_from_db()
    assert factories.lock_of(account) is None and territory_of(account) == world.t["west"]
    assert 'data-lock="unlocked"' in response.content.decode()
    # A lock row nobody signed reads as an admin's lock in the history, never as the engine's.
    AccountTerritory.objects.filter(account=account, source="lock").update(routed_by=None, reason="")
    body = client.get(reverse("routing:account_explain", args=[account.pk])).content.decode()
    assert "lock set by an admin" in body


@pytest.mark.parametrize("code", ["", "NOPE", "HC-OVL"])
def test_lock_rejects_bad_territories(client, world, code):
    login(client, world, "admin")
    response = client.post(reverse("routing:account_lock", args=[world.own.pk]), {"territory": code})
    assert response.status_code == 200 and b"is-invalid" in response.content
    world.own.refresh_from_db()
    assert factories.lock_of(world.own) is None


def test_lock_form_is_shown_to_admins_only(client, world):
    login(client, world, "director")
    body = client.get(reverse("routing:account_explain", args=[world.own.pk])).content.decode()
    assert "Not locked" in body and 'name="territory"' not in body
    login(client, world, "admin")
    assert 'name="territory"' in client.get(reverse("routing:account_explain", args=[world.own.pk])).content.decode()


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [10, 200])
def test_queue_page_queries_are_bounded(client, world, n, django_assert_max_num_queries):
    grow(world, n)
    login(client, world, "manager")
    with django_assert_max_num_queries(10):
        assert client.get(reverse("routing:index"), {"industry": "62"}).status_code == 200


@pytest.mark.parametrize("n", [10, 200])
def test_explanation_queries_are_bounded(client, world, n, django_assert_max_num_queries):
    grow(world, n)
    account = Account.objects.filter(name__startswith="Health").first()
    login(client, world, "admin")
    client.get(reverse("routing:account_explain", args=[account.pk]))  # warm the compiled plan
    # The owner is computed, not stored: its territory's assignments, the leaves, the user; and
    # which territories the user may open (one query: the page links those).
    with django_assert_max_num_queries(17):
        assert client.get(reverse("routing:account_explain", args=[account.pk])).status_code == 200


@pytest.mark.parametrize("n", [10, 200])
def test_conflicts_queries_are_bounded(client, world, n, django_assert_max_num_queries):
    for i in range(n // 5):
        services.account_save(account=Account(name=f"Texan {i}", country="US", state="US-TX"))
    login(client, world, "manager")
    client.force_login(world.users["other_manager"])
    # one of them: the territories the page may link; one the approvals badge
    with django_assert_max_num_queries(11):
        assert client.get(reverse("routing:conflicts")).status_code == 200
