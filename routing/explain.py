"""Why a record sits where it does, for the account and lead explanation pages: the facts the
rules read, each condition of the winning rule checked against the record, the candidates with
their tiers and outcomes, the ownership history, and the territory's owner today."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from routing import engine
from routing.engine.fields import OPERATORS
from routing.services import plan_index, record_of
from routing.traces import (
    ShownTerritory,
    TerritoryMask,
    TraceView,
    attach_territories,
    decision_trace,
    trace_territories,
    trace_view,
)
from salesos.models import Account, Lead
from territories import coverage
from territories.locks import locked_territory
from territories.models import AccountTerritory, Territory, TerritoryPlan

HISTORY_LIMIT = 100
active_plan = TerritoryPlan.active

def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass
class ConditionRow:
    label: str
    op: str
    value: str
    actual: str
    matched: bool
    depth: int


def _condition_rows(trace: engine.Trace, depth: int = 0) -> list[ConditionRow]:
    """A rule's evaluation trace flattened to one row per node, for an indented list."""
    if trace.kind == "empty":
        return [ConditionRow("No conditions", "", "matches every record", "", True, depth)]
    if trace.kind == "condition":
        fld = engine.FIELDS.get(trace.field or "")
        op = OPERATORS.get(trace.op or "")
        return [
            ConditionRow(
                label=fld.label if fld else str(trace.field),
                op=op.label if op else str(trace.op),
                value=_value_text(trace.value),
                actual="—" if trace.actual in (None, "") else _value_text(trace.actual),
                matched=trace.matched,
                depth=depth,
            )
        ]
    group = "All of" if trace.kind == "all" else "Any of"
    rows = [ConditionRow(group, "", "", "", trace.matched, depth)] if depth or trace.kind == "any" else []
    inner = depth + 1 if rows else depth
    for child in trace.children:
        rows.extend(_condition_rows(child, inner))
    return rows


@dataclass
class RuleCheck:
    """One territory on the path from the root to the winner, with its rule checked against
    the record (a child inherits its ancestors' conditions, so every level must hold)."""

    territory: Territory
    rows: list[ConditionRow]
    matched: bool
    named: bool = False
    shown: ShownTerritory | None = None


def _rule_checks(territory: Territory | None, record: Mapping[str, Any]) -> list[RuleCheck]:
    if territory is None:
        return []
    chain = list(territory.ancestors(include_self=True))
    checks = []
    for t in chain:
        if t.type == Territory.Type.NAMED_ACCOUNT:
            checks.append(RuleCheck(t, [], True, named=True))
            continue
        try:
            trace = engine.explain(t.rule or {}, record)
        except engine.RuleError:
            checks.append(RuleCheck(t, [ConditionRow("Invalid rule", "", "", "", False, 0)], False))
            continue
        checks.append(RuleCheck(t, _condition_rows(trace), trace.matched))
    return checks


def _fact_rows(record: Mapping[str, Any], *, industry_title: str = "") -> list[tuple[str, str]]:
    rows = []
    for name, fld in engine.FIELDS.items():
        if name == "name":
            continue
        value = record.get(name)
        if value in (None, ""):
            text = ""
        elif name == "annual_revenue":
            text = f"${value:,.0f}"
        elif name == "employees":
            text = f"{value:,}"
        elif name == "industry" and industry_title:
            text = f"{value} · {industry_title}"
        else:
            text = str(value)
        rows.append((fld.label, text))
    return rows


@dataclass
class Change:
    """How the live re-evaluation differs from the stored state."""

    moves: bool  # a re-route would change the primary territory
    overlays_change: bool
    rules_changed: bool  # the plan's rules moved on since the stored decision
    target: Territory | None  # where a re-route would put it (None: unassigned)
    target_shown: ShownTerritory | None = None

    @property
    def differs(self) -> bool:
        return self.moves or self.overlays_change


@dataclass
class AccountExplanation:
    account: Account
    plan: TerritoryPlan | None
    facts: list[tuple[str, str]]
    primary: AccountTerritory | None
    overlay_rows: list[AccountTerritory]
    stored: TraceView | None
    live: TraceView | None
    change: Change | None
    checks: list[RuleCheck]
    history: list[AccountTerritory]
    history_count: int
    owner: Any
    lock: ShownTerritory | None = None  # the territory the account is locked to, as shown


