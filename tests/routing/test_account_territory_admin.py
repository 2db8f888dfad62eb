"""Ownership rows in the admin are view-only (routing writes them), while deleting an account in
the admin still removes its rows through the cascade."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from routing import services
from salesos.models import Account
from territories.models import AccountTerritory
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-Secret-123")
    client.force_login(user)
    return user


@pytest.fixture
def routed():
    services._indexes.clear()
    plan = factories.make_plan()
    west = factories.make_territory(plan, code="WEST", rule={"all": [{"field": "state", "op": "in",
                                                                      "value": ["US-CA"]}]})
    east = factories.make_territory(plan, code="EAST", rule={"all": [{"field": "state", "op": "in",
                                                                      "value": ["US-NY"]}]})
    account = services.account_save(account=Account(name="Golden Labs", country="US", state="US-CA"))
    return account, AccountTerritory.objects.get(account=account), west, east


def test_an_ownership_row_cannot_be_changed_added_or_deleted_in_the_admin(client, staff, routed):
    account, row, _, east = routed
    url = f"/admin/territories/accountterritory/{row.pk}/change/"
    page = client.get(url).content.decode()
    assert reverse("routing:account_explain", args=[account.pk]) in page
    assert 'name="territory"' not in page  # shown, not editable
    assert f"/admin/territories/accountterritory/{row.pk}/delete/" not in page
    response = client.post(url, {"account": account.pk, "territory": east.pk, "plan": row.plan_id,
                                 "is_primary": "on", "credit_percent": 100, "source": "manual",
                                 "valid_from_0": "2026-01-01", "valid_from_1": "00:00:00"})
    assert response.status_code == 403
    assert client.get("/admin/territories/accountterritory/add/").status_code == 403
    assert client.post("/admin/territories/accountterritory/add/", {"account": account.pk, "territory": east.pk,
                                                                "plan": row.plan_id}).status_code == 403
    assert client.post(f"/admin/territories/accountterritory/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post("/admin/territories/accountterritory/",
                           {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert response.status_code in (200, 302)  # the action is not offered: nothing happens
    assert list(AccountTerritory.objects.filter(account=account).values_list("pk", "territory_id", "valid_to")) == [
        (row.pk, row.territory_id, None)
    ]


def test_deleting_an_account_in_the_admin_removes_its_rows(client, staff, routed):
    account, row, _, _ = routed
    url = f"/admin/salesos/account/{account.pk}/delete/"
    page = client.get(url)
    assert page.status_code == 200 and "Golden Labs" in page.content.decode()
    assert not page.context["perms_lacking"]
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not AccountTerritory.objects.filter(pk=row.pk).exists()
