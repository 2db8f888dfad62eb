"""Named-account lists win over every rule, so naming an account is a way to take it: a user may
name only accounts they may already see (their territories' accounts, and for the queue roles the
unassigned queue). Enforced in the territory services; the re-rendered form never names an
account the user cannot see."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from territories import services
from territories.grants import grants_rebuild
from territories.models import Territory
from tests import factories
from tests.territories.test_rule_builder import Builder

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    plan = factories.make_plan(name="Named plan")
    manager = factories.make_user("manager", username="named_mgr")
    other_manager = factories.make_user("manager", username="named_other")
    admin = factories.make_user("admin", username="named_admin")
    mine = factories.make_territory(plan, code="MINE", name="Mine",
                                    rule={"all": [{"field": "state", "op": "in", "value": ["US-CA"]}]})
    other = factories.make_territory(plan, code="EMEA-1", name="Other region",
                                     rule={"all": [{"field": "country", "op": "in", "value": ["DE"]}]})
    factories.assign(mine, manager)
    factories.assign(other, other_manager)
    own = factories.make_account(name="Own Pacific Co", territory=mine, country="US", state="US-CA")
    foreign = [factories.make_account(name=f"Secret Berlin {i}", territory=other, country="DE") for i in range(3)]
    queued = factories.make_account(name="Queued Prospect", country="FR")
    grants_rebuild()
    return {"plan": plan, "manager": manager, "admin": admin, "mine": mine, "other": other, "own": own,
            "foreign": foreign, "queued": queued}


def edit_post(world, named: list[int]) -> dict:
    b = Builder()
    b.group()
    t = world["mine"]
    return b.post(plan=world["plan"].pk, territory=t.pk, name=t.name, type="named_account", code=t.code,
                  priority=0, credit_percent=100, lead_assignment="primary", action="save", named=named)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_manager_cannot_name_accounts_of_another_region(world):
    c = client_for(world["manager"])
    foreign_ids = [a.pk for a in world["foreign"]]
    response = c.post(reverse("territories:edit", args=[world["mine"].pk]),
                      edit_post(world, [world["own"].pk, *foreign_ids]))
    assert response.status_code == 422
    body = response.content.decode()
    assert "3 of the named accounts are not ones you can see" in body
    assert "3 accounts you cannot see were left out" in body
    assert "Secret Berlin" not in body
    assert "Own Pacific Co" in body  # the visible one keeps its chip
    mine = Territory.objects.get(pk=world["mine"].pk)
    assert mine.type != Territory.Type.NAMED_ACCOUNT and not mine.named_accounts.exists()


def test_a_missing_id_answers_like_an_unseen_one(world):
    c = client_for(world["manager"])
    response = c.post(reverse("territories:edit", args=[world["mine"].pk]), edit_post(world, [987654]))
    assert response.status_code == 422
    assert "1 of the named accounts is not one you can see" in response.content.decode()


def test_a_manager_may_name_own_and_queued_accounts(world):
    c = client_for(world["manager"])
    response = c.post(reverse("territories:edit", args=[world["mine"].pk]),
                      edit_post(world, [world["own"].pk, world["queued"].pk]))
    assert response.status_code == 302
    assert set(world["mine"].named_accounts.values_list("pk", flat=True)) == {world["own"].pk, world["queued"].pk}


def test_the_services_refuse_unseen_accounts_whatever_the_caller(world):
    foreign_ids = [a.pk for a in world["foreign"]]
    with pytest.raises(ValidationError, match="not ones you can see"):
        services.territory_named_accounts_set(territory=world["mine"], account_ids=foreign_ids, by=world["manager"])
    with pytest.raises(ValidationError, match="not ones you can see"):
        services.territory_update(territory=world["mine"], data={"named_account_ids": foreign_ids},
                                  by=world["manager"])
    with pytest.raises(ValidationError, match="not ones you can see"):
        services.territory_create(plan=world["plan"], data={"name": "Grab", "named_account_ids": foreign_ids},
                                  by=world["manager"], activate=True)
    assert not world["mine"].named_accounts.exists()
    assert not Territory.objects.filter(name="Grab").exists()
    # Admins name anything.
    services.territory_named_accounts_set(territory=world["mine"], account_ids=foreign_ids, by=world["admin"])
    assert world["mine"].named_accounts.count() == 3


def test_listed_accounts_the_user_cannot_see_stay_without_their_names(world):
    foreign_ids = [a.pk for a in world["foreign"]]
    services.territory_named_accounts_set(territory=world["mine"], account_ids=foreign_ids[:1], by=None)
    c = client_for(world["manager"])
    # Listed by sales ops: the manager's page keeps it (unnamed) and saving keeps it on the list.
    body = c.get(reverse("territories:edit", args=[world["mine"].pk])).content.decode()
    assert "Secret Berlin" not in body and "1 account you cannot see" in body
    response = c.post(reverse("territories:edit", args=[world["mine"].pk]),
                      edit_post(world, [foreign_ids[0], world["own"].pk]))
    assert response.status_code == 302
    assert set(world["mine"].named_accounts.values_list("pk", flat=True)) == {foreign_ids[0], world["own"].pk}
