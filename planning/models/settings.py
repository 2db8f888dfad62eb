"""Organisation-wide planning settings: one row (``PlanningSettings.load``)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class PlanningSettings(models.Model):
    """The fiscal calendar's start month and the capacity planner's thresholds. A single row
    (pk 1); ``load`` reads it, or the defaults while nobody has saved it."""

    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="The month every new fiscal year starts in (1 = January). A year is named after the calendar "
        "year it ends in.",
    )
    overload_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="A territory whose workload is above this share of its rep's capacity is overloaded",
    )
    light_percent = models.PositiveSmallIntegerField(
        default=50,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
        help_text="A staffed territory whose workload is below this share of its rep's capacity has room",
    )
    balance_tolerance_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("50"))],
        help_text="How far from the average a territory's workload may be after rebalancing",
    )

    class Meta:
        verbose_name_plural = "planning settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="planning_settings_single_row"),
            models.CheckConstraint(
                condition=Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="planning_settings_start_month_1_12",
            ),
            models.CheckConstraint(condition=Q(light_percent__lt=models.F("overload_percent")),
                                   name="planning_settings_light_below_overload"),
        ]

    def __str__(self) -> str:
        return "Planning settings"

    @classmethod
    def load(cls) -> PlanningSettings:
        """The saved settings, or unsaved defaults (pk 1) when none are saved yet."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
