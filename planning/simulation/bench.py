"""``simulate_s`` for ``manage.py bench_routing`` (connected to ``routing.bench.plan_measured`` in
``PlanningConfig.ready``): the benchmark's plan copied whole into a draft, the rules of 10% of its
territories changed (sibling postal territories swap their rules, so their accounts move), then
one simulation of the draft timed (its compiled index warm, as for
``reroute_full_s``; the build is ``simulate_compile_s``): every account routed through it and written as the draft's
rows, and the impact measured. The draft is removed afterwards (and before, if a run left one)."""

from __future__ import annotations

import time
from typing import Any

from django.db import connection, transaction

from planning.models import Simulation
from planning.simulation.services import simulation_run, simulation_start
from routing.batch import warm
from routing.models import RoutingJob
from territories.models import AccountTerritory, RepAssignment, RoutingDecision, Territory, TerritoryPlan

BENCH_DRAFT = "Benchmark draft"
CHANGED_SHARE = 0.10


def _copy_plan(plan: TerritoryPlan) -> TerritoryPlan:
    """A draft with the plan's territories (same codes, rules, tree), named lists and rep slots,
    copied in SQL."""
    draft = TerritoryPlan.objects.create(name=BENCH_DRAFT, status=TerritoryPlan.Status.DRAFT, source_plan=plan,
                                         description="Draft made by manage.py bench_routing")
    table = Territory._meta.db_table
    columns = [f.column for f in Territory._meta.concrete_fields if f.column not in ("id", "plan_id", "parent_id")]
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (plan_id, {names}) SELECT %s, {names} FROM {table} WHERE plan_id = %s",  # noqa: S608
                       [draft.pk, plan.pk])
        cursor.execute(
            f"UPDATE {table} AS c SET parent_id = np.id FROM {table} AS o JOIN {table} AS op ON op.id = o.parent_id "  # noqa: S608
            f"JOIN {table} AS np ON np.plan_id = %s AND np.code = op.code "
            "WHERE c.plan_id = %s AND o.plan_id = %s AND o.code = c.code",
            [draft.pk, draft.pk, plan.pk],
        )
        through = Territory.named_accounts.through._meta.db_table
        cursor.execute(
            f"INSERT INTO {through} (territory_id, account_id) SELECT n.id, t.account_id FROM {through} t "  # noqa: S608
            f"JOIN {table} o ON o.id = t.territory_id JOIN {table} n ON n.plan_id = %s AND n.code = o.code "
            "WHERE o.plan_id = %s",
            [draft.pk, plan.pk],
        )
        slots = RepAssignment._meta.db_table
        cursor.execute(
            f"INSERT INTO {slots} (territory_id, user_id, slot, split_percent, start_date, end_date) "  # noqa: S608
            f"SELECT n.id, a.user_id, a.slot, a.split_percent, a.start_date, a.end_date FROM {slots} a "
            f"JOIN {table} o ON o.id = a.territory_id JOIN {table} n ON n.plan_id = %s AND n.code = o.code "
            "WHERE o.plan_id = %s",
            [draft.pk, plan.pk],
        )
    return draft


def _change_tenth(draft: TerritoryPlan, leaf_codes: list[str]) -> int:
    """Swaps the rules of sibling postal territories (the first two of each state) until 10% of
    the draft's territories differ from the plan. Returns how many changed."""
    wanted = int(Territory.objects.filter(plan=draft).count() * CHANGED_SHARE)
    rules = dict(Territory.objects.filter(plan=draft, code__in=leaf_codes).values_list("code", "rule"))
    swapped: dict[str, Any] = {}
    for i in range(0, len(leaf_codes) - 1, 3):  # postal 0, 1, 2 of one state, in order
        if len(swapped) + 2 > wanted:
            break
        a, b = leaf_codes[i], leaf_codes[i + 1]
        swapped[a], swapped[b] = rules[b], rules[a]
    changed = list(Territory.objects.filter(plan=draft, code__in=list(swapped)))
    for territory in changed:
        territory.rule = swapped[territory.code]
    Territory.objects.bulk_update(changed, ["rule"], batch_size=500)
    TerritoryPlan.objects.filter(pk=draft.pk).update(version=draft.version + 1)
    return len(swapped)


def remove_drafts() -> None:
    plans = list(TerritoryPlan.objects.filter(name=BENCH_DRAFT).values_list("pk", flat=True))
    if not plans:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AccountTerritory._meta.db_table} WHERE plan_id = ANY(%s)", [plans])  # noqa: S608
        Simulation.objects.filter(plan_id__in=plans).delete()
        RoutingJob.objects.filter(plan_id__in=plans).delete()
        cursor.execute(f"DELETE FROM {RoutingDecision._meta.db_table} WHERE plan_id = ANY(%s)", [plans])  # noqa: S608
        RepAssignment.objects.filter(territory__plan_id__in=plans).delete()
        Territory.named_accounts.through.objects.filter(territory__plan_id__in=plans).delete()
        table = Territory._meta.db_table
        cursor.execute(f"UPDATE {table} SET parent_id = NULL WHERE plan_id = ANY(%s)", [plans])  # noqa: S608
        cursor.execute(f"DELETE FROM {table} WHERE plan_id = ANY(%s)", [plans])  # noqa: S608
        TerritoryPlan.history.filter(id__in=plans).delete()
        cursor.execute(f"DELETE FROM {TerritoryPlan._meta.db_table} WHERE id = ANY(%s)", [plans])  # noqa: S608


def measure_simulate(*, plan: TerritoryPlan, leaf_ids: list[int], log=None, **_: Any) -> dict[str, Any]:
    """The simulation figures (PostgreSQL only: the copy is PostgreSQL SQL)."""
    if connection.vendor != "postgresql":
        return {"simulate_s": None, "simulate_note": "measured on PostgreSQL only"}
    say = log or (lambda _msg: None)
    remove_drafts()
    try:
        started = time.perf_counter()
        draft = _copy_plan(plan)
        leaf_codes = list(Territory.objects.filter(pk__in=leaf_ids).order_by("pk").values_list("code", flat=True))
        changed = _change_tenth(draft, leaf_codes)
        copy_s = round(time.perf_counter() - started, 3)
        draft.refresh_from_db()
        simulation = simulation_start(plan=draft, queue=False)
        # As for ``reroute_full_s``, the worker's compiled index of the plan is warm; building it
        # for the draft is measured apart (``simulate_compile_s``).
        started = time.perf_counter()
        warm(draft)
        compile_s = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        done = simulation_run(simulation_id=simulation.pk)
        seconds = round(time.perf_counter() - started, 3)
        assert done is not None and done.is_done, done.error if done else "no simulation"
        moved = sum(p[2] for p in done.impact["pairs"] if p[0] and p[1] and _moves(p, done.impact))
        say(f"simulation of a draft with {changed} changed territories: {seconds} s ({moved} accounts move)")
        return {
            "simulate_s": seconds,
            "simulate_compile_s": compile_s,
            "simulate_draft_copy_s": copy_s,
            "simulate_changed_territories": changed,
            "simulate_moved_accounts": moved,
            "simulate_routed": done.impact["routed"],
            "simulate_phases_s": done.impact["seconds"],
        }
    finally:
        remove_drafts()


def _moves(pair: list, impact: dict) -> bool:
    before, after = impact["baseline"].get(str(pair[0])), impact["draft"].get(str(pair[1]))
    return bool(before and after and before["code"] != after["code"])

