"""What part of the territory tree a user's figures cover, and how figures roll up through it.

Every analytics figure is read for a ``Scope``: the territories of the active plan the user may
see (``territories.selectors.territories_visible_to``: admins all, directors their subtrees,
managers their team's, reps their own). A territory's figures include its subtree, but only the
part of the subtree the user may see, so nobody's totals reveal a territory hidden from them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from territories.models import Territory, TerritoryPlan
from territories.selectors import territories_visible_to

FIELDS = ("pk", "code", "name", "parent_id", "type", "is_overlay", "status", "credit_percent")


@dataclass(frozen=True)
class Node:
    pk: int
    code: str
    name: str
    parent_id: int | None
    type: str
    is_overlay: bool
    status: str
    credit_percent: int

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def type_label(self) -> str:
        return Territory.Type(self.type).label if self.type in Territory.Type.values else self.type


@dataclass
class Scope:
    plan: TerritoryPlan | None
    nodes: dict[int, Node] = field(default_factory=dict)
    children: dict[int | None, list[int]] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return list(self.nodes)

    def roots(self) -> list[int]:
        """Visible territories whose parent is not visible (the tops of the user's part)."""
        return [pk for pk, n in self.nodes.items() if n.parent_id not in self.nodes]

    def subtree(self, pk: int) -> list[int]:
        """``pk`` and its visible descendants."""
        out, stack = [], [pk]
        while stack:
            here = stack.pop()
            out.append(here)
            stack.extend(self.children.get(here, ()))
        return out

    def depth(self, pk: int) -> int:
        """Depth in the plan's tree as far as the user sees it (1 = a top they see)."""
        d, node = 1, self.nodes[pk]
        while node.parent_id in self.nodes:
            d += 1
            node = self.nodes[node.parent_id]  # type: ignore[index]
        return d

    def ancestors(self, pk: int) -> list[Node]:
        """Visible ancestors of ``pk``, the top first (for the breadcrumb)."""
        out = []
        node = self.nodes[pk]
        while node.parent_id in self.nodes:
            node = self.nodes[node.parent_id]  # type: ignore[index]
            out.append(node)
        return out[::-1]

    def child_nodes(self, pk: int | None) -> list[Node]:
        ids = self.roots() if pk is None else self.children.get(pk, [])
        return sorted((self.nodes[i] for i in ids), key=lambda n: n.code)

    def rollup(self, own: Mapping[int, Mapping[str, Decimal | int]]) -> dict[int, dict[str, Decimal | int]]:
        """Per visible territory, the sum of ``own`` figures over its visible subtree (one pass,
        leaves first)."""
        totals: dict[int, dict[str, Decimal | int]] = {}
        for pk in self._post_order():
            sums: dict[str, Decimal | int] = defaultdict(int)
            for key, value in own.get(pk, {}).items():
                sums[key] += value
            for child in self.children.get(pk, ()):
                for key, value in totals[child].items():
                    sums[key] += value
            totals[pk] = dict(sums)
        return totals

    def _post_order(self) -> Iterable[int]:
        order: list[int] = []
        stack = [(pk, False) for pk in self.roots()]
        while stack:
            pk, done = stack.pop()
            if done:
                order.append(pk)
                continue
            stack.append((pk, True))
            stack.extend((c, False) for c in self.children.get(pk, ()))
        return order


def scope_for(user, plan: TerritoryPlan | None = None) -> Scope:
    """The user's part of the active plan (one query)."""
    plan = plan if plan is not None else TerritoryPlan.active()
    if plan is None:
        return Scope(plan=None)
    return _scope_of(plan, territories_visible_to(user, plan))


def plan_scope(plan: TerritoryPlan) -> Scope:
    """Every territory of ``plan``: what the stored figures are computed over (one query)."""
    return _scope_of(plan, Territory.objects.filter(plan=plan))


def _scope_of(plan: TerritoryPlan, territories) -> Scope:
    scope = Scope(plan=plan)
    for row in territories.order_by("code").values(*FIELDS):
        node = Node(**row)
        scope.nodes[node.pk] = node
    for node in scope.nodes.values():
        parent = node.parent_id if node.parent_id in scope.nodes else None
        if parent is not None:
            scope.children.setdefault(parent, []).append(node.pk)
    return scope
