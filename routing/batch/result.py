"""What a re-route did (or, dry, would do): counts, per-territory moves, a sample, phase times."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RerouteResult:
    plan_id: int
    scope: str
    dry_run: bool
    total: int = 0  # accounts in scope
    processed: int = 0
    changed: int = 0  # accounts with at least one row closed or opened
    moved: int = 0  # accounts whose primary territory changes
    newly_assigned: int = 0
    newly_unassigned: int = 0
    rows_closed: int = 0
    rows_inserted: int = 0
    decisions: int = 0  # decisions stored (distinct sets of matching territories and lock)
    settled: int = 0  # accounts edited while the run went, routed again at its end
    stale: list[int] = field(default_factory=list)  # those accounts (ids)
    moved_in: Counter = field(default_factory=Counter)  # territory_id -> accounts arriving
    moved_out: Counter = field(default_factory=Counter)  # territory_id -> accounts leaving
    sample: list[dict[str, Any]] = field(default_factory=list)  # {account_id, name, from_id, to_id}
    territory_codes: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (code, name)
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall time, for the benchmark

    def lap(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - started, 3)
        return now

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "processed": self.processed,
            "changed": self.changed,
            "moved": self.moved,
            "newly_assigned": self.newly_assigned,
            "newly_unassigned": self.newly_unassigned,
            "rows_closed": self.rows_closed,
            "rows_inserted": self.rows_inserted,
            "decisions": self.decisions,
            "settled": self.settled,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``RoutingJob.result``: counts, per-territory in/out, a sample of moves."""

        def code(t_id: int | None) -> str | None:
            return self.territory_codes.get(t_id, (str(t_id), ""))[0] if t_id is not None else None

        territories = [
            {
                "id": t_id,
                "code": code(t_id),
                "name": self.territory_codes.get(t_id, ("", ""))[1],
                "in": self.moved_in.get(t_id, 0),
                "out": self.moved_out.get(t_id, 0),
            }
            for t_id in set(self.moved_in) | set(self.moved_out)
        ]
        territories.sort(key=lambda row: (-(row["in"] + row["out"]), row["code"] or ""))
        sample = [
            {
                "account_id": move["account_id"],
                "name": move["name"],
                "from_code": code(move["from_id"]),
                "to_code": code(move["to_id"]),
            }
            for move in self.sample
        ]
        return {
            "plan_id": self.plan_id,
            "scope": self.scope,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "territories": territories,
            "sample": sample,
        }
