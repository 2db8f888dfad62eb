"""The capacity planner's reads: workload per territory and per rep against capacity (accounts,
open pipeline and TAM; capacity scaled by the holder's ramp), with the flags the page shows.
Thresholds come from ``PlanningSettings``. A bounded number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from planning.figures import territory_figures
from planning.models import PlanningSettings
from planning.quota_page import may_plan, planned_by
from salesos.models import SalesProfile, users_on_leave
from salesos.roles import is_admin, works_queue
from territories import coverage
from territories.access import territories_editable_by
from territories.models import Territory, TerritoryPlan
from territories.placement import accounts_unassigned

OVERLOADED, ROOM, VACANT, LEAVE_NO_BACKUP, RAMPING = "overloaded", "room", "vacant", "leave_no_backup", "ramping"
FLAG_LABELS = {
    OVERLOADED: "Overloaded",
    ROOM: "Has room",
    VACANT: "Vacant",
    LEAVE_NO_BACKUP: "On leave, no backup",
    RAMPING: "Ramping",
}


@dataclass
class Load:
    """Workload against capacity. ``capacity_*`` are already scaled by ramp; ``percent`` is the
    larger of the account and pipeline loads (None without a holder or with zero capacity)."""

    accounts: int = 0
    pipeline: Decimal = Decimal(0)
    tam: Decimal = Decimal(0)
    capacity_accounts: float = 0.0
    capacity_pipeline: float = 0.0
    ramp: float = 1.0

    @property
    def accounts_percent(self) -> float | None:
        return self.accounts / self.capacity_accounts * 100 if self.capacity_accounts else None

    @property
    def pipeline_percent(self) -> float | None:
        return float(self.pipeline) / self.capacity_pipeline * 100 if self.capacity_pipeline else None

    @property
    def percent(self) -> float | None:
        parts = [p for p in (self.accounts_percent, self.pipeline_percent) if p is not None]
        return max(parts) if parts else None


@dataclass
class TerritoryLoad:
    territory: Territory
    holder: str
    holder_id: int | None
    load: Load
    tam_index: float | None  # TAM against the mean of the rows (100 = average)
    flags: list[str] = field(default_factory=list)


@dataclass
class RepLoad:
    user_id: int
    name: str
    territories: list[str]
    load: Load
    flags: list[str] = field(default_factory=list)


@dataclass
class CapacityReport:
    plan: TerritoryPlan | None
    today: dt.date
    settings: PlanningSettings
    territories: list[TerritoryLoad]
    reps: list[RepLoad]
    unassigned_accounts: int
    accounts_in_vacant: int
    counts: dict[str, int]

    @property
    def accounts_without_owner(self) -> int:
        return self.unassigned_accounts + self.accounts_in_vacant


def capacity_scope(user, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """The active non-overlay territories ``user`` plans: all for admins, a director's
    ``territories_editable_by``; none for anyone else (``planned_by`` decides who plans)."""
    if plan is None or not may_plan(user):
        return Territory.objects.none()
    if is_admin(user):
        base = Territory.objects.filter(plan=plan, is_overlay=False)
    else:
        base = territories_editable_by(user, plan)
    return base.filter(status=Territory.Status.ACTIVE)


def ramped_capacity(profile: SalesProfile | None, today: dt.date) -> tuple[float, float, float]:
    """(accounts, pipeline) capacity scaled by the holder's ramp on ``today``, and the ramp: the
    one definition the planner and the simulator's balance use."""
    if profile is None:
        return 0.0, 0.0, 1.0
    ramp = 0.0 if today < profile.hire_date else profile.ramp_factor(on=today)
    return profile.capacity_accounts * ramp, float(profile.capacity_pipeline) * ramp, ramp


def _flag(load: Load, settings: PlanningSettings) -> list[str]:
    pct = load.percent
    if pct is None:
        return []
    if pct > settings.overload_percent:
        return [OVERLOADED]
    if pct < settings.light_percent:
        return [ROOM]
    return []


