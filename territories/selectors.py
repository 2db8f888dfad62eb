"""Reads of the territory map that pages need: visibility by role, coverage figures per territory
(accounts, open pipeline, primary rep) computed in SQL so a page costs the same few queries
whatever the number of territories."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from planning.models import FiscalYear, Quota
from routing.models import AccountTerritory
from routing.placement import Placement, current_primary_rows, placed
from salesos.models import Account, Opportunity, SalesProfile
from salesos.roles import opens_any_plan, role_of
from territories import coverage
from territories.models import RepAssignment, Territory, TerritoryPlan, TerritoryUserObjectPermission

User = get_user_model()
Role = SalesProfile.Role


active_plan = TerritoryPlan.active  # the one definition, on the model


def current_assignments(on: dt.date | None = None) -> QuerySet[RepAssignment]:
    """The assignments in force on ``on`` (today): ``territories.coverage``."""
    return coverage.assignments_on(on)


def _current_primary_rows_of(territory_ref: str) -> QuerySet[AccountTerritory]:
    # A territory id names its plan: no plan filter needed. Served by the (territory, valid_to) index.
    return AccountTerritory.objects.filter(territory=OuterRef(territory_ref), is_primary=True, valid_to__isnull=True)


def account_count_of(territory_ref: str = "pk") -> Coalesce:
    """Accounts whose current primary territory is the outer row's territory (one correlated
    subquery over the current primary ``AccountTerritory`` rows, ``routing.placement``)."""
    counts = (
        _current_primary_rows_of(territory_ref).order_by().values("territory").annotate(n=Count("pk")).values("n")[:1]
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def open_pipeline_of(territory_ref: str = "pk") -> Coalesce:
    """Open deal amounts on the accounts of the outer row's territory. Deals are counted through
    their account's current primary territory, the same set the account counts use, so the two
    figures agree."""
    amounts = (
        Opportunity.objects.filter(
            # One filter() call: the three conditions hold for the same routing row.
            account__territory_rows__territory=OuterRef(territory_ref),
            account__territory_rows__is_primary=True,
            account__territory_rows__valid_to__isnull=True,
            status=Opportunity.Status.OPEN,
        )
        .order_by()
        .values("account__territory_rows__territory")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    money = DecimalField(max_digits=16, decimal_places=2)
    return Coalesce(Subquery(amounts, output_field=money), Value(Decimal(0)), output_field=money)


def is_staffed(on: dt.date | None = None) -> Case:
    """Whether the outer territory is staffed on ``on`` (not vacant): ``coverage.staffed``."""
    return coverage.staffed(on)


def with_coverage(territories: QuerySet[Territory]) -> QuerySet[Territory]:
    """Adds ``account_count``, ``open_pipeline``, ``staffed`` (``coverage.staffed`` today) and
    ``primary_assignments`` (a list of at most one primary in force today, with its user) to each
    territory."""
    primary = current_assignments().filter(slot=RepAssignment.Slot.PRIMARY).select_related("user")
    return territories.annotate(
        account_count=account_count_of(), open_pipeline=open_pipeline_of(), staffed=coverage.staffed()
    ).prefetch_related(Prefetch("assignments", queryset=primary, to_attr="primary_assignments"))


def team_user_ids(user) -> QuerySet:
    return SalesProfile.objects.filter(manager=user).values("user_id")


def view_grants(user, perm: str = "view_territory") -> QuerySet:
    """Ids of the territories a user holds an object permission on (materialised by
    ``territories.grants``)."""
    return TerritoryUserObjectPermission.objects.filter(user=user, permission__codename=perm).values(
        "content_object_id"
    )


def territories_visible_to(user, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """The territories of ``plan`` a user may see: admins all of them, everyone else the ones
    they hold the ``view_territory`` object permission on (the grants service materialises the
    role rules of SEED "Hierarchy Permissions": reps their own, managers their team's, directors
    the subtrees they lead)."""
    if plan is None or not user.is_authenticated:
        return Territory.objects.none()
    territories = Territory.objects.filter(plan=plan)
    role = role_of(user)
    if role == Role.ADMIN:
        return territories
    if role is None:
        return Territory.objects.none()
    return territories.filter(pk__in=view_grants(user))


def largest_territories(*, plan: TerritoryPlan, limit: int = 8) -> list[Territory]:
    territories = with_coverage(Territory.objects.filter(plan=plan))
    return list(territories.order_by("-account_count", "code")[:limit])


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
        return coverage.is_vacant(status=self.status, is_overlay=self.is_overlay,
                                  has_primary=self.primary_id is not None, has_overlay=self.overlay_staffed)

    def get_type_display(self) -> str:
        return Territory.Type(self.type).label

    def get_status_display(self) -> str:
        return Territory.Status(self.status).label


@dataclass
class PlanTree:
    plan: TerritoryPlan
    nodes: dict[int, Node]
    visible: set[int]
    reps: dict[int, str]  # user id -> name, for the people holding visible territories
    fiscal_year: FiscalYear | None

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


def _display_name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def fiscal_year_for(plan: TerritoryPlan) -> FiscalYear | None:
    """The plan's fiscal year, or the one today falls in."""
    if plan.fiscal_year_id is not None:
        return plan.fiscal_year
    today = timezone.localdate()
    return FiscalYear.objects.filter(start_date__lte=today, end_date__gte=today).first()


