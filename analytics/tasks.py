"""Scheduled analytics work (django-q2)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from analytics import figures, map_layers
from analytics.models import CoverageFigures, FiguresBuild
from analytics.services import coverage_request, coverage_snapshot_take, figures_request
from territories.models import TerritoryPlan

DAILY_SNAPSHOT = "analytics.tasks.coverage_snapshot_daily"


def coverage_snapshot_daily() -> int:
    """Runs every day (a schedule created by migration ``0002``): records today's coverage for the
    dashboard's trend and white space. Returns the company snapshots id (0 without an active plan)."""
    snapshot = coverage_snapshot_take()
    return 0 if snapshot is None else snapshot.pk


def map_layer_build(layer_id: int) -> str:
    """Draws a plan's boundary layer asked for by ``analytics.map_layers.map_layer_request``."""
    return map_layers.map_layer_build(layer_id=layer_id)


def figures_refresh(plan_id: int, period_id: int) -> int:
    """Builds one plan's stored figures for one period (``analytics.figures``)."""
    return figures.figures_build(plan_id=plan_id, period_id=period_id)


def coverage_refresh(plan_id: int) -> int:
    """Counts one plan's stored coverage figures (``analytics.figures.coverage_build``)."""
    return figures.coverage_build(plan_id=plan_id)


def figures_refresh_due() -> int:
    """Runs every few minutes (migration ``0005``): asks for a new build of every stored period of
    the active plan, and of its stored coverage counts, older than ``ANALYTICS_FIGURES_MAX_AGE``,
    and drops the builds of other plans.
    Returns the number of builds asked for."""
    plan = TerritoryPlan.active()
    FiguresBuild.objects.exclude(plan=plan).delete()
    CoverageFigures.objects.exclude(plan=plan).delete()
    if plan is None:
        return 0
    max_age = dt.timedelta(seconds=settings.ANALYTICS_FIGURES_MAX_AGE)
    old = Q(built_at__isnull=True) | Q(built_at__lt=timezone.now() - max_age)
    asked = sum(
        coverage_request(plan=plan, max_age=max_age, stored=c) for c in CoverageFigures.objects.filter(old, plan=plan)
    )
    due = FiguresBuild.objects.filter(plan=plan).filter(
        Q(built_at__isnull=True) | Q(built_at__lt=timezone.now() - max_age)
    ).select_related("plan", "period")
    return asked + sum(figures_request(plan=b.plan, period=b.period, max_age=max_age, build=b) for b in due)
