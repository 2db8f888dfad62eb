"""Resolution of one record within a plan (DESIGN "Resolution for one record").

1. Lock: ``record["locked_territory_id"]`` naming a routable, non-overlay territory of this plan
   wins whatever the rules say. A lock naming anything else (another plan's territory, an
   inactive or draft one, an overlay) is ignored with a note in the trace and the rules decide:
   after a new plan activates, a stale lock must not strand the record.
2. Candidates: routable territories whose own rule and every ancestor's rule match. A named-
   account territory matches when ``record["id"]`` is on its list, whatever its rule or its
   ancestors say. A candidate that is an ancestor of another candidate drops out (the deepest
   match wins; the trace lists the ancestors as "rollup"); a parent whose own rule matches but
   none of whose children match stays a candidate.
3. Tiers: named-account territories, then hybrid, then single-dimension ones (geographic,
   industry, size). Only the first non-empty tier competes.
4. In that tier: highest priority, then specificity (finest geographic level, then conditions
   that must all hold, over the territory's rule and its ancestors'), then the lowest code. A
   win decided by the code is a tie and ``Decision.conflict`` is true.
5. Overlays never compete: each matching overlay (deepest-wins among overlays alone, as above)
   adds ``(territory_id, credit_percent)``. Overlays are reported with locks too.
6. No candidate: ``territory_id`` None, source None (the unassigned queue).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .evaluate import Facts, prepare
from .index import Node, PlanIndex
from .plan import (
    LOCK,
    LOST,
    NAMED,
    OVERLAY,
    ROLLUP,
    RULE,
    TIER_NAMED,
    TIER_NAMES,
    WON,
    CandidateTrace,
    Decision,
    PlanSpec,
    RoutingTrace,
)


def _rank(node: Node) -> tuple[int, int, int, int, str]:
    spec = node.specificity
    return (node.tier, -node.priority, -spec.geo_level, -spec.conditions, node.code)


def _deepest(plan: PlanIndex, ids: list[int]) -> tuple[list[int], dict[int, int]]:
    """Drop candidates that are ancestors of other candidates; map each dropped one to a
    descendant that matched (for the trace)."""
    rolled: dict[int, int] = {}
    for t_id in ids:
        for ancestor in plan.nodes[t_id].ancestors:
            rolled.setdefault(ancestor, t_id)
    return [t for t in ids if t not in rolled], {t: rolled[t] for t in ids if t in rolled}


def _describe(node: Node) -> str:
    return f"tier {TIER_NAMES[node.tier]}, priority {node.priority}, {node.specificity.describe()}"


def _decide(plan: PlanIndex, record: Mapping[str, Any], facts: Facts, ids: Iterable[int]) -> Decision:
    record_id = record.get("id")
    memo: dict[int, bool] = {}
    matched = [t for t in ids if plan.matches(t, facts, record_id, memo)]
    return decide_matched(plan, matched, record.get("locked_territory_id"))


def decide_matched(plan: PlanIndex, matched_ids: Iterable[int], lock_id: Any = None) -> Decision:
    """The decision for a record that matched exactly ``matched_ids`` (routable territories of
    the plan, each with every ancestor's rule) and carries the lock ``lock_id``. A stored
    ``Decision.matched`` and lock give back the whole decision and its trace this way; ids the
    plan no longer routes are left out."""
    nodes = plan.nodes
    matched = sorted({t for t in matched_ids if t in nodes and nodes[t].routable}, key=lambda t: nodes[t].code)
    primary = [t for t in matched if not nodes[t].is_overlay]
    overlay = [t for t in matched if nodes[t].is_overlay]
    primary, primary_rolled = _deepest(plan, primary)
    overlay, overlay_rolled = _deepest(plan, overlay)

    notes: list[str] = []
    traces: list[CandidateTrace] = []
    winner: Node | None = None
    source: str | None = None
    conflict = False

    if lock_id is not None:
        lock = nodes.get(lock_id)
        if lock is None:
            notes.append(f"Lock on territory {lock_id} ignored: it is not in plan {plan.version}")
        elif not lock.routable:
            notes.append(f"Lock on {lock.code} ignored: the territory or an ancestor is not active")
        elif lock.is_overlay:
            notes.append(f"Lock on {lock.code} ignored: an overlay territory cannot own a record")
        else:
            winner, source = lock, LOCK
            notes.append(f"Locked to {lock.code} (manual override)")

    ranked = sorted((nodes[t] for t in primary), key=_rank)
    if winner is None and ranked:
        winner = ranked[0]
        source = NAMED if winner.tier == TIER_NAMED else RULE
        if len(ranked) > 1 and _rank(ranked[1])[:4] == _rank(winner)[:4]:
            conflict = True

    for node in ranked:
        assert winner is not None  # ranked is non-empty, so someone won
        if source == LOCK:
            outcome = WON if node is winner else LOST
            reason = "locked to this territory" if node is winner else f"record is locked to {winner.code}"
        elif node is winner:
            outcome, reason = WON, _describe(node)
            if conflict:
                reason += "; tied, lowest code wins (conflict)"
        else:
            outcome, reason = LOST, _why_lost(node, winner)
        traces.append(CandidateTrace(node.id, node.code, TIER_NAMES[node.tier], node.priority,
                                     node.specificity, outcome, reason))
    if source == LOCK and winner is not None and winner.id not in primary:
        traces.insert(0, CandidateTrace(winner.id, winner.code, TIER_NAMES[winner.tier], winner.priority,
                                        winner.specificity, WON, "locked to this territory (rules do not match)"))
    for t_id, below in sorted(primary_rolled.items(), key=lambda item: nodes[item[0]].code):
        node = nodes[t_id]
        traces.append(CandidateTrace(node.id, node.code, TIER_NAMES[node.tier], node.priority, node.specificity,
                                     ROLLUP, f"ancestor of matching {nodes[below].code}: the record rolls up"))

    overlays_sorted = sorted((nodes[t] for t in overlay), key=lambda n: n.code)
    for node in overlays_sorted:
        traces.append(CandidateTrace(node.id, node.code, TIER_NAMES[node.tier], node.priority, node.specificity,
                                     OVERLAY, f"overlay credit {node.credit_percent}%", is_overlay=True))
    for t_id, below in sorted(overlay_rolled.items(), key=lambda item: nodes[item[0]].code):
        node = nodes[t_id]
        traces.append(CandidateTrace(node.id, node.code, TIER_NAMES[node.tier], node.priority, node.specificity,
                                     ROLLUP, f"overlay ancestor of matching {nodes[below].code}", is_overlay=True))
    if winner is None:
        notes.append("No territory matches: unassigned")

    return Decision(
        matched=tuple(sorted(matched)),
        territory_id=winner.id if winner is not None else None,
        source=source,
        overlays=tuple((n.id, n.credit_percent) for n in overlays_sorted),
        conflict=conflict,
        trace=RoutingTrace(plan.version, tuple(traces), tuple(notes)),
    )


def _why_lost(node: Node, winner: Node) -> str:
    if node.tier != winner.tier:
        return f"tier {TIER_NAMES[node.tier]} comes after {TIER_NAMES[winner.tier]} ({winner.code})"
    if node.priority != winner.priority:
        return f"priority {node.priority} is below {winner.code}'s {winner.priority}"
    if node.specificity != winner.specificity:
        return f"less specific ({node.specificity.describe()}) than {winner.code} ({winner.specificity.describe()})"
    return f"tied with {winner.code}, which has the lower code (conflict)"


def _indexes(plan: PlanIndex | PlanSpec) -> PlanIndex:
    return plan if isinstance(plan, PlanIndex) else PlanIndex.build(plan)


def resolve(plan: PlanIndex | PlanSpec, record: Mapping[str, Any]) -> Decision:
    """Route one record. Pass a ``PlanIndex`` (built once per plan version); a ``PlanSpec``
    is compiled on every call, which is fine in tests and slow anywhere else."""
    plan = _indexes(plan)
    facts = prepare(record)
    return _decide(plan, record, facts, plan.candidate_ids(facts, record.get("id")))


def resolve_brute_force(plan: PlanIndex | PlanSpec, record: Mapping[str, Any]) -> Decision:
    """The same decision without the index: every routable territory is tested. The reference
    the index is checked against."""
    plan = _indexes(plan)
    return _decide(plan, record, prepare(record), plan.routable_ids)
