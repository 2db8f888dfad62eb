"""Analytics writes: the daily coverage snapshot (the dashboard's trend and its white space)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from analytics.models import CoverageSnapshot, WhiteSpaceArea
from salesos.models import Account
from territories import coverage
from territories.models import AccountTerritory, Territory, TerritoryPlan
from territories.placement import accounts_unassigned, is_placed
from territories.selectors import account_count_of


@transaction.atomic
def coverage_snapshot_take(*, day: dt.date | None = None) -> CoverageSnapshot | None:
    """Records the coverage of the active plan on ``day`` (today): one row per territory and one
    company row, and the white-space areas. Taking it again the same day replaces it. None
    without an active plan."""
    plan = TerritoryPlan.active()
    if plan is None:
        return None
    day = day or timezone.localdate()
    now = timezone.now()
    CoverageSnapshot.objects.filter(day=day).delete()
    WhiteSpaceArea.objects.filter(day=day).delete()
    conflicts = dict(
        AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True, conflict=True)
        .order_by()
        .values("territory_id")
        .annotate(n=Count("pk"))
        .values_list("territory_id", "n")
    )
    vacant = set(coverage.vacant_on(plan, day).values_list("pk", flat=True))
    territories = Territory.objects.filter(plan=plan).annotate(n=account_count_of()).values_list("pk", "n")
    CoverageSnapshot.objects.bulk_create(
        [
            CoverageSnapshot(day=day, plan=plan, territory_id=pk, accounts=n, conflicts=conflicts.get(pk, 0),
                             vacant=pk in vacant, taken_at=now)
            for pk, n in territories
        ],
        batch_size=2000,
    )
    areas = _white_space_areas(plan=plan, day=day)
    WhiteSpaceArea.objects.bulk_create(areas, batch_size=2000)
    return CoverageSnapshot.objects.create(
        day=day, plan=plan, territory=None, orphaned=accounts_unassigned(plan=plan).count(),
        white_space=sum(1 for a in areas if a.uncovered), taken_at=now,
    )


def _white_space_areas(*, plan: TerritoryPlan, day: dt.date) -> list[WhiteSpaceArea]:
    """States and metros holding accounts in the unassigned queue: ``uncovered`` when none of
    their accounts sits in a territory. Read from the accounts' own geography (state, metro)."""
    unplaced = ~is_placed(plan=plan)
    money = DecimalField(max_digits=18, decimal_places=2)
    figures = {
        "accounts": Count("pk"),
        "unassigned": Count("pk", filter=Q(unplaced)),
        "potential": Coalesce(Sum("potential", filter=Q(unplaced)), Value(Decimal(0)), output_field=money),
    }
    out = []
    levels = ((WhiteSpaceArea.Level.STATE, ("state",)), (WhiteSpaceArea.Level.METRO, ("metro", "state")))
    for level, keys in levels:
        rows = (
            Account.objects.exclude(**{keys[0]: ""})
            .order_by()
            .values(*keys, "country")
            .annotate(**figures)
            .filter(unassigned__gt=0)
        )
        for row in rows:
            out.append(WhiteSpaceArea(
                day=day, level=level, code=row[keys[0]], country=row["country"], state=row["state"],
                accounts=row["accounts"], unassigned=row["unassigned"], potential=row["potential"],
                uncovered=row["unassigned"] == row["accounts"],
            ))
    return out
