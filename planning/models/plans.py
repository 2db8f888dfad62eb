"""Review comments on a plan, each about the plan as a whole or about one of its territories."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PlanComment(models.Model):
    plan = models.ForeignKey("territories.TerritoryPlan", on_delete=models.CASCADE, related_name="comments")
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.CASCADE, related_name="plan_comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["plan", "created_at"])]

    def __str__(self) -> str:
        return f"{self.author} on {self.territory or self.plan}"
