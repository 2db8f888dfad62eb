"""The territory tree and list pages: the whole plan as a tree of nodes with their own and subtree
figures (accounts, open pipeline, quota), built in a few queries, and the rows and filters the
pages show from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    Q,
    QuerySet,
    Sum,
)

from salesos.models import Opportunity, SalesProfile
from salesos.roles import opens_any_plan, role_of
from territories import coverage, hooks
from territories.models import RepAssignment, Territory, TerritoryPlan
from territories.placement import current_primary_rows
from territories.selectors import current_assignments, display_name, view_grants

Role = SalesProfile.Role


# --- the tree and list pages ----------------------------------------------------------------
#
# One pass over the plan: its territories (a few columns each), the figures each territory owns
# (accounts, open pipeline, quota) grouped in SQL, and the current assignments. Everything the
# tree, the flat list, the filters and the roll-ups need is then computed in Python, so both pages
# cost the same handful of queries whatever the size of the plan.

LIST_PAGE_SIZE = 100
CHILDREN_PAGE_SIZE = 100
AUTO_EXPAND_MAX = 10  # a level this short opens its nodes one level down on first display
AUTO_EXPAND_CHILDREN = 50  # children shown under a node opened that way


@dataclass(slots=True)
class Node:
    """One territory of a plan with its own and rolled-up figures (the roll-ups cover the whole
    subtree: a territory's figures belong to it, whoever may see its children)."""

    pk: int
    parent_id: int | None
    code: str
    name: str
    type: str
    status: str
    is_overlay: bool
    credit_percent: int
    priority: int
    depth: int = 0
    path: list[int] = field(default_factory=list)  # ancestor ids, root first
    children: list[int] = field(default_factory=list)
    own_accounts: int = 0
    own_pipeline: Decimal = Decimal(0)
    own_quota: Decimal = Decimal(0)
    accounts: int = 0
    pipeline: Decimal = Decimal(0)
    quota: Decimal = Decimal(0)
    primary: str = ""
    primary_id: int | None = None
    rep_ids: set[int] = field(default_factory=set)
    overlay_staffed: bool = False
    visible_children: int = 0
    path_nodes: list = field(default_factory=list)  # filled for the rows of the flat list

    @property
    def level(self) -> int:
        return self.depth + 1

    @property
    def vacant(self) -> bool:
        return coverage.is_vacant(
            status=self.status,
            is_overlay=self.is_overlay,
            has_primary=self.primary_id is not None,
            has_overlay=self.overlay_staffed,
        )

    def get_type_display(self) -> str:
        return Territory.Type(self.type).label

    def get_status_display(self) -> str:
        return Territory.Status(self.status).label

    @property
    def is_active(self) -> bool:
        return self.status == Territory.Status.ACTIVE


@dataclass
class PlanTree:
    plan: TerritoryPlan
    nodes: dict[int, Node]
    visible: set[int]
    reps: dict[int, str]  # user id -> name, for the people holding visible territories
    fiscal_year: Any  # planning.FiscalYear | None: the year the quota column covers

    def sorted_ids(self, ids) -> list[int]:
        return sorted(ids, key=lambda pk: self.nodes[pk].code)

    def tops(self) -> list[int]:
        """Visible territories whose parent the user does not see (the roots for admins)."""
        return self.sorted_ids(pk for pk in self.visible if self.nodes[pk].parent_id not in self.visible)

    def children_of(self, pk: int) -> list[int]:
        return self.sorted_ids(c for c in self.nodes[pk].children if c in self.visible)

    def path_of(self, pk: int) -> list[Node]:
        return [self.nodes[a] for a in self.nodes[pk].path]

    def visible_path_of(self, pk: int) -> list[Node]:
        return [self.nodes[a] for a in self.nodes[pk].path if a in self.visible]


def plan_quotas(plan: TerritoryPlan, territory_ids: set[int] | None = None) -> tuple[Any, dict[int, Decimal]]:
    """The fiscal year the plan covers and the quota each of its territories (of
    ``territory_ids`` when given) carries itself, as planning answers ``hooks.plan_quotas`` (none
    without planning)."""
    for fiscal_year, quota in hooks.answers(hooks.plan_quotas, plan=plan, territory_ids=territory_ids):
        return fiscal_year, quota
    return None, {}


def own_figures(plan: TerritoryPlan, territory_ids: set[int] | None = None) -> tuple[dict, dict]:
    """Accounts and open pipeline each territory of the plan (of ``territory_ids`` when given)
    holds itself (two grouped queries), read from the plan's current primary AccountTerritory rows
    (``territories.placement``: the same figures as every other page)."""
    open_deals = Opportunity.objects.filter(status=Opportunity.Status.OPEN).order_by()
    rows = current_primary_rows(plan).order_by()
    # One filter() call: the row conditions must hold on the same AccountTerritory row.
    held: dict[str, Any] = {
        "account__territory_rows__plan": plan,
        "account__territory_rows__is_primary": True,
        "account__territory_rows__valid_to__isnull": True,
    }
    if territory_ids is not None:
        rows = rows.filter(territory_id__in=territory_ids)
        held["account__territory_rows__territory_id__in"] = territory_ids
    accounts: QuerySet[Any, tuple[Any, ...]] = rows.values_list("territory_id").annotate(n=Count("pk"))
    pipeline = (
        open_deals.filter(**held).values_list("account__territory_rows__territory_id").annotate(total=Sum("amount"))
    )
    return dict(accounts), dict(pipeline)


def plan_tree(*, user, plan: TerritoryPlan, show_retired: bool = True, within: int | None = None) -> PlanTree:
    """The whole plan as nodes with roll-ups, and which of them ``user`` may see (six queries).
    ``show_retired=False`` leaves retired territories out of ``visible`` (the tree hides them by
    default); roll-ups still cover them. ``within`` (a territory id) loads figures and reps for
    that territory's subtree only (one territory's page): the other nodes carry none. Without it,
    a user who does not see the whole plan gets figures and reps for the subtrees of the
    territories they may see; the nodes outside them carry none."""
    nodes = {
        row[0]: Node(*row)
        for row in Territory.objects.filter(plan=plan)
        .order_by()
        .values_list("pk", "parent_id", "code", "name", "type", "status", "is_overlay", "credit_percent", "priority")
    }
    sees_all = role_of(user) == Role.ADMIN
    if sees_all:
        visible = set(nodes)
    else:
        visible = set(view_grants(user).filter(content_object__plan=plan).values_list("content_object_id", flat=True))
        visible &= nodes.keys()
    granted = set(visible)
    if not show_retired:
        visible -= {pk for pk, node in nodes.items() if node.status == Territory.Status.INACTIVE}

    # Depth and paths, parents before children (breadth first from the roots).
    order: list[int] = []
    roots = [n.pk for n in nodes.values() if n.parent_id is None or n.parent_id not in nodes]
    for node in nodes.values():
        if node.parent_id in nodes:
            nodes[node.parent_id].children.append(node.pk)
    queue = list(roots)
    while queue:
        pk = queue.pop()
        order.append(pk)
        node = nodes[pk]
        for child in node.children:
            nodes[child].depth = node.depth + 1
            nodes[child].path = [*node.path, pk]
            queue.append(child)

    if within is not None:
        scope: set[int] | None = {pk for pk, n in nodes.items() if pk == within or within in n.path}
    elif not sees_all:
        # Only the figures of what the user sees are shown: those of the visible territories'
        # subtrees, read for those territories alone instead of the whole plan.
        scope = {pk for pk, n in nodes.items() if pk in granted or not granted.isdisjoint(n.path)}
    else:
        scope = None
    fiscal_year, quota = plan_quotas(plan, scope)
    accounts, pipeline = own_figures(plan, scope)
    for pk, node in nodes.items():
        node.own_accounts = node.accounts = accounts.get(pk, 0)
        node.own_pipeline = node.pipeline = pipeline.get(pk) or Decimal(0)
        node.own_quota = node.quota = quota.get(pk) or Decimal(0)
    for pk in reversed(order):  # children before parents
        node = nodes[pk]
        if node.parent_id in nodes:
            parent = nodes[node.parent_id]
            parent.accounts += node.accounts
            parent.pipeline += node.pipeline
            parent.quota += node.quota
            if pk in visible:
                parent.visible_children += 1

    reps: dict[int, str] = {}
    held = (
        current_assignments()
        .filter(territory__plan=plan)
        .order_by()
        .values_list("territory_id", "user_id", "slot", "user__first_name", "user__last_name", "user__username")
    )
    if scope is not None:
        held = held.filter(territory_id__in=scope)
    for territory_id, user_id, slot, first, last, username in held:
        node = nodes[territory_id]
        node.rep_ids.add(user_id)
        name = display_name(first, last, username)
        if slot == RepAssignment.Slot.PRIMARY:
            node.primary, node.primary_id = name, user_id
        elif slot == RepAssignment.Slot.OVERLAY:
            node.overlay_staffed = True
        if territory_id in visible:
            reps[user_id] = name
    return PlanTree(plan=plan, nodes=nodes, visible=visible, reps=reps, fiscal_year=fiscal_year)


def plans_for(user) -> list[TerritoryPlan]:
    """The plans a user may pick: every plan for admins and directors; the active one and the
    drafts shared with them for managers (``territories.access.may_see_plan``); the active one
    for reps."""
    plans = TerritoryPlan.objects.select_related("fiscal_year").order_by("-effective_date", "name")
    if not opens_any_plan(user):
        visible = Q(status=TerritoryPlan.Status.ACTIVE)
        if role_of(user) == SalesProfile.Role.MANAGER:
            visible |= Q(status__in=TerritoryPlan.SHAREABLE, shared_with=user)
        plans = plans.filter(visible).distinct()
    return list(plans)


def plan_choose(plans: list[TerritoryPlan], plan_id: str | None) -> TerritoryPlan | None:
    """The plan a page shows, from the plans the user may pick (``plans_for``): ``plan_id`` when
    it is one of them, the active plan when no id is given, None otherwise."""
    if not plan_id:
        return next((p for p in plans if p.status == TerritoryPlan.Status.ACTIVE), None)
    return next((p for p in plans if str(p.pk) == plan_id), None)


@dataclass
class Row:
    node: Node
    indent: int
    expanded: bool = False
    hint: str = ""  # the parent's name when the parent is not shown (a rep's deep territory)
    more: int = 0  # not a territory row: "show all <more> territories under <node>"

    @property
    def ancestors(self) -> str:
        path = [*self.node.path, self.node.pk] if self.more else self.node.path
        return " ".join(str(pk) for pk in path)


@dataclass
class TreeFilters:
    q: str = ""
    type: str = ""
    level: int | None = None
    rep: int | None = None
    vacant: bool = False
    retired: bool = False  # show retired territories (hidden by default); not a search filter

    @classmethod
    def from_query(cls, query) -> TreeFilters:
        def number(key: str) -> int | None:
            try:
                return int(query.get(key, ""))
            except ValueError:
                return None

        kind = query.get("type", "")
        return cls(
            q=query.get("q", "").strip()[:100],
            type=kind if kind in Territory.Type.values else "",
            level=number("level"),
            rep=number("rep"),
            vacant=query.get("vacant") in ("1", "on", "true"),
            retired=query.get("retired") in ("1", "on", "true"),
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.type or self.level or self.rep or self.vacant)

    def matches(self, node: Node) -> bool:
        q = self.q.casefold()
        return (
            (not q or q in node.code.casefold() or q in node.name.casefold())
            and (not self.type or node.type == self.type)
            and (not self.level or node.level == self.level)
            and (not self.rep or self.rep in node.rep_ids)
            and (not self.vacant or node.vacant)
        )


def children_rows(tree: PlanTree, pk: int, *, indent: int, limit: int = CHILDREN_PAGE_SIZE) -> list[Row]:
    """The visible children of ``pk`` as rows, at most ``limit``, then a "show all" row."""
    ids = tree.children_of(pk)
    rows = [Row(tree.nodes[c], indent) for c in ids[:limit]]
    if len(ids) > limit:
        rows.append(Row(tree.nodes[pk], indent, more=len(ids)))
    return rows


def tree_level_rows(tree: PlanTree, ids: list[int], *, indent: int = 0, auto_expand: bool = True) -> list[Row]:
    """Rows for one level of the tree (already paginated ids); a short level opens each node one
    level down (its first ``AUTO_EXPAND_CHILDREN`` visible children)."""
    expand = auto_expand and len(ids) <= AUTO_EXPAND_MAX
    rows: list[Row] = []
    for pk in ids:
        node = tree.nodes[pk]
        parent_id = node.parent_id
        hint = tree.nodes[parent_id].name if parent_id in tree.nodes and parent_id not in tree.visible else ""
        opened = expand and node.visible_children > 0
        rows.append(Row(node, indent, expanded=opened, hint=hint if indent == 0 else ""))
        if opened:
            rows.extend(children_rows(tree, pk, indent=indent + 1, limit=AUTO_EXPAND_CHILDREN))
    return rows


def territory_list_page(tree: PlanTree, filters: TreeFilters, *, page: int | str | None = 1) -> Page:
    """Visible territories matching the filters, by code, 100 a page; each with its path."""
    matches = [tree.nodes[pk] for pk in tree.sorted_ids(pk for pk in tree.visible if filters.matches(tree.nodes[pk]))]
    result = Paginator(matches, LIST_PAGE_SIZE).get_page(page)
    for node in result:
        node.path_nodes = tree.path_of(node.pk)
    return result
