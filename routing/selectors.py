"""Reads for the routing pages: the unassigned queue, a record's routing explanation and the
conflicts list. Each page costs a fixed number of queries whatever the data size (pinned in
tests/routing/test_views.py).

Where an account sits comes from ``routing.placement`` (its current primary row); why it sits
there is the row's shared ``RoutingDecision``, rebuilt into a full trace by ``decision_trace``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from routing import engine, placement
from routing.engine.fields import GEO_LEVEL_NAMES, OPERATORS
from routing.models import AccountTerritory, RoutingDecision
from routing.services import compiled_plan, record_of
from salesos.models import Account, Lead, SalesProfile
from salesos.roles import works_queue
from territories import coverage
from territories.access import sees_everything
from territories.models import Territory, TerritoryPlan
from territories.selectors import territories_visible_to

User = get_user_model()
Role = SalesProfile.Role

QUEUE_PAGE_SIZE = 50
CONFLICTS_PAGE_SIZE = 50
HISTORY_LIMIT = 100
# How many territories the route/lock inputs offer before the user types (the rest are found by
# the search endpoint, so a plan of 10,000 territories does not ship 10,000 options).
TARGET_OPTIONS_LIMIT = 300
active_plan = TerritoryPlan.active


# --- the unassigned queue --------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    country: str = ""
    state: str = ""
    industry: str = ""  # a code prefix: "62" finds 621111 and 622110
    since: dt.date | None = None
    q: str = ""

    def as_params(self) -> dict[str, str]:
        params = {
            "country": self.country,
            "state": self.state,
            "industry": self.industry,
            "since": self.since.isoformat() if self.since else "",
            "q": self.q,
        }
        return {k: v for k, v in params.items() if v}

    @property
    def querystring(self) -> str:
        """The filters as a query string, for pager links (empty when no filter is set)."""
        return urlencode(self.as_params())

    @property
    def active(self) -> bool:
        return bool(self.as_params())


def unassigned_accounts(*, filters: QueueFilters | None = None, plan: TerritoryPlan | None = None) -> QuerySet[Account]:
    """Accounts with no territory in the active plan, newest first, narrowed by the filters. Pass
    the active plan when the caller has it (saves a query per call)."""
    accounts = placement.accounts_unassigned(plan=plan)
    f = filters or QueueFilters()
    if f.country:
        accounts = accounts.filter(country=f.country)
    if f.state:
        accounts = accounts.filter(state=f.state)
    if f.industry:
        accounts = accounts.filter(industry_code__startswith=f.industry)
    if f.since:
        accounts = accounts.filter(created_at__date__gte=f.since)
    if f.q:
        accounts = accounts.filter(Q(name__icontains=f.q) | Q(domain__icontains=f.q))
    return accounts.select_related("industry").order_by("-created_at", "-pk")


def unassigned_queue(
    *, filters: QueueFilters | None = None, page: int | str | None = 1, plan: TerritoryPlan | None = None
) -> Page:
    return Paginator(unassigned_accounts(filters=filters, plan=plan), QUEUE_PAGE_SIZE).get_page(page)


def route_targets(*, user, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """Territories of the plan a user may route accounts into by hand: active, not overlays (an
    overlay never owns an account), and, for managers, only their own and their team's."""
    if plan is None or not works_queue(user):
        return Territory.objects.none()
    return (
        territories_visible_to(user, plan)
        .filter(status=Territory.Status.ACTIVE, is_overlay=False)
        .order_by("code")
    )


