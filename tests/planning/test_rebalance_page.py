"""The rebalancing page: suggestions on the active plan, fixed accounts stay, a suggestion becomes
a reassignment proposal, and each role sees only its part."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from planning.models import Reassignment
from planning.rebalance import bordering_states
from salesos.models import SalesProfile
from territories.grants import grants_rebuild
from tests import factories

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role
LONG_AGO = dt.date(2020, 1, 1)


@pytest.fixture
def org():
    plan = factories.make_plan(name="Balance plan")
    admin = factories.make_user(Role.ADMIN, username="r_admin")
    director = factories.make_user(Role.DIRECTOR, username="r_dir")
    other = factories.make_user(Role.DIRECTOR, username="r_dir_b")
    rep1 = factories.make_user(Role.REP, username="r_rep1", manager=director)
    rep2 = factories.make_user(Role.REP, username="r_rep2", manager=director)
    rep_b = factories.make_user(Role.REP, username="r_rep_b", manager=other)
    region_a = factories.make_territory(plan, code="A", name="Region A")
    region_b = factories.make_territory(plan, code="B", name="Region B")
    heavy = factories.make_territory(plan, code="A-1", name="Heavy leaf", parent=region_a)
    light = factories.make_territory(plan, code="A-2", name="Light leaf", parent=region_a)
    b1 = factories.make_territory(plan, code="B-1", name="Leaf B1", parent=region_b)
    named = factories.make_territory(plan, code="N", name="Named", type="named_account")
    for t, u in ((region_a, director), (region_b, other), (heavy, rep1), (light, rep2), (b1, rep_b)):
        factories.assign(t, u, start_date=LONG_AGO)
    heavy_accounts = [factories.make_account(territory=heavy, name=f"Heavy {i}", potential=Decimal(100))
                      for i in range(14)]
    for i in range(2):
        factories.make_account(territory=light, name=f"Light {i}", potential=Decimal(100))
    for i in range(8):
        factories.make_account(territory=b1, name=f"Foreign {i}", state="US-NY", potential=Decimal(77777))
    named.named_accounts.add(heavy_accounts[0])
    factories.lock(heavy_accounts[1], heavy)
    grants_rebuild()
    users = {"admin": admin, "director": director, "rep": rep1}
    return plan, users, heavy_accounts[:2]


def test_suggestions_move_workload_to_the_sibling_and_never_fixed_accounts(client, org):
    _, users, fixed = org
    client.force_login(users["director"])
    response = client.get(reverse("planning:rebalance"), {"tolerance": "10"})
    body = response.content.decode()
    assert response.status_code == 200 and "Heavy leaf" in body and "Light leaf" in body
    assert "Leaf B1" not in body and "Region B" not in body and "77,777" not in body
    run = response.context["run"]
    assert run.rows and all(r.source.code == "A-1" and r.target.code == "A-2" for r in run.rows)
    moved = {aid for r in run.rows for aid in r.suggestion.account_ids}
    assert not moved & {a.pk for a in fixed}
    assert run.result.max_deviation_pct <= 10


def test_a_suggestion_becomes_a_draft_proposal(client, org):
    _, users, _ = org
    client.force_login(users["admin"])
    run = client.get(reverse("planning:rebalance"), {"tolerance": "10"}).context["run"]
    s = run.rows[0]
    response = client.post(reverse("planning:rebalance_propose"), {
        "from_territory": s.source.pk, "to_territory": s.target.pk,
        "accounts": ",".join(str(a) for a in s.suggestion.account_ids)}, follow=True)
    assert "created as a draft" in response.content.decode()
    proposal = Reassignment.objects.get()
    assert proposal.kind == "move_accounts" and proposal.change["to_territory"] == s.target.pk
    assert sorted(proposal.change["accounts"]) == sorted(s.suggestion.account_ids)


def test_bad_input_is_refused_and_lower_roles_get_404(client, org):
    _, users, _ = org
    client.force_login(users["admin"])
    assert client.get(reverse("planning:rebalance"), {"tolerance": "abc"}).status_code == 400
    assert client.get(reverse("planning:rebalance"), {"tolerance": "90"}).status_code == 400
    bad = client.post(reverse("planning:rebalance_propose"), {"accounts": "1,x"}, follow=True)
    assert "could not be read" in bad.content.decode() and not Reassignment.objects.exists()
    client.force_login(users["rep"])
    assert client.get(reverse("planning:rebalance")).status_code == 404
    assert client.post(reverse("planning:rebalance_propose"), {"accounts": "1"}).status_code == 404


def test_state_borders_come_from_the_shipped_shapes():
    pairs = bordering_states()
    assert ("US-CA", "US-OR") in pairs and ("US-OR", "US-CA") in pairs and ("US-CA", "US-NY") not in pairs


def test_the_quarterly_review_tells_the_admins_and_is_scheduled(org):
    from django_q.models import Schedule

    from planning.tasks import rebalance_quarterly
    from routing.models import Notification

    _, users, _ = org
    assert rebalance_quarterly() == 1
    note = Notification.objects.get(user=users["admin"])
    assert note.title.startswith("Rebalancing:") and "/planning/rebalance/" in note.url
    assert Schedule.objects.filter(func="planning.tasks.rebalance_quarterly", schedule_type="Q").exists()
