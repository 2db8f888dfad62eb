"""Fiscal calendar and quotas. Plans themselves live in ``territories``; reassignment proposals
and the simulator build on these."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


def covering(day: dt.date) -> Q:
    """Fiscal years and periods that ``day`` falls in: both ends inclusive (the one definition of
    "the current fiscal year / quarter")."""
    return Q(start_date__lte=day, end_date__gte=day)


class FiscalYear(models.Model):
    name = models.CharField(max_length=20, unique=True, help_text='e.g. "FY2027"')
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=models.F("start_date")), name="fy_end_after_start")
        ]

    def __str__(self) -> str:
        return self.name


class FiscalPeriod(models.Model):
    class Kind(models.TextChoices):
        QUARTER = "quarter", "Quarter"
        MONTH = "month", "Month"

    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.CASCADE, related_name="periods")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.QUARTER)
    name = models.CharField(max_length=20, help_text='e.g. "Q1"')
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.UniqueConstraint(fields=["fiscal_year", "name"], name="period_name_unique_in_year"),
            models.CheckConstraint(condition=Q(end_date__gt=models.F("start_date")), name="period_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year} {self.name}"


class Quota(models.Model):
    """A territory's target for a period, and the rep who carries it. ``ramp_factor`` records the
    reduction applied for a ramping new hire, so the full and the effective figure both stay."""

    territory = models.ForeignKey("territories.Territory", on_delete=models.CASCADE, related_name="quotas")
    period = models.ForeignKey(FiscalPeriod, on_delete=models.CASCADE, related_name="quotas")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="quotas"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    ramp_factor = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("1.000"))
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["territory", "period"], name="one_quota_per_territory_period"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="quota_not_negative"),
            models.CheckConstraint(condition=Q(ramp_factor__gte=0, ramp_factor__lte=1), name="quota_ramp_factor_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.territory} {self.period}: {self.amount}"

    @property
    def effective_amount(self) -> Decimal:
        return (self.amount * self.ramp_factor).quantize(Decimal("0.01"))
