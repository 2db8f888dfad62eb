"""Stored analytics: the daily coverage snapshot (SEED "Coverage Analysis" trend), written by the
``analytics.tasks.coverage_snapshot_daily`` schedule and read by the coverage dashboard.

A snapshot keeps one row per territory of the active plan (its accounts, conflicts and whether it
was vacant that day), so each user's trend is the sum over the territories they may see today, and
one company row (``territory`` empty) with what belongs to no territory: the orphaned accounts and
the white-space areas, which every coverage role sees whole (they work the unassigned queue).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CoverageSnapshot(models.Model):
    day = models.DateField()
    plan = models.ForeignKey("territories.TerritoryPlan", on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    accounts = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    vacant = models.BooleanField(default=False)
    # Company row only.
    orphaned = models.PositiveIntegerField(default=0)
    white_space = models.PositiveIntegerField(default=0)
    taken_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "territory"], name="one_snapshot_per_territory_day"),
            models.UniqueConstraint(
                fields=["day"], condition=models.Q(territory__isnull=True), name="one_company_snapshot_per_day"
            ),
        ]
        indexes = [models.Index(fields=["territory", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.territory_id or 'company'}"


class WhiteSpaceArea(models.Model):
    """A geographic area (state or metro) holding accounts that no territory covers, as of the
    snapshot ``day``: ``accounts`` in the area, ``unassigned`` of them in the queue, their
    ``potential``. ``uncovered`` when no account of the area sits in any territory."""

    class Level(models.TextChoices):
        STATE = "state", "State"
        METRO = "metro", "Metro"

    day = models.DateField(db_index=True)
    level = models.CharField(max_length=8, choices=Level.choices)
    code = models.CharField(max_length=64)
    country = models.CharField(max_length=2, blank=True)
    state = models.CharField(max_length=8, blank=True)
    accounts = models.PositiveIntegerField()
    unassigned = models.PositiveIntegerField()
    potential = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    uncovered = models.BooleanField(default=False)

    class Meta:
        ordering = ["-unassigned", "code"]
        constraints = [
            models.UniqueConstraint(fields=["day", "level", "state", "code"], name="one_white_space_area_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.level} {self.code}"


class MapLayer(models.Model):
    """A plan's boundary layer as drawn for one plan version (``analytics.map_layers``): built by a
    task when the plan changes, read by every web process, so no request pays for the drawing."""

    class Status(models.TextChoices):
        BUILDING = "building", "Being drawn"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    plan = models.ForeignKey("territories.TerritoryPlan", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200, unique=True, help_text="Plan, version and reference data it was drawn for")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BUILDING)
    requested_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True)
    build_seconds = models.FloatField(null=True, blank=True)
    # [territory id, depth, type, is a leaf, GeoJSON feature text] per drawn territory.
    features = models.JSONField(default=list)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["plan", "status", "built_at"], name="analytics_maplayer_latest")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class FiguresBuild(models.Model):
    """The stored figures of one plan for one fiscal period (``analytics.figures``): every
    territory's own performance and forecast figures, computed by the pages' own selectors over
    the whole plan, so a page reads them for any user's part of the tree instead of aggregating
    every deal and activity on each request. ``built_at`` is when they were computed (None: not
    yet); ``requested_at`` is set while a refresh is queued or running."""

    plan = models.ForeignKey("territories.TerritoryPlan", on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey("planning.FiscalPeriod", on_delete=models.CASCADE, related_name="+")
    built_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    build_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "period"], name="one_figures_build_per_plan_period")]

    def __str__(self) -> str:
        return f"plan {self.plan_id} period {self.period_id} ({self.built_at or 'not built'})"


class TerritoryFigures(models.Model):
    """One territory's own figures (its subtree not summed in) in a ``FiguresBuild``: the sums
    of ``analytics.selectors.performance.SUMS`` and ``analytics.selectors.forecast.KEYS``, and its
    TAM (``analytics.selectors.comparisons.tam_own``)."""

    build = models.ForeignKey(FiguresBuild, on_delete=models.CASCADE, related_name="rows")
    territory = models.ForeignKey("territories.Territory", on_delete=models.CASCADE, related_name="+")
    won_n = models.PositiveIntegerField(default=0)
    won_amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    lost_n = models.PositiveIntegerField(default=0)
    cycle_days = models.BigIntegerField(default=0)
    open_n = models.PositiveIntegerField(default=0)
    open_amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    quota = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    accounts = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    emails = models.PositiveIntegerField(default=0)
    meetings = models.PositiveIntegerField(default=0)
    won = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    commit = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    best_case = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    pipeline = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    weighted = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    tam = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["build", "territory"], name="one_figures_row_per_territory")]

    def __str__(self) -> str:
        return f"build {self.build_id} territory {self.territory_id}"


class CreditFigures(models.Model):
    """One credit line in a ``FiguresBuild``: what ``analytics.selectors.credit.credit_lines``
    credits one rep for one territory slot over the period's won deals."""

    build = models.ForeignKey(FiguresBuild, on_delete=models.CASCADE, related_name="credit_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey("territories.Territory", on_delete=models.CASCADE, related_name="+")
    slot = models.CharField(max_length=40)  # the slot's label, as the page shows it
    deals = models.PositiveIntegerField(default=0)
    booked = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    credit = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    def __str__(self) -> str:
        return f"build {self.build_id} user {self.user_id} territory {self.territory_id} {self.slot}"


class CoverageFigures(models.Model):
    """The coverage dashboard's company-wide account counts for one plan (what an admin sees):
    per region the accounts, the orphaned ones and their open pipeline, built by
    ``analytics.figures.coverage_build`` from the page's own query, so an admin's page reads one
    row instead of counting every account. Other roles' counts are computed live."""

    plan = models.OneToOneField("territories.TerritoryPlan", on_delete=models.CASCADE, related_name="+")
    built_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    # [{"region", "total", "orphaned", "open_pipeline" (a decimal as text)}] in region order.
    regions = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"coverage of plan {self.plan_id} ({self.built_at or 'not built'})"
