"""Writes of the planning module's fiscal calendar and settings. Keyword-only, typed, atomic; a
refused input raises ``ValidationError`` with a message for the page and writes nothing."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from planning import fiscal
from planning.models import FiscalPeriod, FiscalYear, PlanningSettings


@transaction.atomic
def planning_settings_update(
    *, fiscal_year_start_month: int, overload_percent: int, light_percent: int, balance_tolerance_percent: Decimal
) -> PlanningSettings:
    """Save the organisation's planning settings. The start month applies to years created from
    now on; existing years keep their dates (their quotas and plans are built on them)."""
    settings = PlanningSettings.load()
    settings.fiscal_year_start_month = fiscal_year_start_month
    settings.overload_percent = overload_percent
    settings.light_percent = light_percent
    settings.balance_tolerance_percent = balance_tolerance_percent
    settings.full_clean()
    if light_percent >= overload_percent:
        raise ValidationError("The “has room” threshold must be below the overload threshold.")
    settings.save()
    return settings


@transaction.atomic
def fiscal_year_create(*, end_year: int) -> FiscalYear:
    """Create the fiscal year ending in ``end_year`` from the settings' start month, with its four
    quarters and twelve months. Refused when the name exists or the dates overlap another year."""
    if not fiscal.FIRST_YEAR <= end_year <= fiscal.LAST_YEAR:
        raise ValidationError(f"Choose a year between {fiscal.FIRST_YEAR} and {fiscal.LAST_YEAR}.")
    start_month = PlanningSettings.load().fiscal_year_start_month
    start, end = fiscal.year_span(end_year=end_year, start_month=start_month)
    name = fiscal.year_name(end_year)
    if FiscalYear.objects.filter(name=name).exists():
        raise ValidationError(f"{name} already exists.")
    overlap = FiscalYear.objects.filter(start_date__lte=end, end_date__gte=start).first()
    if overlap is not None:
        raise ValidationError(
            f"{name} would run {start:%b %-d, %Y} – {end:%b %-d, %Y}, which overlaps {overlap.name} "
            f"({overlap.start_date:%b %-d, %Y} – {overlap.end_date:%b %-d, %Y})."
        )
    year = FiscalYear.objects.create(name=name, start_date=start, end_date=end)
    _create_missing_periods(year)
    return year


@transaction.atomic
def fiscal_periods_fill(*, fiscal_year: FiscalYear) -> int:
    """Add the quarters and months ``fiscal_year`` lacks (matched by name); returns how many were
    added. Refused for a year that is not twelve whole months, or whose periods disagree."""
    year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
    if not fiscal.is_whole_months(year.start_date, year.end_date):
        raise ValidationError(
            f"{year.name} does not run twelve whole months from a month's first day, so its periods cannot be "
            "made for it; add them in the admin site."
        )
    return _create_missing_periods(year)


def _create_missing_periods(year: FiscalYear) -> int:
    existing = {p.name: p for p in year.periods.all()}
    new = []
    for span in fiscal.year_periods(year.start_date):
        have = existing.get(span.name)
        if have is None:
            new.append(FiscalPeriod(fiscal_year=year, kind=span.kind, name=span.name,
                                    start_date=span.start, end_date=span.end))
        elif (have.start_date, have.end_date, have.kind) != (span.start, span.end, span.kind):
            raise ValidationError(
                f"{year.name} {span.name} runs {have.start_date:%b %-d} – {have.end_date:%b %-d, %Y}, not "
                f"{span.start:%b %-d} – {span.end:%b %-d, %Y}; fix it in the admin site first."
            )
    FiscalPeriod.objects.bulk_create(new)
    return len(new)