def lock_targets(*, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """Territories an admin may lock an account to (the engine ignores locks on anything else)."""
    if plan is None:
        return Territory.objects.none()
    return Territory.objects.filter(plan=plan, status=Territory.Status.ACTIVE, is_overlay=False).order_by("code")


def territory_options(territories: QuerySet[Territory], *, term: str = "", limit: int = 50) -> list[Territory]:
    """Territories whose code or name contains ``term``, codes first, for the searchable inputs."""
    term = term.strip()[:60]
    if term:
        territories = territories.filter(Q(code__icontains=term) | Q(name__icontains=term))
    return list(territories.only("pk", "code", "name")[:limit])


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
    # compiled_plan needs only the plan's id: do not load the plan for it.
    return row.plan if AccountTerritory.plan.is_cached(row) else TerritoryPlan(pk=row.plan_id)


def _rebuild(decision: RoutingDecision, compiled: engine.CompiledPlan) -> dict[str, Any]:
    data = engine.decide_matched(compiled, decision.matched or [], decision.locked_territory_id).to_dict()
    if decision.plan_version != compiled.version:
        data["trace"]["plan_version"] = decision.plan_version
        data["trace"]["notes"].append(
            f"Decided under plan version {decision.plan_version}; the plan has changed since (now version "
            f"{compiled.version}): candidates are shown with today's priorities and rules."
        )
    return data


def decision_trace(row: AccountTerritory, *, compiled: engine.CompiledPlan | None = None) -> dict[str, Any] | None:
    """The full decision behind an ``AccountTerritory`` row, as ``engine.Decision.to_dict()``
    gives it (territory_id, source, overlays, conflict, matched, trace), rebuilt from the row's
    shared ``RoutingDecision`` (the territories that matched and the lock) against the row's plan
    as it is today. None for rows without a decision (manual routing, overlay rows).

    When the plan moved on since the decision (``plan_version`` differs), ``trace.plan_version``
    stays the version the decision was made under and a note says the candidates are shown with
    today's rules; territories deleted since are left out. Pass ``compiled`` (the row plan's
    ``services.compiled_plan``) to save its version query when rebuilding many rows; load rows
    with ``select_related("decision")``."""
    decision = _stored_decision(row)
    if decision is None:
        return None
    return _rebuild(decision, compiled if compiled is not None else compiled_plan(plan=_plan_of(row)))


def decision_traces(rows: Iterable[AccountTerritory]) -> list[dict[str, Any] | None]:
    """``decision_trace`` of each row, compiling (or checking the cached compile of) each plan
    once, whatever the number of rows."""
    rows = list(rows)
    compiled: dict[int, engine.CompiledPlan] = {}
    out: list[dict[str, Any] | None] = []
    for row in rows:
        decision = _stored_decision(row)
        if decision is None:
            out.append(None)
            continue
        if row.plan_id not in compiled:
            compiled[row.plan_id] = compiled_plan(plan=_plan_of(row))
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


_HIDDEN = ShownTerritory(pk=None, code="", name=HIDDEN_TERRITORY, hidden=True)


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
            return ShownTerritory(pk=None, code=code, name="") if self.everything else _HIDDEN
        if territory.pk not in self.visible:
            return _HIDDEN
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


def _trace_territories(*views: TraceView | None) -> list[Territory | None]:
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


def _trace_view(data: Mapping[str, Any] | None) -> TraceView | None:
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


def _attach_territories(views: Iterable[TraceView | None], known: Mapping[int, Territory] | None = None) -> None:
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
        compiled = compiled_plan(plan=plan)
        stored = _trace_view(decision_trace(primary, compiled=compiled)) if primary is not None else None
        live = _trace_view(compiled.resolve(record).to_dict())
        known = {r.territory_id: r.territory for r in rows}
        _attach_territories([stored, live], known)
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
    mask = TerritoryMask(user=user, plan=plan, territories=[
        *(r.territory for r in rows), *_trace_territories(stored, live), *(c.territory for c in checks),
        account.locked_territory,
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
        lock=mask.shown(account.locked_territory),
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
    stored = _trace_view(lead.routing_trace)
    live = _trace_view(compiled_plan(plan=plan).resolve(record).to_dict()) if plan is not None else None
    known = {lead.territory_id: lead.territory} if lead.territory_id and lead.territory else {}
    _attach_territories([stored, live], known)
    change = None
    if live is not None:
        rules_changed = stored is not None and stored.plan_version != live.plan_version
        change = Change(live.territory_id != lead.territory_id, False, rules_changed, live.territory)
    checks = _rule_checks(lead.territory, record)
    mask = TerritoryMask(user=user, plan=plan, territories=[
        lead.territory, *_trace_territories(stored, live), *(c.territory for c in checks),
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


# --- conflicts -------------------------------------------------------------------------------


def conflicts_page(*, user, page: int | str | None = 1) -> tuple[TerritoryPlan | None, Page]:
    """Accounts whose current territory won a tie on the lowest code, in the active plan. Below the
    admin, the ones won by territories visible to the user; a tied loser they may not see is shown
    as another team's (``TerritoryMask``). Each row gets ``view``: its trace with the
    tied candidates attached to their territories (one query for the whole page)."""
    plan = active_plan()
    rows = AccountTerritory.objects.none()
    if plan is not None and works_queue(user):
        rows = AccountTerritory.objects.filter(
            plan=plan, is_primary=True, valid_to__isnull=True, conflict=True
        ).select_related("account", "territory", "decision")
        if not sees_everything(user):  # managers their team's, directors their subtrees'
            rows = rows.filter(territory__in=territories_visible_to(user, plan).values("pk"))
        rows = rows.order_by("territory__code", "account__name", "pk")
    result = Paginator(rows, CONFLICTS_PAGE_SIZE).get_page(page)
    views = []
    for row, data in zip(result, decision_traces(result), strict=True):
        row.view = _trace_view(data)  # type: ignore[attr-defined]
        views.append(row.view)  # type: ignore[attr-defined]
    _attach_territories(views, {row.territory_id: row.territory for row in result})
    mask = TerritoryMask(user=user, plan=plan, territories=[
        *(row.territory for row in result), *_trace_territories(*views),
    ])
    for row in result:
        row.shown = mask.shown(row.territory)  # type: ignore[attr-defined]
        mask.trace(row.view)  # type: ignore[attr-defined]
    return plan, result
