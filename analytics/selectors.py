"""Read-only coverage figures for the active plan (SEED "Coverage Analysis"), each scoped to what
the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from routing.placement import is_placed
from salesos.models import Opportunity, Region
from territories.access import accounts_visible_to
from territories.models import Territory, TerritoryPlan
from territories.selectors import account_count_of, is_staffed, territories_visible_to

VACANT_LIST_SIZE = 25


@dataclass
class Coverage:
    accounts: int
    orphaned: int
    territories: int
    vacant: int
    vacant_list: list[Territory]
    by_type: list[dict]
    by_region: list[dict]

    @property
    def orphaned_percent(self) -> float:
        return 100 * self.orphaned / self.accounts if self.accounts else 0.0

    @property
    def vacant_percent(self) -> float:
        return 100 * self.vacant / self.territories if self.territories else 0.0


def coverage_summary(*, plan: TerritoryPlan | None, user) -> Coverage:
    """Coverage of what ``user`` may see (``territories.access``): the accounts they see (for
    managers and directors, with the unassigned queue), the territories of the plan they see, and
    the open pipeline of those accounts. Admins see the whole company."""
    # Orphaned: no current primary territory in the plan (routing.placement).
    orphaned = ~is_placed(plan=plan) if plan is not None else Q()
    seen_accounts = accounts_visible_to(user)
    accounts = seen_accounts.aggregate(total=Count("pk"), orphaned=Count("pk", filter=orphaned))
    territories = territories_visible_to(user, plan).annotate(staffed=is_staffed())
    vacant_qs = territories.filter(staffed=False)
    type_labels = dict(Territory.Type.choices)
    by_type = [
        {**row, "label": type_labels.get(row["type"], row["type"])}
        for row in territories.order_by()
        .values("type")
        .annotate(
            total=Count("pk"),
            vacant=Count("pk", filter=Q(staffed=False)),
            overlay=Count("pk", filter=Q(is_overlay=True)),
        )
        .order_by("-total", "type")
    ]
    region_labels = dict(Region.choices)
    regions = (
        seen_accounts.order_by()
        .values("region")
        .annotate(total=Count("pk"), orphaned=Count("pk", filter=orphaned))
        .order_by("region")
    )
    pipeline = dict(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN, account__in=seen_accounts)
        .order_by()
        .values("account__region")
        .annotate(total=Sum("amount"))
        .values_list("account__region", "total")
    )
    by_region = [
        {
            **row,
            "label": region_labels.get(row["region"]) or "Unspecified",
            "assigned": row["total"] - row["orphaned"],
            "open_pipeline": pipeline.get(row["region"]) or Decimal(0),
        }
        for row in regions
    ]
    return Coverage(
        accounts=accounts["total"],
        orphaned=accounts["orphaned"],
        territories=sum(row["total"] for row in by_type),
        vacant=sum(row["vacant"] for row in by_type),
        vacant_list=list(
            vacant_qs.annotate(account_count=account_count_of()).order_by("-account_count", "code")[:VACANT_LIST_SIZE]
        ),
        by_type=by_type,
        by_region=by_region,
    )
