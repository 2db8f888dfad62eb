"""Background tasks (django-q2) of planning. Each takes ids or nothing and calls one service."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from planning.plans.activate import plan_activate, plans_activate_due
from planning.plans.errors import PlanError
from planning.reassignments.services import reassignment_execute, reassignments_execute_due
from planning.services import rebalance_review_notify
from planning.simulation.services import simulation_run
from routing.models import Notification
from territories.models import TerritoryPlan

DAILY_REASSIGNMENTS = "planning.tasks.reassignments_daily"


def plan_activate_task(plan_id: int, on: str, by_id: int | None = None) -> str:
    """Activates (or re-activates) one plan on ``on`` (ISO date), started from its page; the
    person who started it hears how it went."""
    plan = TerritoryPlan.objects.get(pk=plan_id)
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    try:
        done = plan_activate(plan=plan, on=dt.date.fromisoformat(on), by=by, confirm=True)
    except PlanError as exc:
        text, title = str(exc), f"{plan.name} was not activated"
    else:
        text, title = done.summary(), f"{plan.name} is the active plan again"
    if by is not None:
        Notification.objects.create(user=by, title=title[:200], body=text, url=f"/planning/plans/{plan.pk}/")
    return text


def reassignment_execute_task(reassignment_id: int) -> str:
    """Executes one proposal approved on (or after) its effective date, right after approval."""
    return reassignment_execute(reassignment_id=reassignment_id).outcome


def reassignments_daily() -> dict[str, int]:
    """Every day (a schedule created by migration): a staged plan whose activation day has come
    becomes active, then due proposals execute, ended transition windows close, due customer
    notices go out."""
    activated = plans_activate_due()
    return {"plans_activated": len(activated), **reassignments_execute_due()}


def rebalance_quarterly() -> int:
    """Every quarter (a schedule created by migration): the rebalancing review, sent to the admins."""
    return rebalance_review_notify()


def simulation_run_task(simulation_id: int) -> str:
    """Routes every account through a draft and measures the impact (``simulation_start``)."""
    found = simulation_run(simulation_id=simulation_id)
    return found.status if found is not None else "missing"