def own_figures(plan: TerritoryPlan, fiscal_year: FiscalYear | None) -> tuple[dict, dict, dict]:
    """Accounts, open pipeline and quota each territory of the plan holds itself (three grouped
    queries), read from the plan's current primary AccountTerritory rows (``routing.placement``:
    the same figures as every other page)."""
    open_deals = Opportunity.objects.filter(status=Opportunity.Status.OPEN).order_by()
    rows = current_primary_rows(plan).order_by()
    accounts: QuerySet[Any, tuple[Any, ...]] = rows.values_list("territory_id").annotate(n=Count("pk"))
    pipeline = (
        open_deals.filter(
            account__territory_rows__plan=plan,
            account__territory_rows__is_primary=True,
            account__territory_rows__valid_to__isnull=True,
        )
        .values_list("account__territory_rows__territory_id")
        .annotate(total=Sum("amount"))
    )
    quota: dict = {}
    if fiscal_year is not None:
        quota = dict(
            Quota.objects.filter(territory__plan=plan, period__fiscal_year=fiscal_year)
            .order_by()
            .values_list("territory_id")
            .annotate(total=Sum("amount"))
        )
    return dict(accounts), dict(pipeline), quota


def plan_tree(*, user, plan: TerritoryPlan, show_retired: bool = True) -> PlanTree:
    """The whole plan as nodes with roll-ups, and which of them ``user`` may see (six queries).
    ``show_retired=False`` leaves retired territories out of ``visible`` (the tree hides them by
    default); roll-ups still cover them."""
    nodes = {
        row[0]: Node(*row)
        for row in Territory.objects.filter(plan=plan)
        .order_by()
        .values_list("pk", "parent_id", "code", "name", "type", "status", "is_overlay", "credit_percent", "priority")
    }
    if role_of(user) == Role.ADMIN:
        visible = set(nodes)
    else:
        visible = set(view_grants(user).filter(content_object__plan=plan).values_list("content_object_id", flat=True))
        visible &= nodes.keys()
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

    fiscal_year = fiscal_year_for(plan)
    accounts, pipeline, quota = own_figures(plan, fiscal_year)
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
    for territory_id, user_id, slot, first, last, username in held:
        node = nodes[territory_id]
        node.rep_ids.add(user_id)
        name = _display_name(first, last, username)
        if slot == RepAssignment.Slot.PRIMARY:
            node.primary, node.primary_id = name, user_id
        elif slot == RepAssignment.Slot.OVERLAY:
            node.overlay_staffed = True
        if territory_id in visible:
            reps[user_id] = name
    return PlanTree(plan=plan, nodes=nodes, visible=visible, reps=reps, fiscal_year=fiscal_year)


