"""Reads of the territory map that pages need: visibility by role, coverage figures per territory
(accounts, open pipeline, primary rep) computed in SQL so a page costs the same few queries
whatever the number of territories."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
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

from salesos.models import Account, Opportunity, SalesProfile
from salesos.roles import role_of
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()
Role = SalesProfile.Role

TREE_PAGE_SIZE = 100


def active_plan() -> TerritoryPlan | None:
    return TerritoryPlan.objects.select_related("fiscal_year").filter(status=TerritoryPlan.Status.ACTIVE).first()


def current_assignments() -> QuerySet[RepAssignment]:
    return RepAssignment.objects.filter(end_date__isnull=True)


def account_count_of(territory_ref: str = "pk") -> Coalesce:
    """Accounts whose current primary territory is the outer row's territory (one correlated
    subquery, served by the index on ``Account.territory``)."""
    counts = (
        Account.objects.filter(territory=OuterRef(territory_ref))
        .order_by()
        .values("territory")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def open_pipeline_of(territory_ref: str = "pk") -> Coalesce:
    """Open deal amounts on the accounts of the outer row's territory. Deals are counted through
    their account's territory, the same set the account counts use, so the two figures agree."""
    amounts = (
        Opportunity.objects.filter(account__territory=OuterRef(territory_ref), status=Opportunity.Status.OPEN)
        .order_by()
        .values("account__territory")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    money = DecimalField(max_digits=16, decimal_places=2)
    return Coalesce(Subquery(amounts, output_field=money), Value(Decimal(0)), output_field=money)


def has_current_primary() -> Exists:
    return Exists(current_assignments().filter(territory=OuterRef("pk"), slot=RepAssignment.Slot.PRIMARY))


def with_coverage(territories: QuerySet[Territory]) -> QuerySet[Territory]:
    """Adds ``account_count``, ``open_pipeline`` and ``primary_assignments`` (a list of at most
    one current primary assignment with its user) to each territory."""
    primary = current_assignments().filter(slot=RepAssignment.Slot.PRIMARY).select_related("user")
    return territories.annotate(account_count=account_count_of(), open_pipeline=open_pipeline_of()).prefetch_related(
        Prefetch("assignments", queryset=primary, to_attr="primary_assignments")
    )


def team_user_ids(user) -> QuerySet:
    return SalesProfile.objects.filter(manager=user).values("user_id")


def territories_visible_to(user, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """The territories of ``plan`` a user may see, by role (SEED "Hierarchy Permissions"):
    admins and directors all of them, managers their own and their direct reports', reps the ones
    they hold a current assignment on (any slot). Later replaced by object permissions."""
    if plan is None:
        return Territory.objects.none()
    territories = Territory.objects.filter(plan=plan)
    role = role_of(user)
    if role in (Role.ADMIN, Role.DIRECTOR):
        return territories
    if role == Role.MANAGER:
        holders = Q(user=user) | Q(user__in=team_user_ids(user))
    elif role == Role.REP:
        holders = Q(user=user)
    else:
        return Territory.objects.none()
    held = current_assignments().filter(holders, territory__plan=plan).values("territory_id")
    return territories.filter(pk__in=held)


def territory_tree_for(*, user, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """Visible territories in tree order (parents before children, siblings by code) with depth
    and coverage figures, ready to paginate."""
    if plan is None:
        return Territory.objects.none()
    visible = territories_visible_to(user, plan).values("pk")
    tree = (
        Territory.objects.with_tree_fields()
        .tree_filter(plan=plan)
        .order_siblings_by("code")
        .filter(pk__in=visible)
        .select_related("parent")
    )
    return with_coverage(tree)


def territory_tree_page(*, user, plan: TerritoryPlan | None, page: int | str | None = 1) -> Page:
    """One page of the visible tree. Each row gets ``indent``: its depth when the user sees the
    whole tree, otherwise the number of its ancestors shown on the page; and ``parent_hint``, the
    parent's name when the parent is not on the page (a rep's territory deep in the tree)."""
    result = Paginator(territory_tree_for(user=user, plan=plan), TREE_PAGE_SIZE).get_page(page)
    whole_tree = role_of(user) in (Role.ADMIN, Role.DIRECTOR)
    on_page = {t.pk for t in result}
    for territory in result:
        ancestors = territory.tree_path[:-1]
        territory.indent = len(ancestors) if whole_tree else sum(1 for pk in ancestors if pk in on_page)
        parent_shown = territory.parent_id in on_page
        territory.parent_hint = territory.parent.name if territory.parent_id and not parent_shown else ""
    return result


def largest_territories(*, plan: TerritoryPlan, limit: int = 8) -> list[Territory]:
    territories = with_coverage(Territory.objects.filter(plan=plan))
    return list(territories.order_by("-account_count", "code")[:limit])
