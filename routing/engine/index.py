"""A plan compiled for routing: every territory's rule compiled once, plus a candidate index so
that a record is tested only against territories that can possibly match it.

How the index stays exact. Each territory gets a *guard*: a set of keys such that the territory
can only match a record that hits at least one of them.

* ``field eq/in values`` on a text field guards with the exact (folded) values; ``prefix`` and
  the hierarchical industry ``eq``/``in`` guard with prefixes;
* an ``all`` group is guarded by any one of its guarded members (every member must hold);
* an ``any`` group is guarded by the union of its members' guards, if every member has one;
* a territory is guarded by any guard of its own rule or of an ancestor's (it matches only if
  its ancestors do), and the index picks the one whose keys the fewest territories share; a
  named-account territory is guarded by its account ids.

Territories with no guard (say "employees gte 500" at the root) go on the always-check list.
Looking a record up costs one dictionary probe per text field plus one per registered prefix
length, then the real rules run on the territories found, so the decision is exactly the
brute-force one (``resolve_brute_force`` exists to prove it).

Territories are routable only when they and every ancestor are active: switching a territory
off switches off its subtree. A stored rule that no longer validates makes its territory (and so
its subtree) match nothing; ``PlanIndex.problems`` says which and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from .errors import PlanError, RuleError
from .evaluate import CompiledRule, Facts, Predicate, Specificity
from .fields import EQUALS, FIELDS, HIERARCHY, MEMBER, NUMBER_TYPES, OPERATORS, STARTS, fold
from .plan import ACTIVE, NAMED_ACCOUNT, PlanSpec, TerritorySpec, tier_of

# A guard: (selectivity score, keys). Keys are ("x", field, value) exact or ("p", field, prefix).
Guard = tuple[tuple[int, int], frozenset[tuple[str, str, Any]]]  # (static score, keys)


def _never(_facts: Facts) -> bool:
    return False


@dataclass(slots=True)
class Node:
    id: int
    code: str
    parent_id: int | None
    tier: int
    priority: int
    is_overlay: bool
    credit_percent: int
    named: frozenset[int] | None  # the account list of a named-account territory, else None
    matches_facts: Predicate
    specificity: Specificity  # of the rule with every ancestor's conditions
    ancestors: tuple[int, ...]  # nearest first
    routable: bool


# Operator kinds a key lookup can bound: equality, membership and prefixes (their positive forms;
# ``OPERATORS`` says which operator is of which kind).
GUARD_KINDS = frozenset({EQUALS, MEMBER, STARTS})


def _condition_guard(node: Mapping[str, Any]) -> Guard | None:
    field = FIELDS[node["field"]]
    op, value = node["op"], node["value"]
    operator = OPERATORS[op]
    if field.type in NUMBER_TYPES or not operator.positive or operator.kind not in GUARD_KINDS:
        return None
    values = value if isinstance(value, list) else [value]
    kind = "p" if operator.kind == STARTS or field.type == HIERARCHY else "x"
    keys = frozenset((kind, field.name, fold(v)) for v in values)
    return (field.selectivity, len(keys)), keys


def rule_guards(rule: Mapping[str, Any]) -> list[Guard]:
    """Alternative guards of a normalised rule; each alone bounds it. Empty when none does."""
    if not rule:
        return []
    if "all" in rule:
        return [g for member in rule["all"] for g in rule_guards(member)]
    if "any" in rule:
        best = []
        for member in rule["any"]:
            found = rule_guards(member)
            if not found:
                return []
            best.append(min(found, key=lambda g: g[0]))
        keys = frozenset().union(*(g[1] for g in best))
        return [((max(g[0][0] for g in best), len(keys)), keys)]
    guard = _condition_guard(rule)
    return [guard] if guard is not None else []


class PlanIndex:
    """One plan ready to route records; build once per plan version and share it."""

    def __init__(self, version: str | int):
        self.version = version
        self.nodes: dict[int, Node] = {}
        self.routable_ids: tuple[int, ...] = ()
        self.problems: tuple[tuple[str, str], ...] = ()  # (territory code, message)
        self._exact: dict[str, dict[str, tuple[int, ...]]] = {}
        self._prefix: dict[str, tuple[tuple[int, ...], dict[str, tuple[int, ...]]]] = {}
        self._by_account: dict[int, tuple[int, ...]] = {}
        self._always: tuple[int, ...] = ()
        self._order: list[int] = []  # parents before children
        # Each territory's own rule, validated and normalised ({} for named lists and broken
        # rules): what set-based evaluators (``routing.engine.vector``) work from.
        self.rules: dict[int, Mapping[str, Any]] = {}

    # -- building --------------------------------------------------------------------------

    @classmethod
    def build(cls, spec: PlanSpec) -> PlanIndex:
        plan = cls(spec.version)
        specs: dict[int, TerritorySpec] = {}
        for t in spec.territories:
            if t.id in specs:
                raise PlanError(f"Territory id {t.id} appears twice in the plan")
            specs[t.id] = t
        problems: list[tuple[str, str]] = []
        own_rules: dict[int, Mapping[str, Any]] = {}
        for t in specs.values():
            named = frozenset(t.named_account_ids) if t.type == NAMED_ACCOUNT else None
            matches: Predicate = _never
            spec_ = Specificity()
            own_rule: Mapping[str, Any] = {}
            if named is None:
                try:
                    compiled = CompiledRule(t.rule or {})
                except RuleError as exc:
                    problems.append((t.code, str(exc)))
                else:
                    matches, spec_, own_rule = compiled.matches_facts, compiled.specificity, compiled.rule
            plan.nodes[t.id] = Node(
                id=t.id, code=t.code, parent_id=t.parent_id, tier=tier_of(t.type), priority=t.priority,
                is_overlay=t.is_overlay, credit_percent=t.credit_percent, named=named, matches_facts=matches,
                specificity=spec_, ancestors=(), routable=t.status == ACTIVE,
            )
            own_rules[t.id] = own_rule
        plan.rules = own_rules
        plan._link(specs)
        plan.problems = tuple(problems)
        plan._index(own_rules)
        return plan

    def _link(self, specs: Mapping[int, TerritorySpec]) -> None:
        order: list[int] = []  # parents before children
        state: dict[int, int] = {}  # 1 visiting, 2 done

        def visit(t_id: int) -> None:
            stack = []
            current: int | None = t_id
            while current is not None and state.get(current) != 2:
                if state.get(current) == 1:
                    raise PlanError(f"The territory tree loops at {specs[current].code}")
                state[current] = 1
                stack.append(current)
                parent = specs[current].parent_id
                if parent is not None and parent not in specs:
                    raise PlanError(f"Territory {specs[current].code} has a parent ({parent}) outside the plan")
                current = parent
            for node_id in reversed(stack):
                state[node_id] = 2
                order.append(node_id)

        for t_id in specs:
            visit(t_id)
        for t_id in order:
            node = self.nodes[t_id]
            if node.parent_id is None:
                continue
            parent = self.nodes[node.parent_id]
            node.ancestors = (parent.id, *parent.ancestors)
            node.routable = node.routable and parent.routable
            if node.named is None:
                node.specificity = node.specificity + parent.specificity
        self._order = order
        self.routable_ids = tuple(sorted((t for t in order if self.nodes[t].routable),
                                         key=lambda t: self.nodes[t].code))

    def _index(self, own_rules: Mapping[int, Mapping[str, Any]]) -> None:
        # Every guard along a territory's chain is valid for it; pick the one whose keys the
        # fewest other territories share (a proxy for how many records hit it), so a postal
        # sector reused in every country loses to the state it sits in, and vice versa.
        options: dict[int, list[Guard]] = {}
        popularity: dict[tuple[str, str, Any], int] = {}
        for t_id in self._order:
            node = self.nodes[t_id]
            if node.named is not None:
                chain = [((0, len(node.named)), frozenset(("a", "", a) for a in node.named))]
            else:
                chain = rule_guards(own_rules[t_id]) + (options[node.parent_id] if node.parent_id is not None else [])
            options[t_id] = chain
            if node.routable:
                for key in frozenset().union(*(g[1] for g in chain)):
                    popularity[key] = popularity.get(key, 0) + 1

        exact: dict[str, dict[str, list[int]]] = {}
        prefix: dict[str, dict[str, list[int]]] = {}
        by_account: dict[Any, list[int]] = {}
        always: list[int] = []
        for t_id in self._order:
            node = self.nodes[t_id]
            if not node.routable or (node.matches_facts is _never and node.named is None):
                continue
            chain = options[t_id]
            guard = min(chain, key=lambda g: (sum(popularity[k] for k in g[1]), g[0])) if chain else None
            if guard is None:
                always.append(t_id)
                continue
            for kind, field, value in guard[1]:
                if kind == "a":
                    by_account.setdefault(value, []).append(t_id)
                elif kind == "x":
                    exact.setdefault(field, {}).setdefault(cast(str, value), []).append(t_id)
                else:
                    prefix.setdefault(field, {}).setdefault(cast(str, value), []).append(t_id)
        self._exact = {f: {v: tuple(ids) for v, ids in table.items()} for f, table in exact.items()}
        self._prefix = {
            f: (tuple(sorted({len(p) for p in table})), {p: tuple(ids) for p, ids in table.items()})
            for f, table in prefix.items()
        }
        self._by_account = {a: tuple(ids) for a, ids in by_account.items()}
        self._always = tuple(always)

    # -- lookups -----------------------------------------------------------------------------

    def matches_nothing(self, t_id: int) -> bool:
        """A territory whose stored rule no longer validates (see ``problems``)."""
        node = self.nodes[t_id]
        return node.named is None and node.matches_facts is _never

    @property
    def order(self) -> tuple[int, ...]:
        """Every territory id, parents before children."""
        return tuple(self._order)

    @property
    def always_checked(self) -> tuple[int, ...]:
        """Territories every record is tested against (no discrete requirement)."""
        return self._always

    def candidate_ids(self, facts: Facts, record_id: Any) -> set[int]:
        """Territories that may match: a superset of the matching ones, usually a small one."""
        hits = set(self._always)
        for field, table in self._exact.items():
            value = facts.get(field)
            if value is not None:
                ids = table.get(value)
                if ids:
                    hits.update(ids)
        for field, (lengths, table) in self._prefix.items():
            value = facts.get(field)
            if value is None:
                continue
            size = len(value)
            for length in lengths:
                if length > size:
                    break
                ids = table.get(value[:length])
                if ids:
                    hits.update(ids)
        if record_id is not None:
            ids = self._by_account.get(record_id)
            if ids:
                hits.update(ids)
        return hits

    def matches(self, t_id: int, facts: Facts, record_id: Any, memo: dict[int, bool]) -> bool:
        """Does territory ``t_id`` match, with every ancestor's rule (named lists stand alone)?"""
        found = memo.get(t_id)
        if found is not None:
            return found
        node = self.nodes[t_id]
        if node.named is not None:
            result = record_id in node.named
        else:
            result = node.matches_facts(facts) and (
                node.parent_id is None or self.matches(node.parent_id, facts, record_id, memo)
            )
        memo[t_id] = result
        return result

    def __repr__(self) -> str:
        return f"<PlanIndex {self.version}: {len(self.routable_ids)} routable territories>"

