"""Who may open a plan's simulation, and who may run one.

Open: admins and directors (``salesos.roles.opens_any_plan``) on plans that are not the active one
or archived (drafts, and plans in review or staged, which keep their last simulation to read); a
manager on a draft or plan in review shared with them (``territories.access.may_see_plan``, the
one definition of who sees a plan), reading only the territories they may see. Reps see nothing of
drafts. Run: admins and directors only (managers read what planners simulated). Missing and
forbidden are the same 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from salesos.roles import Role, opens_any_plan, role_of
from territories.models import TerritoryPlan

SHOWN = (TerritoryPlan.Status.DRAFT, TerritoryPlan.Status.REVIEW, TerritoryPlan.Status.STAGED)


def simulated_plans_for(user) -> QuerySet[TerritoryPlan]:
    """The plans whose simulation ``user`` may open, by name."""
    if opens_any_plan(user):
        return TerritoryPlan.objects.filter(status__in=SHOWN).order_by("name")
    if role_of(user) == Role.MANAGER:
        return TerritoryPlan.objects.filter(status__in=TerritoryPlan.SHAREABLE, shared_with=user).order_by("name")
    return TerritoryPlan.objects.none()


def opens_simulations(user) -> bool:
    """Planners, and managers (who may have drafts shared with them)."""
    return opens_any_plan(user) or role_of(user) == Role.MANAGER


def may_run(user) -> bool:
    """Running a simulation is planning work: admins and directors."""
    return opens_any_plan(user)


def simulation_plan_get(*, user, pk: int, run: bool = False) -> TerritoryPlan:
    """The plan whose simulation ``user`` opens (``run``: starts); 404 otherwise."""
    if run and not may_run(user):
        raise Http404("No such draft plan")
    plan = simulated_plans_for(user).filter(pk=pk).first()
    if plan is None:
        raise Http404("No such draft plan")
    return plan
