"""Background tasks (django-q2) of planning. Each takes ids or nothing and calls one service."""

from __future__ import annotations

from planning.reassignments.services import reassignment_execute, reassignments_execute_due
from planning.services import rebalance_review_notify
from planning.simulation.services import simulation_run

DAILY_REASSIGNMENTS = "planning.tasks.reassignments_daily"


def reassignment_execute_task(reassignment_id: int) -> str:
    """Executes one proposal approved on (or after) its effective date, right after approval."""
    return reassignment_execute(reassignment_id=reassignment_id).outcome


def reassignments_daily() -> dict[str, int]:
    """Every day (a schedule created by migration): due proposals execute, ended transition
    windows close, due customer notices go out."""
    return reassignments_execute_due()


def rebalance_quarterly() -> int:
    """Every quarter (a schedule created by migration): the rebalancing review, sent to the admins."""
    return rebalance_review_notify()


def simulation_run_task(simulation_id: int) -> str:
    """Routes every account through a draft and measures the impact (``simulation_start``)."""
    found = simulation_run(simulation_id=simulation_id)
    return found.status if found is not None else "missing"
