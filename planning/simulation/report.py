"""A stored simulation's impact shaped for one reader: what moves from -> to (a matrix and the
flows for the chart), the deals and pipeline that change owner, the per-territory balance before
and after (accounts, TAM, pipeline, workload against capacity: min, max, coefficient of
variation), vacancies and accounts left unassigned.

Admins see the whole plan. Anyone else sees the pairs that touch a territory they may see in
either plan (``territories_visible_to``); a territory they may not see is "Elsewhere", without its
name or figures, and the totals count only what they see."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from planning.capacity import Load
from planning.models import Simulation
from salesos.roles import is_admin
from territories.models import TerritoryPlan
from territories.selectors import territories_visible_to

ELSEWHERE = "Elsewhere"
UNASSIGNED = "Unassigned"
MATRIX_SIZE = 8  # territories per side of the matrix; the rest are "Other"
FLOWS = 25  # flows drawn in the chart; the rest are summed into "Other"
OTHER = "Other"


@dataclass
class Stat:
    label: str
    count: int = 0  # territories with a value (workload needs a holder with capacity)
    minimum: float = 0.0
    maximum: float = 0.0
    mean: float = 0.0
    cv: float | None = None  # coefficient of variation, percent (population standard deviation / mean)


@dataclass
class BalanceRow:
    code: str
    name: str
    holder: str
    vacant: bool
    load: Load

    @property
    def percent(self) -> float | None:
        return self.load.percent


@dataclass
class Flow:
    source: str
    target: str
    accounts: int = 0
    pipeline: Decimal = Decimal(0)
    deals: int = 0


@dataclass
class Report:
    simulation: Simulation
    partial: bool  # the reader sees part of the plan
    accounts: int = 0
    moved: int = 0
    moved_tam: Decimal = Decimal(0)
    moved_pipeline: Decimal = Decimal(0)
    accounts_changing_owner: int = 0
    deals_changing_owner: int = 0
    pipeline_changing_owner: Decimal = Decimal(0)
    unassigned_before: int = 0
    unassigned_after: int = 0
    flows: list[Flow] = field(default_factory=list)
    matrix_rows: list[str] = field(default_factory=list)
    matrix_cols: list[str] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)
    balance: list[BalanceRow] = field(default_factory=list)
    stats_before: list[Stat] = field(default_factory=list)
    stats_after: list[Stat] = field(default_factory=list)
    vacancies: list[BalanceRow] = field(default_factory=list)

    @property
    def matrix_table(self) -> list[tuple[str, list[int]]]:
        return list(zip(self.matrix_rows, self.matrix, strict=True))

    @property
    def summary(self) -> dict[str, Any]:
        """The headline figures (for the side-by-side comparison)."""
        cv = {s.label: s.cv for s in self.stats_after}
        return {"moved": self.moved, "moved_pipeline": self.moved_pipeline,
                "deals_changing_owner": self.deals_changing_owner,
                "pipeline_changing_owner": self.pipeline_changing_owner,
                "unassigned_after": self.unassigned_after, "vacancies": len(self.vacancies), "cv": cv}


def _visible(user, plan_id: int | None) -> set[int] | None:
    """Territory ids of the plan the reader may see (None: all of them)."""
    if is_admin(user):
        return None
    plan = TerritoryPlan.objects.filter(pk=plan_id).first() if plan_id else None
    return set(territories_visible_to(user, plan).values_list("pk", flat=True)) if plan is not None else set()


def _stats(label: str, values: list[float]) -> Stat:
    if not values:
        return Stat(label)
    mean = statistics.fmean(values)
    cv = statistics.pstdev(values) / mean * 100 if mean and len(values) > 1 else None
    return Stat(label, len(values), min(values), max(values), mean, cv)


def _balance(territories: dict[str, dict], shown: set[int] | None,
             figures: dict[int, list]) -> list[BalanceRow]:
    """Balanced territories (active, not overlay) that are leaves or hold accounts themselves."""
    rows = []
    for key, t in territories.items():
        pk = int(key)
        if not t["balanced"] or (shown is not None and pk not in shown):
            continue
        accounts, tam, pipeline = figures.get(pk, [0, Decimal(0), Decimal(0)])
        if not t["leaf"] and not accounts:
            continue
        load = Load(accounts, pipeline, tam, t["capacity_accounts"], t["capacity_pipeline"], t["ramp"])
        rows.append(BalanceRow(t["code"], t["name"], t["holder"], t["vacant"], load))
    return sorted(rows, key=lambda r: r.code)


def _stat_set(rows: list[BalanceRow]) -> list[Stat]:
    return [
        _stats("Accounts", [float(r.load.accounts) for r in rows]),
        _stats("TAM", [float(r.load.tam) for r in rows]),
        _stats("Pipeline", [float(r.load.pipeline) for r in rows]),
        _stats("Workload %", [r.percent for r in rows if r.percent is not None]),
    ]


def simulation_report(*, simulation: Simulation, user) -> Report:
    impact = simulation.impact or {}
    before_t: dict[str, dict] = impact.get("baseline", {})
    after_t: dict[str, dict] = impact.get("draft", {})
    seen_before, seen_after = _visible(user, impact.get("baseline_id")), _visible(user, impact.get("draft_id"))
    report = Report(simulation=simulation, partial=seen_before is not None)

    def label(side: dict[str, dict], seen: set[int] | None, pk: int) -> str:
        if not pk:
            return UNASSIGNED
        if seen is not None and pk not in seen:
            return ELSEWHERE
        t = side.get(str(pk))
        return f"{t['code']} {t['name']}" if t else ELSEWHERE

    fig_before: dict[int, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    fig_after: dict[int, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    flows: dict[tuple[str, str], Flow] = {}
    for b, d, n, tam, deals, pipeline, owner_deals, owner_pipeline in impact.get("pairs", []):
        if seen_before is not None and seen_after is not None and b not in seen_before and d not in seen_after:
            continue  # neither side is the reader's (0, unassigned, is in neither set)
        tam, pipeline, owner_pipeline = Decimal(tam), Decimal(pipeline), Decimal(owner_pipeline)
        for figures, pk in ((fig_before, b), (fig_after, d)):
            if pk:
                figures[pk][0] += n
                figures[pk][1] += tam
                figures[pk][2] += pipeline
        report.accounts += n
        report.unassigned_before += n if not b else 0
        report.unassigned_after += n if not d else 0
        report.deals_changing_owner += owner_deals
        report.pipeline_changing_owner += owner_pipeline
        was, now = before_t.get(str(b)), after_t.get(str(d))
        if was and now and was["owner"] != now["owner"]:
            report.accounts_changing_owner += n
        if (was["code"] if was else None) == (now["code"] if now else None):
            continue
        report.moved += n
        report.moved_tam += tam
        report.moved_pipeline += pipeline
        key = (label(before_t, seen_before, b), label(after_t, seen_after, d))
        flow = flows.setdefault(key, Flow(*key))
        flow.accounts += n
        flow.pipeline += pipeline
        flow.deals += deals
    report.flows = sorted(flows.values(), key=lambda f: (-f.accounts, f.source, f.target))
    _matrix(report)
    report.balance = _balance(after_t, seen_after, fig_after)
    report.stats_after = _stat_set(report.balance)
    report.stats_before = _stat_set(_balance(before_t, seen_before, fig_before))
    report.vacancies = [r for r in report.balance if r.vacant]
    return report


def _matrix(report: Report) -> None:
    """The moves as a from x to matrix over the territories losing and gaining the most."""
    out: dict[str, int] = defaultdict(int)
    into: dict[str, int] = defaultdict(int)
    for f in report.flows:
        out[f.source] += f.accounts
        into[f.target] += f.accounts
    rows = [name for name, _ in sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:MATRIX_SIZE]]
    cols = [name for name, _ in sorted(into.items(), key=lambda kv: (-kv[1], kv[0]))[:MATRIX_SIZE]]
    if len(out) > MATRIX_SIZE:
        rows.append(OTHER)
    if len(into) > MATRIX_SIZE:
        cols.append(OTHER)
    cells = [[0] * len(cols) for _ in rows]
    for f in report.flows:
        r = rows.index(f.source) if f.source in rows else len(rows) - 1
        c = cols.index(f.target) if f.target in cols else len(cols) - 1
        cells[r][c] += f.accounts
    report.matrix_rows, report.matrix_cols, report.matrix = rows, cols, cells
