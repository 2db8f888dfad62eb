"""The plan pages: the list's actions, a plan's page with its timeline, and each action through its
view: who may open what, bad input refused with a message and nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from planning.models import PlanComment, Simulation
from planning.plans.services import plan_share
from planning.simulation.services import simulation_run, simulation_start
from territories.models import Territory, TerritoryPlan
from tests import factories
from tests.planning.plan_helpers import company, today

Status = TerritoryPlan.Status


@pytest.fixture
def world(db):
    return company()


def _text(response) -> str:
    return response.content.decode()


def test_the_plans_list_links_each_plan_to_its_page_for_planners(client, world):
    client.force_login(world["admin"])
    body = _text(client.get(reverse("planning:index")))
    assert reverse("planning:plan", args=[world["draft"].pk]) in body and "Edit, share, submit" in body


def test_a_draft_is_invisible_to_reps_and_to_managers_until_shared(client, world):
    draft, manager = world["draft"], world["manager"]
    page = reverse("planning:plan", args=[draft.pk])
    for user in (world["west_rep"], manager):
        client.force_login(user)
        assert client.get(page).status_code == 404
        assert "FY27 draft" not in _text(client.get(reverse("planning:index")))
        assert client.get(reverse("territories:index") + f"?plan={draft.pk}").status_code in (200, 404)
        assert "FY27 draft" not in _text(client.get(reverse("territories:index") + f"?plan={draft.pk}"))
    client.force_login(world["admin"])
    response = client.post(reverse("planning:plan_share", args=[draft.pk]), {"managers": [manager.pk]})
    assert response.status_code == 302
    client.force_login(manager)
    body = _text(client.get(page))
    assert "FY27 draft" in body and "Submit for review" not in body  # managers see, admins and directors act
    assert "FY27 draft" in _text(client.get(reverse("planning:index")))
    client.force_login(world["west_rep"])
    assert client.get(page).status_code == 404


def test_copy_submit_approve_schedule_through_the_pages(client, world):
    admin, plan = world["admin"], world["plan"]
    client.force_login(admin)
    response = client.post(reverse("planning:plan_copy", args=[plan.pk]), {"name": "FY28 draft"})
    copy = TerritoryPlan.objects.get(name="FY28 draft")
    assert response.url == reverse("planning:plan", args=[copy.pk]) and copy.is_draft
    west = Territory.objects.get(plan=copy, code="WEST")
    client.post(reverse("planning:plan_comment", args=[copy.pk]), {"territory": west.pk, "text": "Keep Oregon"})
    client.post(reverse("planning:plan_submit", args=[copy.pk]), {"note": "Ready"})
    body = _text(client.get(reverse("planning:plan", args=[copy.pk])))
    assert "Your decision" in body and "Keep Oregon" in body and "In review" in body
    client.post(reverse("planning:plan_decide", args=[copy.pk]), {"decision": "approve", "comment": "Fine"})
    assert TerritoryPlan.objects.get(pk=copy.pk).status == Status.STAGED
    on = today() + dt.timedelta(days=3)
    client.post(reverse("planning:plan_schedule", args=[copy.pk]), {"on": on.isoformat()})
    copy.refresh_from_db()
    assert copy.activation_date == on
    body = _text(client.get(reverse("planning:plan", args=[copy.pk])))
    for step in ("Copied from FY26", "Draft → In review", "In review → Staged", "Ready", "Fine", "Unschedule"):
        assert step in body


@pytest.mark.parametrize("data, message", [
    ({"on": "next tuesday"}, "Give the activation day as a date"),
    ({"on": "2001-01-01"}, "before FY27 draft was approved"),
])
def test_bad_schedules_are_refused_with_a_message(client, world, data, message):
    admin, draft = world["admin"], world["draft"]
    client.force_login(admin)
    client.post(reverse("planning:plan_submit", args=[draft.pk]))
    client.post(reverse("planning:plan_decide", args=[draft.pk]), {"decision": "approve"})
    response = client.post(reverse("planning:plan_schedule", args=[draft.pk]), data, follow=True)
    assert message in _text(response)
    assert TerritoryPlan.objects.get(pk=draft.pk).activation_date is None


def test_bad_comments_and_decisions_change_nothing(client, world):
    admin, draft, plan = world["admin"], world["draft"], world["plan"]
    client.force_login(admin)
    foreign = Territory.objects.get(plan=plan, code="WEST")  # another plan's territory
    response = client.post(reverse("planning:plan_comment", args=[draft.pk]),
                           {"territory": foreign.pk, "text": "x"}, follow=True)
    assert "Choose a territory of this plan" in _text(response)
    response = client.post(reverse("planning:plan_decide", args=[draft.pk]), {"decision": "maybe"}, follow=True)
    assert "Choose approve, reject or request changes" in _text(response)
    assert not PlanComment.objects.exists() and TerritoryPlan.objects.get(pk=draft.pk).is_draft


def test_a_director_sees_only_their_subtrees_problems(client, world):
    director = factories.make_user("director")
    draft = world["draft"]
    west = Territory.objects.get(plan=draft, code="WEST")
    factories.assign(Territory.objects.get(plan=draft, code="EAST"), director, slot="overlay", split_percent=10)
    Territory.objects.filter(pk=west.pk).update(rule={"all": [{"field": "shoe_size", "op": "eq", "value": 1}]})
    client.force_login(director)
    body = _text(client.get(reverse("planning:plan", args=[draft.pk])))
    assert "no longer validates" not in body and "Checks for" in body
    client.force_login(world["admin"])
    assert "WEST: its rule no longer validates" in _text(client.get(reverse("planning:plan", args=[draft.pk])))


def test_a_manager_reads_the_simulation_of_a_draft_shared_with_them_and_cannot_run_one(client, world):
    draft, manager, admin = world["draft"], world["manager"], world["admin"]
    simulation_run(simulation_id=simulation_start(plan=draft, by=admin, queue=False).pk)
    page = reverse("planning:simulation", args=[draft.pk])
    run = reverse("planning:simulation_run", args=[draft.pk])
    client.force_login(manager)
    assert client.get(page).status_code == 404  # not shared yet
    plan_share(plan=draft, user_ids=[manager.pk], by=admin)
    response = client.get(page)
    body = _text(response)
    assert response.status_code == 200 and "FY27 draft" in body
    assert "Run again" not in body and "Simulations are run by sales ops admins and directors" in body
    assert client.post(run).status_code == 404
    assert Simulation.objects.filter(plan=draft).count() == 1  # the refused run queued nothing
    compare = client.get(reverse("planning:simulation_compare") + f"?a={draft.pk}")
    assert compare.status_code == 200 and "FY27 draft" in _text(compare)
    client.force_login(world["west_rep"])
    assert client.get(page).status_code == 404 and client.post(run).status_code == 404
    client.force_login(admin)
    assert "Run again" in _text(client.get(page))


def test_review_comments_are_refused_once_a_plan_is_past_review(client, world):
    client.force_login(world["admin"])
    active = world["plan"]
    response = client.post(reverse("planning:plan_comment", args=[active.pk]), {"text": "Too late"}, follow=True)
    assert "review comments are for drafts and plans in review" in _text(response)
    assert not PlanComment.objects.filter(plan=active).exists()
    assert 'name="text"' not in _text(client.get(reverse("planning:plan", args=[active.pk])))
