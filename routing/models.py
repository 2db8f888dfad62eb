"""Where each account sits. ``AccountTerritory`` rows are effective-dated: the current rows have
no ``valid_to``; a re-route closes the rows that change and inserts their successors, so the
table is its own ownership history ("who owned X on date D" is one indexed query)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class AccountTerritory(models.Model):
    class Source(models.TextChoices):
        RULE = "rule", "Rule"
        NAMED = "named", "Named account list"
        LOCK = "lock", "Manual lock"
        MANUAL = "manual", "Manual routing"

    account = models.ForeignKey("salesos.Account", on_delete=models.CASCADE, related_name="territory_rows")
    territory = models.ForeignKey("territories.Territory", on_delete=models.CASCADE, related_name="account_rows")
    # Copied from the territory so the database can hold "one current primary per account per
    # plan" as a constraint.
    plan = models.ForeignKey("territories.TerritoryPlan", on_delete=models.CASCADE, related_name="+")
    is_primary = models.BooleanField(default=True)
    credit_percent = models.PositiveSmallIntegerField(default=100)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.RULE)
    trace = models.JSONField(null=True, blank=True, help_text="Why: candidates, the winner and the reason")
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "account territory"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "plan"],
                condition=Q(is_primary=True, valid_to__isnull=True),
                name="one_current_primary_territory_per_account_plan",
            ),
            models.UniqueConstraint(
                fields=["account", "territory"],
                condition=Q(valid_to__isnull=True),
                name="one_current_row_per_account_territory",
            ),
            models.CheckConstraint(
                condition=Q(credit_percent__gte=0, credit_percent__lte=100), name="account_territory_credit_0_100"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="account_territory_valid_range",
            ),
        ]
        indexes = [
            models.Index(fields=["territory", "valid_to"]),
            models.Index(fields=["account", "valid_from"]),
            models.Index(fields=["plan", "valid_to"]),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.territory_id} ({'primary' if self.is_primary else 'overlay'})"
