"""Where accounts sit now, read from the one place that says so.

An account's territory is its current primary ``AccountTerritory`` row in the active plan; there
is no copy on ``Account`` (a copy would double every re-route's writes: a full re-route of a
million accounts would rewrite the account table too). Its owner is that territory's owner today
(``territories.coverage.owner_ids_on``: the primary, or the backup while the primary is on leave), so
leaves and reassignments change owners without touching a single account row.

Every query here uses the current-row indexes of ``AccountTerritory``: (account, plan) for "where
is this account", (territory, valid_to) for "which accounts are in these territories".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from salesos.models import Account
from territories import coverage
from territories.models import AccountTerritory, Territory, TerritoryPlan

User = get_user_model()


def _plan_id(plan: TerritoryPlan | int | None) -> int | None:
    if isinstance(plan, TerritoryPlan):
        return plan.pk
    if plan is not None:
        return plan
    active = TerritoryPlan.active()
    return active.pk if active is not None else None


def current_primary_rows(plan: TerritoryPlan | int | None = None) -> QuerySet[AccountTerritory]:
    """The current primary rows of a plan (the active one by default; none without one)."""
    plan_id = _plan_id(plan)
    if plan_id is None:
        return AccountTerritory.objects.none()
    return AccountTerritory.objects.filter(plan_id=plan_id, is_primary=True, valid_to__isnull=True)


def accounts_in(territory_ids: Iterable[int], *, qs: QuerySet[Account] | None = None) -> QuerySet[Account]:
    """Accounts whose current primary territory is one of these (any plan: a territory id names
    its plan)."""
    ids = list(territory_ids)
    rows = AccountTerritory.objects.filter(territory_id__in=ids, is_primary=True, valid_to__isnull=True)
    return (qs if qs is not None else Account.objects.all()).filter(pk__in=rows.values("account_id"))


def accounts_unassigned(
    *, qs: QuerySet[Account] | None = None, plan: TerritoryPlan | int | None = None
) -> QuerySet[Account]:
    """Accounts with no current primary territory in the plan (the unassigned queue)."""
    return (qs if qs is not None else Account.objects.all()).filter(~is_placed(plan=plan))


def accounts_assigned(
    *, qs: QuerySet[Account] | None = None, plan: TerritoryPlan | int | None = None
) -> QuerySet[Account]:
    return (qs if qs is not None else Account.objects.all()).filter(is_placed(plan=plan))


def with_territory(qs: QuerySet[Account], *, plan: TerritoryPlan | int | None = None) -> QuerySet[Account]:
    """``qs`` annotated with ``current_territory_id`` (None when unassigned), for ordering or
    filtering in SQL. To show territories and owners on a page, use ``placements``."""
    rows = current_primary_rows(plan).filter(account_id=OuterRef("pk")).values("territory_id")[:1]
    return qs.annotate(current_territory_id=Subquery(rows))


def territories_owned_by(user: Any, *, plan: TerritoryPlan | int | None = None) -> list[int]:
    """Territories of the plan (the active one by default) that ``user`` owns today."""
    plan_id = _plan_id(plan)
    if plan_id is None or user is None or user.pk is None:
        return []
    # A backup may own a territory while its primary is away: ask about every territory the user
    # holds a primary or backup slot in.
    mine = Territory.objects.filter(
        plan_id=plan_id, assignments__user=user, assignments__slot__in=["primary", "backup"]
    ).values_list("pk", flat=True)
    owners = coverage.owner_ids_on(territory_ids=set(mine))
    return sorted(t for t, owner in owners.items() if owner == user.pk)


def accounts_owned_by(
    user: Any, *, qs: QuerySet[Account] | None = None, plan: TerritoryPlan | int | None = None
) -> QuerySet[Account]:
    """Accounts whose current territory ``user`` owns today."""
    return accounts_in(territories_owned_by(user, plan=plan), qs=qs)


@dataclass(frozen=True)
class Placement:
    """Where one account sits now."""

    territory: Territory | None
    owner: Any  # User | None
    source: str = ""  # AccountTerritory.Source value, "" when unassigned
    conflict: bool = False
    row: AccountTerritory | None = None

    @property
    def assigned(self) -> bool:
        return self.territory is not None


UNASSIGNED = Placement(None, None)


def placements(account_ids: Iterable[int], *, plan: TerritoryPlan | int | None = None) -> dict[int, Placement]:
    """Territory and owner of each account: one query for the rows and territories, three for the
    owners, one for the users, whatever the number of accounts. Accounts without a current
    primary row map to ``UNASSIGNED``."""
    ids = list(dict.fromkeys(account_ids))
    found: dict[int, Placement] = dict.fromkeys(ids, UNASSIGNED)
    if not ids:
        return found
    rows = list(current_primary_rows(plan).filter(account_id__in=ids).select_related("territory"))
    owners = coverage.owners_of({row.territory_id for row in rows})
    for row in rows:
        found[row.account_id] = Placement(
            territory=row.territory,
            owner=owners.get(row.territory_id),
            source=row.source,
            conflict=row.conflict,
            row=row,
        )
    return found


def placement(account: Account | int, *, plan: TerritoryPlan | int | None = None) -> Placement:
    account_id = account.pk if isinstance(account, Account) else account
    return placements([account_id], plan=plan)[account_id]


def territory_account_counts(territory_ids: Iterable[int]) -> dict[int, int]:
    """Accounts whose current primary territory is each of these (0 for none)."""
    ids = list(territory_ids)
    counts = dict.fromkeys(ids, 0)
    for territory_id, n in (
        AccountTerritory.objects.filter(territory_id__in=ids, is_primary=True, valid_to__isnull=True)
        .values("territory_id")
        .annotate(n=Count("pk"))
        .values_list("territory_id", "n")
    ):
        counts[territory_id] = n
    return counts


def is_placed(*, plan: TerritoryPlan | int | None = None, account_ref: str = "pk") -> Exists:
    """SQL boolean: the outer account (``account_ref`` names its id) has a current primary row in
    the plan (the active one by default). For ``annotate``, ``filter`` or ``Count(filter=...)``,
    e.g. ``Count("pk", filter=~is_placed())`` counts unassigned accounts in an aggregate."""
    return Exists(current_primary_rows(plan).filter(account_id=OuterRef(account_ref)))


def placed(accounts: Iterable[Account], *, plan: TerritoryPlan | int | None = None) -> list[tuple[Account, Placement]]:
    """The accounts (one page of them) paired with where each sits, in their order, for a page's
    rows (``{% for account, where in rows %}``): one ``placements`` call whatever their number."""
    accounts = list(accounts)
    found = placements([a.pk for a in accounts], plan=plan)
    return [(a, found[a.pk]) for a in accounts]


def current_territories(
    account_ids: Iterable[int], *, plan: TerritoryPlan | int | None = None
) -> dict[int, Territory]:
    """The current primary territory of each of these accounts that has one in the plan (one
    query): for pages that show where accounts sit but not who owns them (``placements`` adds the
    owners)."""
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return {}
    rows = current_primary_rows(plan).filter(account_id__in=ids).select_related("territory")
    return {row.account_id: row.territory for row in rows}


def _end_of_day(on: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min))


def in_effect_on(row: AccountTerritory, on: dt.date) -> bool:
    """Whether a loaded ownership row held at the end of day ``on`` (a row closed during ``on``
    handed over that day; its successor holds): what crediting a deal closed on ``on`` reads."""
    end_of_day = _end_of_day(on)
    return row.valid_from < end_of_day and (row.valid_to is None or row.valid_to >= end_of_day)


def in_force_rows(plan: TerritoryPlan | int | None, on: dt.date) -> QuerySet[AccountTerritory]:
    """The plan's ownership rows (primary and overlay) that held at the end of day ``on``:
    ``in_effect_on`` as a query."""
    plan_id = _plan_id(plan)
    if plan_id is None:
        return AccountTerritory.objects.none()
    end_of_day = _end_of_day(on)
    return AccountTerritory.objects.filter(plan_id=plan_id, valid_from__lt=end_of_day).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=end_of_day)
    )
