"""Who may open a plan's simulation: admins and directors (``salesos.roles.opens_any_plan``), on
plans that are not the active one or archived (drafts, and plans in review or staged, which keep
their last simulation to read). Managers would see the drafts shared with them; drafts are not
shared yet, so they see none. Reps see nothing of drafts. Missing and forbidden are the same 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from salesos.roles import opens_any_plan
from territories.models import TerritoryPlan

SHOWN = (TerritoryPlan.Status.DRAFT, TerritoryPlan.Status.REVIEW, TerritoryPlan.Status.STAGED)


def simulated_plans_for(user) -> QuerySet[TerritoryPlan]:
    """The plans whose simulation ``user`` may open, by name."""
    if not opens_any_plan(user):
        return TerritoryPlan.objects.none()
    return TerritoryPlan.objects.filter(status__in=SHOWN).order_by("name")


def simulation_plan_get(*, user, pk: int) -> TerritoryPlan:
    plan = simulated_plans_for(user).filter(pk=pk).first()
    if plan is None:
        raise Http404("No such draft plan")
    return plan
