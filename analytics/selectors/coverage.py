"""Read-only coverage figures for the active plan (SEED "Coverage Analysis"), each scoped to what
the user may see: orphaned accounts, vacant territories, conflicts, white space, and their trend
from the daily snapshots (``analytics.models``, written by ``analytics.services``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from analytics.models import CoverageSnapshot, WhiteSpaceArea
from analytics.selectors.stored import Freshness, stored_coverage
from salesos.models import Opportunity, Region
from territories.access import accounts_visible_to, sees_everything
from territories.models import AccountTerritory, Territory, TerritoryPlan
from territories.placement import is_placed
from territories.selectors import account_count_of, is_staffed, territories_visible_to

VACANT_LIST_SIZE = 25
WHITE_SPACE_LIST_SIZE = 15
TREND_DAYS = 90


@dataclass
class WhiteSpace:
    """Areas holding accounts that no territory covers, as of the last snapshot (``as_of``);
    ``uncovered``: areas none of whose accounts sits in a territory (the white space proper);
    ``gaps``: the largest areas with accounts in the queue, uncovered or partly covered."""

    as_of: dt.datetime | None
    uncovered_states: int
    uncovered_metros: int
    gaps: list[WhiteSpaceArea]

    @property
    def total(self) -> int:
        return self.uncovered_states + self.uncovered_metros

    @property
    def age(self) -> dt.timedelta | None:
        return timezone.now() - self.as_of if self.as_of else None


@dataclass
class Coverage:
    accounts: int
    orphaned: int
    territories: int
    vacant: int
    vacant_list: list[Territory]
    by_type: list[dict]
    by_region: list[dict]
    conflicts: int = 0
    white_space: WhiteSpace | None = None
    trend: list[dict] = field(default_factory=list)
    freshness: Freshness | None = None  # None: counted live (every role but admins)

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
    seen_accounts = accounts_visible_to(user)
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
    stored, freshness = stored_coverage(plan=plan) if plan is not None and sees_everything(user) else (None, None)
    regions = stored if stored is not None else region_rows(accounts=seen_accounts, plan=plan)
    accounts = {"total": sum(row["total"] for row in regions), "orphaned": sum(row["orphaned"] for row in regions)}
    by_region = [
        {
            **row,
            "label": region_labels.get(row["region"]) or "Unspecified",
            "assigned": row["total"] - row["orphaned"],
        }
        for row in regions
    ]
    conflicts = AccountTerritory.objects.filter(
        plan=plan, is_primary=True, valid_to__isnull=True, conflict=True, territory__in=territories.values("pk")
    ).count()
    return Coverage(
        freshness=freshness,
        conflicts=conflicts,
        white_space=white_space(),
        trend=coverage_trend(territory_ids=territories.values("pk")),
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


def region_rows(*, accounts, plan: TerritoryPlan | None) -> list[dict]:
    """Per region of ``accounts``: how many, how many are orphaned (no current primary territory
    in ``plan``, ``territories.placement``) and their open pipeline. One pass over the accounts and
    one over their open deals."""
    orphaned = ~is_placed(plan=plan) if plan is not None else Q()
    regions = list(
        accounts.order_by()
        .values("region")
        .annotate(total=Count("pk"), orphaned=Count("pk", filter=orphaned))
        .order_by("region")
    )
    pipeline = dict(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN, account__in=accounts)
        .order_by()
        .values("account__region")
        .annotate(total=Sum("amount"))
        .values_list("account__region", "total")
    )
    return [{**row, "open_pipeline": pipeline.get(row["region"]) or Decimal(0)} for row in regions]


def white_space(*, limit: int = WHITE_SPACE_LIST_SIZE) -> WhiteSpace:
    """The white space of the latest snapshot (company-wide: the unassigned queue it is made of
    is seen whole by every coverage role). Two queries."""
    latest = CoverageSnapshot.objects.filter(territory__isnull=True).order_by("-day").first()
    if latest is None:
        return WhiteSpace(as_of=None, uncovered_states=0, uncovered_metros=0, gaps=[])
    areas = WhiteSpaceArea.objects.filter(day=latest.day)
    counts = dict(
        areas.filter(uncovered=True).order_by().values("level").annotate(n=Count("pk")).values_list("level", "n")
    )
    return WhiteSpace(
        as_of=latest.taken_at,
        uncovered_states=counts.get(WhiteSpaceArea.Level.STATE, 0),
        uncovered_metros=counts.get(WhiteSpaceArea.Level.METRO, 0),
        gaps=list(areas.order_by("-uncovered", "-unassigned", "code")[:limit]),
    )


def coverage_trend(*, territory_ids, days: int = TREND_DAYS) -> list[dict]:
    """Per snapshot day (the last ``days``), the accounts, conflicts and vacant territories of the
    given territories (those the user sees today), with the company's orphaned accounts and
    white-space areas. Two queries."""
    since = timezone.localdate() - dt.timedelta(days=days)
    per_day = {
        row["day"]: row
        for row in CoverageSnapshot.objects.filter(day__gte=since, territory__in=territory_ids)
        .order_by()
        .values("day")
        .annotate(accounts=Sum("accounts"), conflicts=Sum("conflicts"), vacant=Count("pk", filter=Q(vacant=True)))
    }
    company = CoverageSnapshot.objects.filter(day__gte=since, territory__isnull=True).order_by("day")
    out = []
    for snap in company:
        row: Any = per_day.get(snap.day, {})
        out.append({
            "day": snap.day,
            "orphaned": snap.orphaned,
            "white_space": snap.white_space,
            "vacant": row.get("vacant", 0),
            "conflicts": row.get("conflicts", 0),
        })
    return out
