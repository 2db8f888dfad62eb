"""The fiscal calendar's arithmetic (no database): where a fiscal year starts and ends, and its
quarters and months. A year is named after the calendar year it ends in: with a February start,
FY2027 runs from 1 Feb 2026 to 31 Jan 2027; with a January start, FY2027 is calendar 2027."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class PeriodSpan:
    kind: str  # "quarter" or "month" (FiscalPeriod.Kind values)
    name: str
    start: dt.date
    end: dt.date


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month."""
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def year_name(end_year: int) -> str:
    return f"FY{end_year}"


def year_span(*, end_year: int, start_month: int) -> tuple[dt.date, dt.date]:
    """First and last day of the fiscal year that ends in calendar year ``end_year``."""
    start = dt.date(end_year - (1 if start_month > 1 else 0), start_month, 1)
    return start, add_months(start, 12) - dt.timedelta(days=1)


def year_periods(start: dt.date) -> list[PeriodSpan]:
    """The four quarters and twelve months of the year starting on ``start`` (a month's first)."""
    spans = [
        PeriodSpan("quarter", f"Q{q + 1}", add_months(start, 3 * q),
                   add_months(start, 3 * q + 3) - dt.timedelta(days=1))
        for q in range(4)
    ]
    for m in range(12):
        first = add_months(start, m)
        spans.append(PeriodSpan("month", f"{calendar.month_abbr[first.month]} {first.year}", first,
                                add_months(start, m + 1) - dt.timedelta(days=1)))
    return spans


def is_whole_months(start: dt.date, end: dt.date) -> bool:
    """Whether a year runs twelve whole months from a month's first day (so it has the standard periods)."""
    return start.day == 1 and end == add_months(start, 12) - dt.timedelta(days=1)
