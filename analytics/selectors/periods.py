"""The fiscal period a page reads, chosen from the request (``planning.models``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from planning.models import FiscalPeriod, covering


@dataclass
class PeriodChoice:
    period: FiscalPeriod | None
    periods: list[FiscalPeriod]
    error: str = ""

    @property
    def start(self) -> dt.date | None:
        return self.period.start_date if self.period else None

    @property
    def end(self) -> dt.date | None:
        return self.period.end_date if self.period else None


def period_choice(raw: str | None) -> PeriodChoice:
    """The period named by ``raw`` (an id), else the quarter covering today, else the latest one
    begun. A bad id is reported, not fatal. One query."""
    periods = list(FiscalPeriod.objects.select_related("fiscal_year").order_by("start_date"))
    error = ""
    if raw:
        try:
            wanted = int(raw)
        except ValueError:
            wanted = None
        found = next((p for p in periods if p.pk == wanted), None)
        if found is not None:
            return PeriodChoice(found, periods)
        error = "That fiscal period does not exist; showing the current one."
    today = timezone.localdate()
    current_ids = set(FiscalPeriod.objects.filter(covering(today)).values_list("pk", flat=True)) if periods else set()
    current = next((p for p in periods if p.pk in current_ids and p.kind == FiscalPeriod.Kind.QUARTER), None)
    current = current or next((p for p in periods if p.pk in current_ids), None)
    if current is None:
        begun = [period for period in periods if period.start_date <= today]
        current = begun[-1] if begun else (periods[0] if periods else None)
    return PeriodChoice(current, periods, error)
