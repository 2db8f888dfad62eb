"""An edit and a submission of the same draft at the same instant, each on its own database
connection (PostgreSQL): the edit reads the plan's status under the plan's row lock, so it either
commits before the submission (which then sends the plan for review with the edit in it) or it
waits for the submission and is refused. It never commits into a plan already in review."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from planning.plans import services as plan_services
from territories import services as territory_services
from territories.models import Territory, TerritoryPlan
from territories.services import territories as territory_writes
from tests.planning.plan_helpers import company

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two connections and row locks"),
]
HOLD = 0.6  # seconds the first writer holds its transaction open
OREGON = {"all": [{"field": "state", "op": "in", "value": ["US-OR"]}]}


def _in_thread(act, outcome: dict, key: str, delay: float) -> threading.Thread:
    def run() -> None:
        try:
            time.sleep(delay)
            outcome[key] = act()
        except Exception as exc:  # noqa: BLE001 - the test reads it
            outcome[key] = exc
        finally:
            outcome[f"{key}_at"] = time.monotonic()
            connections.close_all()

    return threading.Thread(target=run)


def _race(world, *, edit_delay: float, submit_delay: float) -> dict:
    draft, admin = world["draft"], world["admin"]
    west = Territory.objects.get(plan=draft, code="WEST")
    outcome: dict = {}
    threads = [
        _in_thread(
            lambda: territory_services.territory_update_rule(territory=west, rule=OREGON, by=admin),
            outcome,
            "edit",
            edit_delay,
        ),
        _in_thread(lambda: plan_services.plan_submit(plan=draft, by=admin), outcome, "submit", submit_delay),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def test_an_edit_holding_the_plan_commits_before_the_submission_takes_it(monkeypatch):
    world = company()
    real = territory_writes.validated_rule

    def slow(rule):
        time.sleep(HOLD)  # the edit has read "draft" and holds its transaction open
        return real(rule)

    monkeypatch.setattr(territory_writes, "validated_rule", slow)
    outcome = _race(world, edit_delay=0, submit_delay=0.2)
    assert not isinstance(outcome["edit"], Exception) and not isinstance(outcome["submit"], Exception)
    # The submission waited for the edit: the plan went for review with the edit in it.
    assert outcome["submit_at"] >= outcome["edit_at"]
    assert Territory.objects.get(plan=world["draft"], code="WEST").rule == OREGON
    assert TerritoryPlan.objects.get(pk=world["draft"].pk).is_in_review


def test_an_edit_racing_a_submission_in_flight_is_refused_and_changes_nothing(monkeypatch):
    world = company()
    before = Territory.objects.get(plan=world["draft"], code="WEST").rule
    real = plan_services.plan_policy_ensure

    def slow():
        time.sleep(HOLD)  # the submission holds the plan, now "in review", uncommitted
        return real()

    monkeypatch.setattr(plan_services, "plan_policy_ensure", slow)
    outcome = _race(world, edit_delay=0.2, submit_delay=0)
    assert not isinstance(outcome["submit"], Exception)
    assert isinstance(outcome["edit"], ValidationError) and "locked against edits" in str(outcome["edit"])
    assert Territory.objects.get(plan=world["draft"], code="WEST").rule == before
    assert TerritoryPlan.objects.get(pk=world["draft"].pk).is_in_review
