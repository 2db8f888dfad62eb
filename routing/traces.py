"""A stored routing decision as the pages show it: ``decision_trace`` rebuilds the full trace
from an ownership row's shared ``RoutingDecision``; ``TerritoryMask`` shows each territory as the
user may see it (another team's territory is named as such); ``trace_view`` turns a trace into
the rows the explanation and conflicts pages print."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from routing import engine
from routing.engine.fields import GEO_LEVEL_NAMES
from routing.services import plan_index
from territories.access import sees_everything
from territories.models import AccountTerritory, RoutingDecision, Territory, TerritoryPlan
from territories.selectors import territories_visible_to

# --- stored decisions ------------------------------------------------------------------------


def _stored_decision(row: AccountTerritory) -> RoutingDecision | None:
    """The row's decision, or None (manual rows have none; a decision row that went missing is
    history lost, not an error)."""
    if row.decision_id is None:
        return None
    try:
        return row.decision
    except RoutingDecision.DoesNotExist:
        return None


def _plan_of(row: AccountTerritory) -> TerritoryPlan:
    # plan_index needs only the plan's id: do not load the plan for it.
    return row.plan if AccountTerritory.plan.is_cached(row) else TerritoryPlan(pk=row.plan_id)


def _rebuild(decision: RoutingDecision, compiled: engine.PlanIndex) -> dict[str, Any]:
    data = engine.decide_matched(compiled, decision.matched or [], decision.locked_territory_id).to_dict()
    if decision.plan_version != compiled.version:
        data["trace"]["plan_version"] = decision.plan_version
        data["trace"]["notes"].append(
            f"Decided under plan version {decision.plan_version}; the plan has changed since (now version "
            f"{compiled.version}): candidates are shown with today's priorities and rules."
        )
    return data


def decision_trace(row: AccountTerritory, *, compiled: engine.PlanIndex | None = None) -> dict[str, Any] | None:
    """The full decision behind an ``AccountTerritory`` row, as ``engine.Decision.to_dict()``
    gives it (territory_id, source, overlays, conflict, matched, trace), rebuilt from the row's
    shared ``RoutingDecision`` (the territories that matched and the lock) against the row's plan
    as it is today. None for rows without a decision (manual routing, overlay rows).

    When the plan moved on since the decision (``plan_version`` differs), ``trace.plan_version``
    stays the version the decision was made under and a note says the candidates are shown with
    today's rules; territories deleted since are left out. Pass ``compiled`` (the row plan's
    ``services.plan_index``) to save its version query when rebuilding many rows; load rows
    with ``select_related("decision")``."""
    decision = _stored_decision(row)
    if decision is None:
        return None
    return _rebuild(decision, compiled if compiled is not None else plan_index(plan=_plan_of(row)))


def decision_traces(rows: Iterable[AccountTerritory]) -> list[dict[str, Any] | None]:
    """``decision_trace`` of each row, compiling (or checking the cached compile of) each plan
    once, whatever the number of rows."""
    rows = list(rows)
    compiled: dict[int, engine.PlanIndex] = {}
    out: list[dict[str, Any] | None] = []
    for row in rows:
        decision = _stored_decision(row)
        if decision is None:
            out.append(None)
            continue
        if row.plan_id not in compiled:
            compiled[row.plan_id] = plan_index(plan=_plan_of(row))
        out.append(_rebuild(decision, compiled[row.plan_id]))
    return out


# --- what a user may be told about a territory -----------------------------------------------
#
# The explanation and conflicts pages name territories the record matched, lost to, rolled up to
# or was credited by, which may belong to teams the user may not see. ``TerritoryMask`` is the one
# place that decides how each is shown: by code and name where the user may see it
# (``territories_visible_to``, admins everything), else only as "another team's territory", with
# the codes the engine writes into reasons and notes replaced the same way.

HIDDEN_TERRITORY = "Another team's territory"


@dataclass(frozen=True)
class ShownTerritory:
    """A territory as a page may name it to one user. ``link``: the user may open its page."""

    pk: int | None
    code: str
    name: str
    link: bool = False
    hidden: bool = False


HIDDEN_SHOWN = ShownTerritory(pk=None, code="", name=HIDDEN_TERRITORY, hidden=True)


class TerritoryMask:
    def __init__(self, *, user, plan: TerritoryPlan | None, territories: Iterable[Territory | None]):
        named = {t.pk: t for t in territories if t is not None}
        self.everything = sees_everything(user)
        self.plan_id = plan.pk if plan is not None else None
        if self.everything:
            self.visible = set(named)
        else:
            # One query per plan the page names (the active one, and older ones in a history).
            by_plan: dict[int, list[int]] = {}
            for t in named.values():
                by_plan.setdefault(t.plan_id, []).append(t.pk)
            self.visible = set()
            for plan_id, ids in by_plan.items():
                self.visible.update(
                    territories_visible_to(user, TerritoryPlan(pk=plan_id))
                    .filter(pk__in=ids)
                    .values_list("pk", flat=True)
                )
        hidden_codes = {t.code for pk, t in named.items() if pk not in self.visible}
        hidden_codes -= {t.code for pk, t in named.items() if pk in self.visible}
        self._hidden_codes = hidden_codes
        self._pattern: re.Pattern[str] | None = None

    def shown(self, territory: Territory | None, *, code: str = "") -> ShownTerritory | None:
        """``territory`` as the user may see it; None for none. A territory that no longer exists
        (a trace naming a deleted one, by ``code``) is named to admins only."""
        if territory is None:
            if not code:
                return None
            return ShownTerritory(pk=None, code=code, name="") if self.everything else HIDDEN_SHOWN
        if territory.pk not in self.visible:
            return HIDDEN_SHOWN
        link = territory.plan_id == self.plan_id
        return ShownTerritory(pk=territory.pk, code=territory.code, name=territory.name, link=link)

    def hide_code(self, code: str) -> None:
        """Treats ``code`` as hidden in texts (a deleted territory a trace still names)."""
        if code and not self.everything:
            self._hidden_codes.add(code)
            self._pattern = None

    def text(self, text: str) -> str:
        """``text`` (an engine reason or note) with the codes of hidden territories replaced."""
        if not self._hidden_codes or not text:
            return text
        if self._pattern is None:
            codes = sorted(self._hidden_codes, key=len, reverse=True)
            self._pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(c) for c in codes) + r")(?![\w-])")
        return self._pattern.sub(HIDDEN_TERRITORY.lower(), text)

    def trace(self, view: TraceView | None) -> None:
        """Masks a trace in place: its candidates (code, territory, reason), notes and overlays."""
        if view is None:
            return
        for c in view.candidates:
            if c.territory is None:
                self.hide_code(c.code)
        for c in view.candidates:
            c.shown = self.shown(c.territory, code=c.code)
            c.reason = self.text(c.reason)
            if c.shown is not None and c.shown.hidden:
                c.code, c.territory = "", None
        view.notes = [self.text(n) for n in view.notes]
        view.shown = self.shown(view.territory)
        view.overlays_shown = [(self.shown(t), credit) for t, credit in view.overlay_territories]


def trace_territories(*views: TraceView | None) -> list[Territory | None]:
    named: list[Territory | None] = []
    for v in views:
        if v is not None:
            named.extend(c.territory for c in v.candidates)
            named.extend(t for t, _ in v.overlay_territories)
            named.append(v.territory)
    return named


# --- explanations ----------------------------------------------------------------------------


OUTCOME_LABELS = {
    engine.plan.WON: "Won",
    engine.plan.LOST: "Lost",
    engine.plan.ROLLUP: "Roll-up",
    engine.plan.OVERLAY: "Overlay",
}
TIER_LABELS = {"named": "Named", "hybrid": "Hybrid", "single": "Single"}
SOURCE_LABELS = {
    "lock": "Manual lock",
    "named": "Named account list",
    "rule": "Territory rule",
    "manual": "Manual routing",
}


@dataclass
class CandidateRow:
    territory_id: int
    code: str
    territory: Territory | None
    tier: str
    priority: int
    geo: str
    geo_level: int
    conditions: int
    outcome: str
    reason: str
    is_overlay: bool
    shown: ShownTerritory | None = None

    @property
    def tier_label(self) -> str:
        return TIER_LABELS.get(self.tier, self.tier)

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    @property
    def won(self) -> bool:
        return self.outcome == engine.plan.WON


@dataclass
class TraceView:
    """One routing decision (stored JSON or a live ``Decision``) ready for a template."""

    territory_id: int | None
    source: str | None
    conflict: bool
    overlays: list[tuple[int, int]]
    plan_version: Any
    candidates: list[CandidateRow]
    notes: list[str]
    territory: Territory | None = None
    overlay_territories: list[tuple[Territory | None, int]] = field(default_factory=list)
    shown: ShownTerritory | None = None
    overlays_shown: list[tuple[ShownTerritory | None, int]] = field(default_factory=list)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source or "", "No territory matched")

    @property
    def primary_candidates(self) -> list[CandidateRow]:
        return [c for c in self.candidates if not c.is_overlay]

    @property
    def overlay_candidates(self) -> list[CandidateRow]:
        return [c for c in self.candidates if c.is_overlay]

    @property
    def winner(self) -> CandidateRow | None:
        return next((c for c in self.candidates if c.won), None)

    @property
    def tied(self) -> list[CandidateRow]:
        """The candidates the winner tied with on tier, priority and specificity (a conflict)."""
        won = self.winner
        if won is None or not self.conflict:
            return []
        key = (won.tier, won.priority, won.geo_level, won.conditions)
        return [
            c
            for c in self.primary_candidates
            if c.outcome == engine.plan.LOST and (c.tier, c.priority, c.geo_level, c.conditions) == key
        ]


def trace_view(data: Mapping[str, Any] | None) -> TraceView | None:
    """A ``Decision.to_dict()`` as a view; tolerant of partial JSON (a trace is history and must
    render even if its shape was older)."""
    if not data:
        return None
    trace = data.get("trace") or {}
    candidates = []
    for c in trace.get("candidates") or []:
        spec = c.get("specificity") or {}
        level = int(spec.get("geo_level") or 0)
        candidates.append(
            CandidateRow(
                territory_id=c.get("territory_id"),
                code=c.get("code", ""),
                territory=None,
                tier=c.get("tier", ""),
                priority=c.get("priority", 0),
                geo=spec.get("geo") or GEO_LEVEL_NAMES.get(level, "none"),
                geo_level=level,
                conditions=int(spec.get("conditions") or 0),
                outcome=c.get("outcome", ""),
                reason=c.get("reason", ""),
                is_overlay=bool(c.get("is_overlay")),
            )
        )
    return TraceView(
        territory_id=data.get("territory_id"),
        source=data.get("source"),
        conflict=bool(data.get("conflict")),
        overlays=[(int(t), int(credit)) for t, credit in data.get("overlays") or []],
        plan_version=trace.get("plan_version"),
        candidates=candidates,
        notes=list(trace.get("notes") or []),
    )


def attach_territories(views: Iterable[TraceView | None], known: Mapping[int, Territory] | None = None) -> None:
    """Fills in the Territory objects the traces name, in one query for all of them."""
    present = [v for v in views if v is not None]
    ids: set[int] = set()
    for v in present:
        ids.update(c.territory_id for c in v.candidates if c.territory_id)
        ids.update(t for t, _ in v.overlays)
        if v.territory_id:
            ids.add(v.territory_id)
    found = dict(known or {})
    missing = ids - found.keys()
    if missing:
        found.update(Territory.objects.in_bulk(missing))
    for v in present:
        for c in v.candidates:
            c.territory = found.get(c.territory_id)
        v.territory = found.get(v.territory_id) if v.territory_id else None
        v.overlay_territories = [(found.get(t), credit) for t, credit in v.overlays]
