"""Analytics writes: the daily coverage snapshot (the dashboard's trend and its white space) and the
requests for stored figures (``analytics.figures`` builds them)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django_q.tasks import async_task

from analytics.models import CoverageFigures, CoverageSnapshot, FiguresBuild, WhiteSpaceArea
from analytics.white_space import white_space_areas
from planning.models import FiscalPeriod
from territories import coverage
from territories.models import AccountTerritory, Territory, TerritoryPlan
from territories.placement import accounts_unassigned
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
    """The day's rows of ``analytics.white_space`` (the one definition the map draws too)."""
    return [
        WhiteSpaceArea(day=day, level=a.level, code=a.code, country=a.country, state=a.state, accounts=a.accounts,
                       unassigned=a.unassigned, potential=a.potential, uncovered=a.uncovered)
        for a in white_space_areas(plan=plan)
    ]


FIGURES_REFRESH = "analytics.tasks.figures_refresh"


def figures_request(*, plan: TerritoryPlan, period: FiscalPeriod, max_age: dt.timedelta,
                    build: FiguresBuild | None = None) -> bool:
    """Asks for the plan's figures of ``period`` to be (re)built by a task, unless a request is
    already pending (one younger than ``max_age``: an older one is taken for lost). ``build``: the
    plan's build of the period as just read, None when there is none yet. True when a task was
    queued. One query."""
    now = timezone.now()
    if build is None:
        # One statement whatever the race: two first viewers may both queue a build, which is
        # harmless (a build replaces the rows it finds).
        FiguresBuild.objects.bulk_create([FiguresBuild(plan=plan, period=period, requested_at=now)],
                                         ignore_conflicts=True)
    else:
        if build.requested_at is not None and build.requested_at >= now - max_age:
            return False
        pending = Q(requested_at__isnull=False, requested_at__gte=now - max_age)
        if not FiguresBuild.objects.filter(pk=build.pk).exclude(pending).update(requested_at=now):
            return False
    plan_id, period_id = plan.pk, period.pk
    transaction.on_commit(lambda: async_task(FIGURES_REFRESH, plan_id, period_id,
                                             task_name=f"figures-{plan_id}-{period_id}-{now:%H%M%S%f}"))
    return True


COVERAGE_REFRESH = "analytics.tasks.coverage_refresh"


def coverage_request(*, plan: TerritoryPlan, max_age: dt.timedelta, stored: CoverageFigures | None = None) -> bool:
    """As ``figures_request``, for the plan's stored coverage counts (``stored``: as just read)."""
    now = timezone.now()
    if stored is None:
        CoverageFigures.objects.bulk_create([CoverageFigures(plan=plan, requested_at=now)], ignore_conflicts=True)
    else:
        if stored.requested_at is not None and stored.requested_at >= now - max_age:
            return False
        pending = Q(requested_at__isnull=False, requested_at__gte=now - max_age)
        if not CoverageFigures.objects.filter(pk=stored.pk).exclude(pending).update(requested_at=now):
            return False
    plan_id = plan.pk
    transaction.on_commit(lambda: async_task(COVERAGE_REFRESH, plan_id, task_name=f"coverage-{plan_id}-{now:%H%M%S%f}"))
    return True
