"""The territory page: its accounts (paged and filtered), top open deals and assignments (with
the assignment section's context, ``assign_context``), and the territories it may move under."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)

from salesos.models import Account, Opportunity, users_on_leave
from territories import coverage
from territories.access import territory_has_perm
from territories.forms import AssignmentForm
from territories.models import AccountTerritory, RepAssignment, Territory
from territories.placement import Placement, placed
from territories.tree import Node, Row, plan_tree

# --- the territory page -----------------------------------------------------------------------

ACCOUNTS_PAGE_SIZE = 50
TOP_DEALS = 20

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
    rows = (
        RepAssignment.objects.filter(territory=territory)
        .select_related("user")
        .annotate(on_leave=Exists(users_on_leave().filter(user_id=OuterRef("user_id"))), **coverage.date_flags())
    )
    slot_rank = {s: i for i, s in enumerate(RepAssignment.Slot.values)}
    today = coverage.today()
    return sorted(rows, key=lambda a: (coverage.is_past(a, today), slot_rank.get(a.slot, 9), -a.start_date.toordinal()))


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


@dataclass
class Place:
    """Where a territory stands in its plan's tree, for its page."""

    node: Node  # with its own and subtree figures
    ancestors: list[tuple[Node, bool]]  # root first, each with whether the user may see it
    children: list[Row]  # the children the user may see
    hidden_children: int  # and how many they may not
    names: dict[int, str]  # "CODE Name" of every territory of the plan (the history names them)


def territory_place(*, user, territory: Territory) -> Place:
    """The territory's node, path and children, with figures and reps loaded for its subtree
    only (``plan_tree(within=...)``): a fixed number of queries whatever the plan's size."""
    tree = plan_tree(user=user, plan=territory.plan, within=territory.pk)
    node = tree.nodes[territory.pk]
    return Place(
        node=node,
        ancestors=[(a, a.pk in tree.visible) for a in tree.path_of(territory.pk)],
        children=[Row(tree.nodes[c], 0) for c in tree.children_of(territory.pk)],
        hidden_children=len(node.children) - node.visible_children,
        names={n.pk: f"{n.code} {n.name}" for n in tree.nodes.values()},
    )


def assign_context(
    *, user: Any, territory: Territory, form: AssignmentForm | None = None, perms: set[str] | None = None
) -> dict[str, Any]:
    """What ``assign_section.html`` needs (the territory page may call this to render the section
    inline instead of letting it load itself; it passes the ``perms`` it already has)."""
    rows = territory_assignments(territory)  # one query, each with ``on_leave``
    today = coverage.today()
    # Current: in force today or starting later (a row ending today still covers today).
    current = [a for a in rows if not coverage.is_past(a, today)]
    past = sorted(
        (a for a in rows if coverage.is_past(a, today)), key=lambda a: cast(dt.date, a.end_date), reverse=True
    )[:5]
    in_force = {a.slot for a in current if coverage.is_in_force(a, today)}
    can = not territory.is_retired and (
        "change_territory" in perms
        if perms is not None
        else territory_has_perm(user=user, territory=territory, perm="change_territory")
    )
    return {
        "territory": territory,
        "assign": {
            "current": current,
            "past": past,
            "can_change": can,
            "form": form or (AssignmentForm(assigner=user) if can else None),
            "overlay_total": sum(a.split_percent for a in current if a.slot == RepAssignment.Slot.OVERLAY),
            "vacant": coverage.is_vacant(status=territory.status, is_overlay=territory.is_overlay,
                                         has_primary=RepAssignment.Slot.PRIMARY in in_force,
                                         has_overlay=RepAssignment.Slot.OVERLAY in in_force),
            "today": today,
        },
    }