SORTS: dict[str, Callable[[TerritoryLoad], object]] = {
    "code": lambda r: r.territory.code,
    "holder": lambda r: r.holder or "~",
    "accounts": lambda r: r.load.accounts,
    "pipeline": lambda r: r.load.pipeline,
    "tam": lambda r: r.load.tam,
    "load": lambda r: r.load.percent if r.load.percent is not None else -1,
}


def capacity_report(*, user, plan: TerritoryPlan | None, sort: str = "-load", today: dt.date | None = None
                    ) -> CapacityReport:
    today = today or timezone.localdate()
    settings = PlanningSettings.load()
    candidates = list(capacity_scope(user, plan).order_by("code"))
    figures = territory_figures([t.pk for t in candidates])
    # Leaves always; a parent only when accounts sit in it directly (a container is not a workload).
    leaves = set(planned_by(user, plan).values_list("pk", flat=True))
    scope = [t for t in candidates if t.pk in leaves or (t.pk in figures and figures[t.pk].accounts)]
    ids = [t.pk for t in scope]
    held = coverage.owners_on(territory_ids=ids, on=today)
    away = set(users_on_leave(today).values_list("user_id", flat=True))
    people = {p.user_id: p for p in SalesProfile.objects.filter(
        user_id__in={h.primary for h in held.values() if h.primary}).select_related("user")}
    rows: list[TerritoryLoad] = []
    for t in scope:
        fig = figures.get(t.pk)
        owners = held.get(t.pk)
        primary = owners.primary if owners else None
        profile = people.get(primary) if primary else None
        cap_a, cap_p, ramp = ramped_capacity(profile, today)
        load = Load(fig.accounts if fig else 0, fig.pipeline if fig else Decimal(0), fig.tam if fig else Decimal(0),
                    cap_a, cap_p, ramp)
        name = (profile.user.get_full_name() or profile.user.username) if profile else ""
        row = TerritoryLoad(t, name, primary, load, None)
        if primary is None:
            row.flags.append(VACANT)
        else:
            row.flags.extend(_flag(load, settings))
            if primary in away and not any(b not in away for b in owners.backups):  # type: ignore[union-attr]
                row.flags.append(LEAVE_NO_BACKUP)
            if ramp < 1:
                row.flags.append(RAMPING)
        rows.append(row)
    if rows:
        mean_tam = sum((r.load.tam for r in rows), Decimal(0)) / len(rows)
        for r in rows:
            r.tam_index = float(r.load.tam / mean_tam * 100) if mean_tam else None
    reps = _by_rep(rows, people, settings, today)
    key, reverse = sort.lstrip("-"), sort.startswith("-")
    rows.sort(key=SORTS.get(key, SORTS["load"]), reverse=reverse if key in SORTS else True)  # type: ignore[arg-type]
    counts = {flag: sum(flag in r.flags for r in rows) for flag in FLAG_LABELS}
    unassigned = accounts_unassigned(plan=plan).count() if plan is not None and works_queue(user) else 0
    return CapacityReport(plan, today, settings, rows, reps, unassigned,
                          sum(r.load.accounts for r in rows if VACANT in r.flags), counts)


def _by_rep(rows: list[TerritoryLoad], people: dict[int, SalesProfile], settings: PlanningSettings,
            today: dt.date) -> list[RepLoad]:
    """Each primary's territories added up against their capacity (counted once)."""
    reps: dict[int, RepLoad] = {}
    for r in rows:
        if r.holder_id is None:
            continue
        cap_a, cap_p, ramp = ramped_capacity(people.get(r.holder_id), today)
        rep = reps.setdefault(r.holder_id, RepLoad(r.holder_id, r.holder, [], Load(0, Decimal(0), Decimal(0),
                                                                                    cap_a, cap_p, ramp)))
        rep.territories.append(r.territory.code)
        rep.load.accounts += r.load.accounts
        rep.load.pipeline += r.load.pipeline
        rep.load.tam += r.load.tam
    for rep in reps.values():
        rep.flags = _flag(rep.load, settings) + ([RAMPING] if rep.load.ramp < 1 else [])
    return sorted(reps.values(), key=lambda r: -(r.load.percent or 0))
