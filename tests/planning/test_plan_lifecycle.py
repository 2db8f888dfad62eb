"""The plan lifecycle: draft -> review -> staged -> active -> archived, each transition logged with
who and why; review through the "plan" approval policy; locked plans refuse every write; the
refusals change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django_fsm_log.models import StateLog

from planning.models import ApprovalPolicy, ApprovalPolicyStep, ApprovalTask, PlanComment
from planning.plans import services
from planning.plans.errors import PlanError
from territories import services as territory_services
from territories.models import RepAssignment, Territory, TerritoryPlan
from tests import factories
from tests.planning.plan_helpers import EAST, company, today

Status = TerritoryPlan.Status


@pytest.fixture
def world(db):
    return company()


def _log(plan) -> list[tuple[str, str, str]]:
    return [(row.source_state, row.state, row.by.username if row.by else "")
            for row in StateLog.objects.for_(plan).order_by("timestamp", "pk")]


def test_submit_with_the_default_policy_waits_for_an_admin_then_stages(world):
    admin, draft = world["admin"], world["draft"]
    plan = services.plan_submit(plan=draft, by=admin, note="FY27 as agreed")
    assert plan.status == Status.REVIEW
    task = ApprovalTask.objects.get(plan=plan)
    assert task.approver == admin and task.status == ApprovalTask.Status.WAITING
    plan = services.plan_decide(plan=plan, by=admin, decision="approve", comment="Looks right")
    assert plan.status == Status.STAGED and plan.approved_at is not None
    assert _log(plan) == [("draft", "review", admin.username), ("review", "staged", admin.username)]
    assert StateLog.objects.for_(plan).first().description == "FY27 as agreed"


def test_a_named_approver_rejects_and_the_plan_goes_back_to_draft(world):
    admin, draft = world["admin"], world["draft"]
    director = factories.make_user("director")
    ApprovalPolicy.objects.filter(subject="plan").delete()
    policy = ApprovalPolicy.objects.create(name="Director reviews plans", subject="plan", order=1)
    ApprovalPolicyStep.objects.create(policy=policy, order=1, relation="named_user", user=director)
    services.plan_submit(plan=draft, by=admin)
    with pytest.raises(PlanError, match="no approval waiting"):
        services.plan_decide(plan=draft, by=admin, decision="approve")
    plan = services.plan_decide(plan=draft, by=director, decision="reject", comment="EAST is too big")
    assert plan.status == Status.DRAFT
    assert StateLog.objects.for_(plan).last().description == "Rejected: EAST is too big"


def test_plans_under_review_and_staged_refuse_every_territory_and_slot_write(world):
    admin, draft = world["admin"], world["draft"]
    west = Territory.objects.get(plan=draft, code="WEST")
    slot = RepAssignment.objects.get(territory=west)
    services.plan_submit(plan=draft, by=admin)
    writes = [
        lambda: territory_services.territory_update_rule(territory=west, rule=EAST, by=admin),
        lambda: territory_services.territory_update(territory=west, data={"name": "Renamed"}, by=admin),
        lambda: territory_services.territory_create(plan=draft, data={"name": "New"}, by=admin, activate=True),
        lambda: territory_services.territory_move(territory=west, new_parent=None, by=admin),
        lambda: territory_services.territory_delete(territory=west, by=admin),
        lambda: territory_services.territory_named_accounts_set(territory=west, account_ids=[], by=admin),
        lambda: territory_services.assignment_add(territory=west, user=world["east_rep"], slot="overlay",
                                                  split_percent=10, by=admin),
        lambda: territory_services.assignment_end(assignment=slot, by=admin),
    ]
    for status in (Status.REVIEW, Status.STAGED):
        if status == Status.STAGED:
            services.plan_decide(plan=draft, by=admin, decision="approve")
        for write in writes:
            with pytest.raises(ValidationError, match="locked against edits"):
                write()
    west.refresh_from_db()
    assert west.name != "Renamed"
    assert west.rule != EAST and Territory.objects.filter(plan=draft).count() == 2
    assert RepAssignment.objects.get(pk=slot.pk).end_date is None
    services.plan_back_to_draft(plan=draft, by=admin, reason="One more change")
    assert territory_services.territory_update_rule(territory=west, rule=EAST, by=admin).rule == EAST


def test_only_planners_submit_and_only_drafts_are_submitted(world):
    draft = world["draft"]
    with pytest.raises(PlanError, match="Only sales ops admins and directors"):
        services.plan_submit(plan=draft, by=world["manager"])
    with pytest.raises(PlanError, match="only a draft"):
        services.plan_submit(plan=world["plan"], by=world["admin"])
    assert TerritoryPlan.objects.get(pk=draft.pk).status == Status.DRAFT


def test_sharing_is_for_managers_only(world):
    admin, draft = world["admin"], world["draft"]
    with pytest.raises(PlanError, match="managers only"):
        services.plan_share(plan=draft, user_ids=[world["west_rep"].pk], by=admin)
    assert services.plan_share(plan=draft, user_ids=[world["manager"].pk], by=admin) == [world["manager"].pk]
    with pytest.raises(PlanError):
        services.plan_share(plan=draft, user_ids=[], by=world["manager"])


def test_comments_name_a_territory_of_the_plan(world):
    admin, draft = world["admin"], world["draft"]
    west = Territory.objects.get(plan=draft, code="WEST")
    services.plan_comment(plan=draft, by=admin, text="Split by metro?", territory=west)
    with pytest.raises(PlanError, match="not in this plan"):
        services.plan_comment(plan=draft, by=admin, text="x", territory=Territory.objects.get(plan=world["plan"],
                                                                                              code="WEST"))
    with pytest.raises(PlanError, match="Write a comment"):
        services.plan_comment(plan=draft, by=admin, text="  ")
    assert list(PlanComment.objects.values_list("territory__code", "text")) == [("WEST", "Split by metro?")]


def _staged(world):
    services.plan_submit(plan=world["draft"], by=world["admin"])
    return services.plan_decide(plan=world["draft"], by=world["admin"], decision="approve")


def test_scheduling_refuses_a_day_before_approval_and_a_second_plan(world):
    admin = world["admin"]
    plan = _staged(world)
    with pytest.raises(PlanError, match="before FY27 draft was approved"):
        services.plan_schedule(plan=plan, on=today() - dt.timedelta(days=1), by=admin)
    other = factories.make_plan(name="Other", status=Status.STAGED, approved_at=plan.approved_at,
                                activation_date=today() + dt.timedelta(days=3))
    with pytest.raises(PlanError, match="Other is already scheduled"):
        services.plan_schedule(plan=plan, on=today() + dt.timedelta(days=5), by=admin)
    assert TerritoryPlan.objects.get(pk=plan.pk).activation_date is None
    other.delete()
    assert services.plan_schedule(plan=plan, on=today() + dt.timedelta(days=5), by=admin).activation_date


def test_scheduling_a_plan_with_a_vacant_territory_needs_confirmation(world):
    admin = world["admin"]
    plan = _staged(world)
    TerritoryPlan.objects.filter(pk=plan.pk).update(status=Status.DRAFT)
    east = Territory.objects.get(plan=plan, code="EAST")
    territory_services.assignment_end(assignment=RepAssignment.objects.get(territory=east), by=admin,
                                      end_date=today())
    TerritoryPlan.objects.filter(pk=plan.pk).update(status=Status.STAGED)
    on = today() + dt.timedelta(days=2)
    with pytest.raises(PlanError, match="EAST .* has no primary"):
        services.plan_schedule(plan=plan, on=on, by=admin)
    assert services.plan_schedule(plan=plan, on=on, by=admin, confirm=True).activation_date == on
