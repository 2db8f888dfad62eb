"""Rebalancing benchmark: a synthetic territory map in memory (a grid of territories, ten
siblings under each parent, neighbours on the grid bordering each other), skewed workloads, 3% of
accounts named or locked; the optimiser (``planning.balance.solve``) and the greedy baseline on
the same input. Prints one JSON line with ``--json``. Touches no database."""

from __future__ import annotations

import json
import math

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from planning import balance


def synthetic(*, accounts: int, territories: int, seed: int, metrics: tuple[str, ...],
              tolerance: float) -> balance.Problem:
    rng = np.random.default_rng(seed)
    width = max(1, int(math.sqrt(territories * 2)))
    cells = [(i % width, i // width) for i in range(territories)]
    parent_of = {i: 1_000_000 + (x // 5) * 1000 + y // 2 for i, (x, y) in enumerate(cells)}
    terrs = [balance.TerritoryIn(id=i + 1, code=f"T{i + 1:04d}", parent_id=parent_of[i]) for i in range(territories)]
    at = {c: i + 1 for i, c in enumerate(cells)}
    borders = [(at[(x, y)], at[n]) for (x, y) in cells for n in ((x + 1, y), (x, y + 1)) if n in at]
    weights = rng.lognormal(0, 0.35, territories)
    home = rng.choice(territories, size=accounts, p=weights / weights.sum()) + 1
    workload = rng.lognormal(0, 0.6, accounts)
    tam = workload * rng.lognormal(0, 0.3, accounts) * 100_000
    pipeline = workload * rng.lognormal(0, 0.5, accounts) * 20_000
    movable = rng.random(accounts) >= 0.03
    zips = rng.integers(0, max(1, accounts // territories // 20), accounts)
    cols = {"workload": workload, "tam": tam}
    rows = [
        balance.AccountIn(id=i + 1, territory_id=int(home[i]), values=tuple(float(cols[m][i]) for m in metrics),
                          pipeline=float(pipeline[i]), movable=bool(movable[i]), block=str(zips[i]))
        for i in range(accounts)
    ]
    return balance.Problem(terrs, rows, balance.adjacency_from(terrs, borders=borders), metrics=metrics,
                           tolerance=tolerance)


class Command(BaseCommand):
    help = "Time the rebalancing optimiser against a greedy baseline on a synthetic map (one JSON line)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=100_000)
        parser.add_argument("--territories", type=int, default=200)
        parser.add_argument("--tolerance", type=float, default=5.0, help="percent of the average")
        parser.add_argument("--metrics", default="workload", help="comma-separated: workload, tam")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        metrics = tuple(m.strip() for m in opts["metrics"].split(",") if m.strip())
        if not metrics or any(m not in ("workload", "tam") for m in metrics) or metrics[0] != "workload":
            raise CommandError("--metrics takes workload first, then optionally tam.")
        if opts["accounts"] < 1 or opts["territories"] < 2:
            raise CommandError("Give at least one account and two territories.")
        problem = synthetic(accounts=opts["accounts"], territories=opts["territories"], seed=opts["seed"],
                            metrics=metrics, tolerance=opts["tolerance"] / 100)
        result = balance.solve(problem)
        baseline = balance.greedy(problem)
        out = {
            "accounts": opts["accounts"],
            "territories": opts["territories"],
            "metrics": list(metrics),
            "tolerance_pct": opts["tolerance"],
            "max_deviation_pct_before": round(result.max_deviation_pct_before, 2),
            "max_deviation_pct": round(result.max_deviation_pct, 2),
            "moved_workload": round(result.moved_workload, 1),
            "lower_bound": round(result.lower_bound, 1),
            "moved_over_lower_bound": (round(result.moved_workload / result.lower_bound, 3)
                                       if result.lower_bound else None),
            "moved_accounts": result.moved_accounts,
            "seconds": round(result.seconds, 2),
            "status": result.status,
            "greedy_max_deviation_pct": round(baseline.max_deviation_pct, 2),
            "greedy_moved_workload": round(baseline.moved_workload, 1),
            "greedy_seconds": round(baseline.seconds, 2),
        }
        if opts["json"]:
            self.stdout.write(json.dumps(out))
        else:
            for k, v in out.items():
                self.stdout.write(f"{k}: {v}")
