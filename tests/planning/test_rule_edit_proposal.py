"""On the active plan, a manager's or director's rule edit that would move accounts becomes a
draft proposal instead of applying (the territory editor asks through
``territories.hooks.rule_edit_proposed``); admins apply at once or propose, as the organisation
says (``ReassignmentSettings.admin_rule_edits``). An edit that moves nothing applies as before."""

from __future__ import annotations

import pytest
from django.urls import reverse

from planning.models import Reassignment, ReassignmentSettings
from salesos.models import SalesProfile
from territories.grants import grants_rebuild
from territories.models import Territory
from territories.placement import current_primary_rows
from tests import factories
from tests.territories.test_rule_builder import Builder

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role
FORM = dict(type="geographic", priority=0, credit_percent=100, lead_assignment="primary", action="save")
CA = {"all": [{"field": "state", "op": "in", "value": ["US-CA"]}]}


@pytest.fixture
def org():
    plan = factories.make_plan(name="Active plan")
    admin = factories.make_user(Role.ADMIN)
    director = factories.make_user(Role.DIRECTOR)
    manager = factories.make_user(Role.MANAGER, manager=director)
    rep = factories.make_user(Role.REP, manager=manager)
    root = factories.make_territory(plan, code="US", name="United States")
    west = factories.make_territory(plan, code="W", name="West", parent=root, type="geographic", rule=CA)
    factories.assign(root, director)
    factories.assign(west, rep)
    accounts = [factories.make_account(name=f"Golden {i}", state="US-CA") for i in range(3)]
    for a in accounts:
        factories.place(a, west, source="rule")
    grants_rebuild()
    return type("Org", (), dict(plan=plan, admin=admin, director=director, manager=manager, rep=rep, west=west,
                                accounts=accounts))


def _post(client, org, *, states, name="West"):
    b = Builder()
    root = b.group()
    b.cond(root, "state", "in", values=states)
    version = Territory.objects.get(pk=org.west.pk).version
    return client.post(reverse("territories:edit", args=[org.west.pk]), b.post(
        plan=org.plan.pk, territory=org.west.pk, name=name, code="W", version=version, **FORM))


def _in_west(org) -> int:
    return current_primary_rows(org.plan).filter(territory=org.west).count()


@pytest.mark.parametrize("who", ["manager", "director"])
def test_a_managers_or_directors_rule_edit_that_moves_accounts_becomes_a_proposal(client, org, who):
    client.force_login(getattr(org, who))
    response = _post(client, org, states=["US-NY"], name="West (renamed)")
    proposal = Reassignment.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("planning:proposal", args=[proposal.pk])
    assert (proposal.kind, proposal.status, proposal.initiator) == ("rule_change", "draft", getattr(org, who))
    assert proposal.change["territory"] == org.west.pk
    assert proposal.change["rule"] == {"all": [{"field": "state", "op": "in", "value": ["US-NY"]}]}
    west = Territory.objects.get(pk=org.west.pk)
    assert west.rule == CA and west.name == "West (renamed)"  # the rule waits; the rest is saved
    assert _in_west(org) == 3  # nothing moved
    page = client.get(response["Location"]).content.decode()
    assert "would move 3 accounts" in page and "became a draft proposal" in page


def test_an_edit_that_moves_nothing_applies_at_once(client, org):
    client.force_login(org.manager)
    response = _post(client, org, states=["US-CA", "US-NV"])
    assert response.status_code == 302 and not Reassignment.objects.exists()
    assert Territory.objects.get(pk=org.west.pk).rule["all"][0]["value"] == ["US-CA", "US-NV"]


def test_admins_apply_directly_unless_the_organisation_asks_them_to_propose(client, org):
    client.force_login(org.admin)
    assert _post(client, org, states=["US-NY"]).status_code == 302
    assert not Reassignment.objects.exists()
    assert Territory.objects.get(pk=org.west.pk).rule["all"][0]["value"] == ["US-NY"]

    ReassignmentSettings.objects.filter(pk=ReassignmentSettings.load().pk).update(
        admin_rule_edits=ReassignmentSettings.AdminEdits.PROPOSE)
    _post(client, org, states=["US-TX"])  # the three accounts (still in West: no re-route ran here) would leave
    proposal = Reassignment.objects.get()
    assert (proposal.kind, proposal.initiator) == ("rule_change", org.admin)
    assert Territory.objects.get(pk=org.west.pk).rule["all"][0]["value"] == ["US-NY"]


def test_a_draft_plan_is_edited_directly(client, org):
    draft = factories.make_plan(name="Draft plan", status="draft")
    territory = factories.make_territory(draft, code="D", name="Draft West", type="geographic", rule=CA)
    client.force_login(org.admin)
    ReassignmentSettings.objects.filter(pk=ReassignmentSettings.load().pk).update(
        admin_rule_edits=ReassignmentSettings.AdminEdits.PROPOSE)
    b = Builder()
    b.cond(b.group(), "state", "in", values=["US-NY"])
    response = client.post(reverse("territories:edit", args=[territory.pk]), b.post(
        plan=draft.pk, territory=territory.pk, name="Draft West", code="D", version=territory.version, **FORM))
    assert response.status_code == 302 and not Reassignment.objects.exists()