def plans_for(user) -> list[TerritoryPlan]:
    """The plans a user may pick: every plan for admins and directors, the active one otherwise."""
    plans = TerritoryPlan.objects.select_related("fiscal_year").order_by("-effective_date", "name")
    if not opens_any_plan(user):
        plans = plans.filter(status=TerritoryPlan.Status.ACTIVE)
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


# --- the territory page -----------------------------------------------------------------------

ACCOUNTS_PAGE_SIZE = 50
TOP_DEALS = 20
HISTORY_LIMIT = 200  # historical records read per model; the page lists the changes they make

TERRITORY_HISTORY_FIELDS = (
    "code",
    "name",
    "description",
    "type",
    "status",
    "priority",
    "rule",
    "is_overlay",
    "credit_percent",
    "lead_assignment",
    "parent_id",
)
ASSIGNMENT_HISTORY_FIELDS = ("user_id", "slot", "split_percent", "start_date", "end_date")


@dataclass
class AccountFilters:
    q: str = ""
    state: str = ""
    industry: str = ""

    @classmethod
    def from_query(cls, query) -> AccountFilters:
        return cls(
            q=query.get("q", "").strip()[:100],
            state=query.get("state", "").strip()[:8],
            industry=query.get("industry", "").strip()[:16],
        )

    @property
    def querystring(self) -> str:
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in (("q", self.q), ("state", self.state), ("industry", self.industry)) if v})


def territory_accounts(territory: Territory) -> QuerySet[Account]:
    """The accounts a territory holds now: its current rows, primary or overlay credit."""
    rows = AccountTerritory.objects.filter(territory=territory, valid_to__isnull=True).values("account_id")
    return Account.objects.filter(pk__in=rows)


def territory_accounts_page(
    *, territory: Territory, filters: AccountFilters, page: int | str | None = 1
) -> tuple[Page, list[tuple[Account, Placement]], list[str]]:
    """One page of the territory's accounts, the page's rows (each account with where it sits in
    the territory's plan: its primary territory and that territory's owner today) and the states
    to filter by."""
    accounts = territory_accounts(territory)
    states = sorted(s for s in accounts.exclude(state="").order_by().values_list("state", flat=True).distinct())
    if filters.q:
        accounts = accounts.filter(name__icontains=filters.q)
    if filters.state:
        accounts = accounts.filter(state=filters.state)
    if filters.industry:
        accounts = accounts.filter(industry_code__startswith=filters.industry)
    result = Paginator(accounts.order_by("name", "pk"), ACCOUNTS_PAGE_SIZE).get_page(page)
    return result, placed(result, plan=territory.plan_id), states


def territory_top_deals(territory: Territory) -> list[Opportunity]:
    deals = Opportunity.objects.filter(
        account__in=territory_accounts(territory).values("pk"), status=Opportunity.Status.OPEN
    )
    return list(deals.select_related("account", "owner").order_by("-amount", "pk")[:TOP_DEALS])


def territory_assignments(territory: Territory) -> list[RepAssignment]:
    """Current assignments (in force today or later) first (primary, overlay, backup), then past
    ones, newest first; each with ``on_leave`` (away today) and ``coverage.date_flags``."""
    from salesos.models import users_on_leave

    rows = (
        RepAssignment.objects.filter(territory=territory)
        .select_related("user")
        .annotate(on_leave=Exists(users_on_leave().filter(user_id=OuterRef("user_id"))), **coverage.date_flags())
    )
    slot_rank = {s: i for i, s in enumerate(RepAssignment.Slot.values)}
    today = coverage.today()
    return sorted(rows, key=lambda a: (coverage.is_past(a, today), slot_rank.get(a.slot, 9), -a.start_date.toordinal()))


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str
    what: str  # "Territory created", "Primary owner assignment changed", ...
    reason: str
    changes: list[Change]


