"""CSV exports of the analytics pages: the same figures the page shows, for the same user and
filters, streamed row by row, every cell through the one formula guard (``salesos.csv_export``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from analytics.selectors.comparisons import Comparison
from analytics.selectors.coverage import Coverage
from analytics.selectors.credit import CreditPage
from analytics.selectors.forecast import ForecastPage
from analytics.selectors.performance import Figures, PerformancePage
from salesos.csv_export import Echo, csv_cell


def _cell(value: Any) -> Any:
    """A figure as the page shows it (two decimals), text guarded against formulas."""
    if isinstance(value, float):
        return f"{value:.2f}"
    return csv_cell(value)


def stream(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(v) for v in row])


def coverage_csv(c: Coverage) -> Iterator[str]:
    rows: list[list[Any]] = [
        ["count", "accounts", "", c.accounts],
        ["count", "orphaned_accounts", "", c.orphaned],
        ["count", "territories", "", c.territories],
        ["count", "vacant_territories", "", c.vacant],
        ["count", "conflicts", "", c.conflicts],
        ["count", "white_space_areas", "", c.white_space.total if c.white_space else 0],
    ]
    rows += [["vacant_territory", t.code, t.name, t.account_count] for t in c.vacant_list]
    if c.white_space:
        rows += [[f"white_space_{a.level}", a.code, a.state, a.unassigned] for a in c.white_space.gaps]
    rows += [["trend", "orphaned", day["day"].isoformat(), day["orphaned"]] for day in c.trend]
    rows += [["trend", "vacant", day["day"].isoformat(), day["vacant"]] for day in c.trend]
    rows += [["trend", "conflicts", day["day"].isoformat(), day["conflicts"]] for day in c.trend]
    rows += [["trend", "white_space", day["day"].isoformat(), day["white_space"]] for day in c.trend]
    return stream(["section", "name", "detail", "value"], rows)


PERFORMANCE_COLUMNS = [
    "territory_code", "territory_name", "type", "period", "quota", "won_amount", "attainment_percent", "deals_won",
    "deals_lost", "win_rate_percent", "avg_deal_size", "sales_cycle_days", "open_deals", "open_amount",
    "pipeline_velocity_per_day", "accounts", "calls", "emails", "meetings", "activities_per_account",
]


def performance_row(f: Figures, period: str) -> list[Any]:
    return [
        f.node.code, f.node.name, f.node.type_label, period, f.quota, f.won_amount, f.attainment, f.won_n, f.lost_n,
        f.win_rate, f.avg_deal, f.cycle, f.open_n, f.open_amount, f.velocity, f.accounts, f.calls, f.emails,
        f.meetings, f.activity_density,
    ]


def performance_csv(page: PerformancePage) -> Iterator[str]:
    period = str(page.choice.period or "")
    rows = ([page.focus] if page.focus else []) + page.rows
    return stream(PERFORMANCE_COLUMNS, (performance_row(f, period) for f in rows))


def forecast_csv(page: ForecastPage) -> Iterator[str]:
    period = str(page.choice.period or "")
    rows = ([page.focus] if page.focus else []) + page.rows
    return stream(
        ["territory_code", "territory_name", "period", "closed_won", "commit", "best_case", "pipeline", "weighted"],
        ([f.node.code, f.node.name, period, f.won, f.commit, f.best_case, f.pipeline, f.weighted] for f in rows),
    )


def credit_csv(page: CreditPage) -> Iterator[str]:
    period = str(page.choice.period or "")
    return stream(
        ["rep", "territory_code", "territory_name", "slot", "period", "deals", "booked", "credit"],
        ([line.name, line.territory_code, line.territory_name, line.slot, period, line.deals, line.booked,
          line.credit] for line in page.lines),
    )


def comparison_csv(c: Comparison) -> Iterator[str]:
    period = str(c.choice.period or "")
    flags = {item.figures.node.pk: "; ".join(f"{flag.metric} below peers' median" for flag in item.flags)
             for item in c.territories}
    return stream(
        [*PERFORMANCE_COLUMNS, "tam", "coaching_flags"],
        ([*performance_row(f, period), c.tam.get(f.node.pk, 0), flags.get(f.node.pk, "")] for f in c.rows),
    )
