"""Stored analytics: the daily coverage snapshot (SEED "Coverage Analysis" trend), written by the
``analytics.tasks.coverage_snapshot_daily`` schedule and read by the coverage dashboard.

A snapshot keeps one row per territory of the active plan (its accounts, conflicts and whether it
was vacant that day), so each user's trend is the sum over the territories they may see today, and
one company row (``territory`` empty) with what belongs to no territory: the orphaned accounts and
the white-space areas, which every coverage role sees whole (they work the unassigned queue).
"""

from __future__ import annotations

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