def account_explanation(*, account: Account, user) -> AccountExplanation:
    """Why an account sits where it does: its facts, the current rows, the stored decision (rebuilt
    from its ``RoutingDecision``), a live re-evaluation against today's rules, the rule checks
    along the winner's branch, the owner today and the ownership history. About fifteen queries
    whatever the plan's size. Every territory it names is shown as ``user`` may see it
    (``TerritoryMask``): each row's and check's ``shown``, the trace's candidates, ``lock``."""
    plan = active_plan()
    rows = list(
        AccountTerritory.objects.filter(account=account)
        .select_related("territory", "plan", "routed_by", "decision")
        .order_by("-valid_from", "-pk")[:HISTORY_LIMIT]
    )
    history_count = len(rows)
    if history_count == HISTORY_LIMIT:
        history_count = AccountTerritory.objects.filter(account=account).count()
    current = [r for r in rows if r.valid_to is None and plan is not None and r.plan_id == plan.pk]
    primary = next((r for r in current if r.is_primary), None)
    overlay_rows = sorted((r for r in current if not r.is_primary), key=lambda r: r.territory.code)

    record = record_of(account)
    stored = None
    live = None
    change = None
    if plan is not None:
        compiled = plan_index(plan=plan)
        stored = trace_view(decision_trace(primary, compiled=compiled)) if primary is not None else None
        live = trace_view(engine.resolve(compiled, record).to_dict())
        known = {r.territory_id: r.territory for r in rows}
        attach_territories([stored, live], known)
        assert live is not None
        current_id = primary.territory_id if primary is not None else None
        # A manual row holds until a rule claims the account (see accounts_route_manually).
        manual = primary is not None and primary.routed_by_hand
        manual_holds = manual and live.territory_id is None
        moves = not manual_holds and live.territory_id != current_id
        overlays_change = {(r.territory_id, r.credit_percent) for r in overlay_rows} != set(live.overlays)
        rules_changed = stored is not None and stored.plan_version != live.plan_version
        change = Change(moves, overlays_change, rules_changed, live.territory)

    winner = primary.territory if primary is not None else None
    checks = _rule_checks(winner, record) if winner is not None else []
    locked = locked_territory(account)
    mask = TerritoryMask(user=user, plan=plan, territories=[
        *(r.territory for r in rows), *trace_territories(stored, live), *(c.territory for c in checks), locked,
    ])
    for r in rows:
        r.shown = mask.shown(r.territory)  # type: ignore[attr-defined]
    _mask_parts(mask, stored=stored, live=live, checks=checks, change=change)
    return AccountExplanation(
        account=account,
        plan=plan,
        facts=_fact_rows(record, industry_title=account.industry.title if account.industry else ""),
        primary=primary,
        overlay_rows=overlay_rows,
        stored=stored,
        live=live,
        change=change,
        checks=checks,
        history=rows,
        history_count=history_count,
        owner=current_owner(territory=winner),
        lock=mask.shown(locked),
    )


@dataclass
class LeadExplanation:
    lead: Lead
    plan: TerritoryPlan | None
    facts: list[tuple[str, str]]
    stored: TraceView | None
    live: TraceView | None
    change: Change | None
    checks: list[RuleCheck]
    territory: ShownTerritory | None = None  # the lead's territory, as shown


def lead_explanation(*, lead: Lead, user) -> LeadExplanation:
    """Why a lead sits where it does: the trace stored when it was routed and a live
    re-evaluation, every territory shown as ``user`` may see it (as ``account_explanation``)."""
    plan = active_plan()
    record = record_of(lead)
    stored = trace_view(lead.routing_trace)
    live = trace_view(engine.resolve(plan_index(plan=plan), record).to_dict()) if plan is not None else None
    known = {lead.territory_id: lead.territory} if lead.territory_id and lead.territory else {}
    attach_territories([stored, live], known)
    change = None
    if live is not None:
        rules_changed = stored is not None and stored.plan_version != live.plan_version
        change = Change(live.territory_id != lead.territory_id, False, rules_changed, live.territory)
    checks = _rule_checks(lead.territory, record)
    mask = TerritoryMask(user=user, plan=plan, territories=[
        lead.territory, *trace_territories(stored, live), *(c.territory for c in checks),
    ])
    _mask_parts(mask, stored=stored, live=live, checks=checks, change=change)
    return LeadExplanation(
        lead=lead,
        plan=plan,
        facts=_fact_rows(record, industry_title=lead.industry.title if lead.industry else ""),
        stored=stored,
        live=live,
        change=change,
        checks=checks,
        territory=mask.shown(lead.territory),
    )


def _mask_parts(
    mask: TerritoryMask, *, stored: TraceView | None, live: TraceView | None, checks: list[RuleCheck],
    change: Change | None,
) -> None:
    """The parts both explanation pages share, masked in place."""
    mask.trace(stored)
    mask.trace(live)
    for check in checks:
        check.shown = mask.shown(check.territory)
    if change is not None:
        change.target_shown = mask.shown(change.target)


def current_owner(*, territory: Territory | None):
    """The owner of a territory today (primary, or the backup covering a leave)."""
    if territory is None:
        return None
    return coverage.owners_of([territory.pk]).get(territory.pk)
