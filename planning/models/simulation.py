"""A simulation of a draft plan: every live account routed through the draft by the batch path,
the results written as the draft's own ownership rows (``AccountTerritory`` with the draft as
plan; live readers ask the active plan, ``territories.placement``), and the impact against the active
plan stored as figures. See ``planning.simulation``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Simulation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    plan = models.ForeignKey("territories.TerritoryPlan", on_delete=models.CASCADE, related_name="simulations")
    baseline = models.ForeignKey(
        "territories.TerritoryPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The active plan the impact was measured against",
    )
    job = models.ForeignKey("routing.RoutingJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The re-route of the draft, whose counters show the progress")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    phase = models.CharField(max_length=80, blank=True, help_text="What the run is doing now")
    plan_version = models.PositiveIntegerField(default=0, help_text="The draft's version when the run started")
    stale = models.BooleanField(default=False, help_text="The draft or the active plan changed since the run")
    impact = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    seconds = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["plan", "-created_at"])]

    def __str__(self) -> str:
        return f"Simulation {self.pk} of plan {self.plan_id}"

    @property
    def is_live(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def is_failed(self) -> bool:
        return self.status == self.Status.FAILED
