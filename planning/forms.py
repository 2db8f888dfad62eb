"""Forms of the planning pages: they parse and validate input; the services write."""

from __future__ import annotations

import calendar
import json
from decimal import Decimal

from django import forms

from planning import fiscal, quotas
from planning.models import PlanningSettings

MONTHS = [(m, calendar.month_name[m]) for m in range(1, 13)]


class PlanningSettingsForm(forms.Form):
    fiscal_year_start_month = forms.TypedChoiceField(label="Fiscal year starts in", choices=MONTHS, coerce=int)
    overload_percent = forms.IntegerField(
        label="Overloaded above (% of capacity)", min_value=1, max_value=1000,
        help_text="A territory whose accounts or pipeline exceed this share of its rep’s capacity is flagged.",
    )
    light_percent = forms.IntegerField(
        label="Has room below (% of capacity)", min_value=0, max_value=999,
        help_text="A staffed territory below this share of capacity can take more.",
    )
    balance_tolerance_percent = forms.DecimalField(
        label="Rebalancing tolerance (± % of the average)", min_value=Decimal("0.5"), max_value=Decimal(50),
        max_digits=5, decimal_places=2,
    )

    def clean(self):
        data = super().clean()
        light, over = data.get("light_percent"), data.get("overload_percent")
        if light is not None and over is not None and light >= over:
            self.add_error("light_percent", "Must be below the overload threshold.")
        return data

    @classmethod
    def for_settings(cls, settings: PlanningSettings) -> PlanningSettingsForm:
        return cls(initial={
            "fiscal_year_start_month": settings.fiscal_year_start_month,
            "overload_percent": settings.overload_percent,
            "light_percent": settings.light_percent,
            "balance_tolerance_percent": settings.balance_tolerance_percent,
        })


class FiscalYearForm(forms.Form):
    end_year = forms.IntegerField(
        label="Fiscal year ending in", min_value=fiscal.FIRST_YEAR, max_value=fiscal.LAST_YEAR,
        error_messages={"min_value": "Choose a year from %(limit_value)s.",
                        "max_value": "Choose a year up to %(limit_value)s."},
    )


class PlanImportForm(forms.Form):
    """A plan export (``manage.py export_plan`` or the plans page's download) to read back as a
    draft. The file is parsed here; ``planning.transfer.plan_import`` checks what it says."""

    MAX_BYTES = 20 * 1024 * 1024

    file = forms.FileField(label="Plan file (JSON)", help_text="A file downloaded from this page or written by "
                                                              "manage.py export_plan.")
    name = forms.CharField(label="Name of the new draft", max_length=120, required=False,
                           help_text="Leave empty to keep the exported name (made unique).")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {self.MAX_BYTES // (1024 * 1024)} MB.")
        try:
            self.cleaned_data["document"] = json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise forms.ValidationError(f"This file is not JSON ({exc}).") from None
        return upload


class QuotaPlanForm(forms.Form):
    """The quota page's inputs: the top-down target, the blend's weights and any overrides
    (``override-<territory id>``, one per territory the user plans)."""

    target = forms.DecimalField(
        label="Target for the year", min_value=Decimal("0.01"), max_digits=14, decimal_places=2, required=False,
        error_messages={"max_digits": "The target is too large.", "max_decimal_places": "Use whole cents."},
    )

    def __init__(self, *args, territory_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.territory_ids = territory_ids
        for key, label in quotas.METRICS.items():
            self.fields[f"w_{key}"] = forms.IntegerField(label=f"{label} weight", min_value=0, max_value=100,
                                                         required=False, initial=quotas.DEFAULT_WEIGHTS[key])
        for tid in territory_ids:
            self.fields[f"override-{tid}"] = forms.DecimalField(
                min_value=Decimal(0), max_digits=14, decimal_places=2, required=False,
                error_messages={"max_decimal_places": "Use whole cents."},
            )

    def clean(self):
        data = super().clean()
        if not self.errors and self.is_bound and not any(data.get(f"w_{k}") for k in quotas.METRICS):
            raise forms.ValidationError("Give at least one metric a weight above zero.")
        return data

    @property
    def weights(self) -> dict[str, int]:
        d = self.cleaned_data
        return {k: (d[f"w_{k}"] if d.get(f"w_{k}") is not None else 0) for k in quotas.METRICS}

    @property
    def overrides(self) -> dict[int, Decimal]:
        d = self.cleaned_data
        return {tid: d[f"override-{tid}"] for tid in self.territory_ids if d.get(f"override-{tid}") is not None}

    def weight_fields(self):
        return [self[f"w_{k}"] for k in quotas.METRICS]
