"""Reads of the territory map that pages need: visibility by role, coverage figures per territory
(accounts, open pipeline, primary rep) computed in SQL so a page costs the same few queries
whatever the number of territories. The pages built on them: ``territories.tree`` (tree and list),
``territories.detail`` (a territory's page) and ``territories.history`` (its changes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    F,
    Field,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from salesos.models import Opportunity, SalesProfile
from salesos.roles import role_of
from territories import coverage
from territories.models import AccountTerritory, RepAssignment, Territory, TerritoryPlan, TerritoryUserObjectPermission

Role = SalesProfile.Role


active_plan = TerritoryPlan.active  # the one definition, on the model


def current_assignments(on: dt.date | None = None) -> QuerySet[RepAssignment]:
    """The assignments in force on ``on`` (today): ``territories.coverage``."""
    return coverage.assignments_on(on)


def _current_primary_rows_of(territory_ref: str | OuterRef) -> QuerySet[AccountTerritory]:
    # A territory id names its plan: no plan filter needed. Served by the (territory, valid_to) index.
    return AccountTerritory.objects.filter(territory=OuterRef(territory_ref), is_primary=True, valid_to__isnull=True)


def _total(function: str, column: str, output_field: Field) -> Func:
    """``COUNT``/``SUM`` as a plain expression, so the correlated subquery is one aggregate over the
    outer territory's rows. (An aggregate would bring ``GROUP BY … LIMIT 1``, which PostgreSQL
    planned as a scan of the whole table expecting to stop at the first group.)"""
    return Func(F(column), function=function, output_field=output_field)


def account_count_of(territory_ref: str = "pk") -> Coalesce:
    """Accounts whose current primary territory is the outer row's territory (one correlated
    subquery over the current primary ``AccountTerritory`` rows, ``territories.placement``)."""
    counts = (
        _current_primary_rows_of(territory_ref).order_by().annotate(n=_total("COUNT", "pk", IntegerField())).values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def open_pipeline_of(territory_ref: str = "pk") -> Coalesce:
    """Open deal amounts on the accounts of the outer row's territory. Deals are counted through
    their account's current primary territory, the same set the account counts use, so the two
    figures agree."""
    money = DecimalField(max_digits=16, decimal_places=2)
    # The deals' accounts (no join through the account table): a subquery one level further in.
    accounts = _current_primary_rows_of(OuterRef(territory_ref)).values("account_id")
    amounts = (
        Opportunity.objects.filter(account_id__in=accounts, status=Opportunity.Status.OPEN)
        .order_by()
        .annotate(total=_total("SUM", "amount", money))
        .values("total")
    )
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


def display_name(first: str, last: str, username: str) -> str:
    """A person as pages name them: the full name, else the username."""
    return f"{first} {last}".strip() or username


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