def _history_value(
    field: str, value, *, names: dict[int, str], territories: dict[int, str], choices: dict | None = None
) -> str:
    if value is None or value == "":
        return "—"
    if field == "rule":
        from territories.rules_text import rule_to_text

        try:
            return rule_to_text(value)
        except Exception:  # an old rule the current wording cannot read still shows its raw form
            return str(value)
    if field == "parent_id":
        return territories.get(value, f"#{value}")
    if field == "user_id":
        return names.get(value, f"#{value}")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if choices:
        return str(choices.get(value, value))
    return str(value)


def _label(model, field: str) -> str:
    name = field[:-3] if field.endswith("_id") else field
    return str(model._meta.get_field(name).verbose_name).capitalize()


def territory_history(territory: Territory, *, territory_names: dict[int, str] | None = None) -> list[HistoryEntry]:
    """Who changed what, when: consecutive historical records of the territory and of its rep
    assignments compared field by field, newest first (two queries, plus one for unknown
    parents)."""
    records = list(
        Territory.history.filter(id=territory.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")[:HISTORY_LIMIT]
    )
    assignment_records = list(
        RepAssignment.history.filter(territory_id=territory.pk)
        .select_related("history_user", "user")
        .order_by("history_date", "history_id")[:HISTORY_LIMIT]
    )
    names = {
        r.user_id: _display_name(r.user.first_name, r.user.last_name, r.user.username)
        for r in assignment_records
        if r.user is not None
    }
    territories = dict(territory_names or {})
    unknown = {r.parent_id for r in records if r.parent_id and r.parent_id not in territories}
    if unknown:
        territories.update(
            (pk, f"{code} {name}")
            for pk, code, name in Territory.objects.filter(pk__in=unknown).values_list("pk", "code", "name")
        )

    def who(record) -> str:
        user = record.history_user
        return _display_name(user.first_name, user.last_name, user.username) if user else "System"

    entries: list[HistoryEntry] = []

    def diff(model, fields, series, title) -> None:
        previous: dict[int, object] = {}
        labels = {f: dict(model._meta.get_field(f.removesuffix("_id")).flatchoices) for f in fields}

        def show(f: str, value) -> str:
            return _history_value(f, value, names=names, territories=territories, choices=labels[f])

        for record in series:
            before = previous.get(record.id)
            label = title(record)
            if record.history_type == "+" or before is None:
                changes = [
                    Change(_label(model, f), "", show(f, getattr(record, f)))
                    for f in fields
                    if getattr(record, f) not in (None, "", {}, [])
                ]
                what = f"{label} created"
            elif record.history_type == "-":
                changes, what = [], f"{label} deleted"
            else:
                changes = [
                    Change(_label(model, f), show(f, getattr(before, f)), show(f, getattr(record, f)))
                    for f in fields
                    if getattr(before, f) != getattr(record, f)
                ]
                what = f"{label} changed"
            previous[record.id] = record
            if changes or record.history_type != "~":
                entries.append(
                    HistoryEntry(record.history_date, who(record), what, record.history_change_reason or "", changes)
                )

    diff(Territory, TERRITORY_HISTORY_FIELDS, records, lambda r: "Territory")
    diff(
        RepAssignment,
        ASSIGNMENT_HISTORY_FIELDS,
        assignment_records,
        lambda r: f"{RepAssignment.Slot(r.slot).label} assignment of {names.get(r.user_id, 'someone')}",
    )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


MOVE_CANDIDATES = 20


def move_candidates(*, territory: Territory, q: str) -> list[Territory]:
    """Territories of the same plan, outside the subtree, whose code or name matches ``q``."""
    if not q:
        return []
    subtree = territory.descendants(include_self=True).values("pk")
    return list(
        Territory.objects.filter(plan_id=territory.plan_id)
        .exclude(pk__in=subtree)
        .filter(Q(code__icontains=q) | Q(name__icontains=q))
        .order_by("code")[:MOVE_CANDIDATES]
    )
