"""A plan's data for planning work: its territories, its account assignments on a date and its
territories' performance for a fiscal period (SEED "Data preparation"), as three CSV files or one
XLSX workbook.

Nothing here computes a figure of its own: the territories' owners are ``territories.coverage``'s,
the assignments are the effective-dated ownership rows in force on the date
(``territories.placement.in_force_rows``), and the performance figures are the performance page's
(``analytics.selectors.performance.rolled_up``, written by ``exports.performance_row``). Every
part is read for the user's part of the plan (``scope_for``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook

from analytics.exports import PERFORMANCE_COLUMNS, performance_row
from analytics.selectors.performance import rolled_up
from analytics.selectors.periods import PeriodChoice
from analytics.selectors.scope import Scope
from salesos.roles import opens_any_plan
from territories import coverage
from territories.models import TerritoryPlan
from territories.placement import in_force_rows

User = get_user_model()

PARTS = ("territories", "assignments", "metrics")
# An XLSX sheet holds 1,048,576 rows; a bigger assignment list is offered as CSV only.
XLSX_MAX_ROWS = 1_048_575

TERRITORY_COLUMNS = ["territory_code", "territory_name", "parent_code", "type", "level", "status", "overlay",
                     "owner", "owner_email"]
ASSIGNMENT_COLUMNS = ["account_id", "account_name", "domain", "territory_code", "territory_name", "primary",
                      "credit_percent", "source", "since"]


def plans_for(user) -> QuerySet[TerritoryPlan]:
    """The plans a planner may export: every plan, newest first (none for other roles)."""
    if not opens_any_plan(user):
        return TerritoryPlan.objects.none()
    return TerritoryPlan.objects.order_by("-created_at", "-pk")


def as_of(choice: PeriodChoice, today: dt.date | None = None) -> dt.date:
    """The day the assignments are read on: the period's last day, or today while it runs."""
    today = today or timezone.localdate()
    return min(choice.end, today) if choice.end is not None else today


@dataclass(frozen=True)
class Table:
    name: str
    header: list[str]
    rows: Iterable[list[Any]]


def territories_table(scope: Scope, on: dt.date) -> Table:
    """Each territory the user sees, with its place in the tree and its owner on ``on``."""
    owners = coverage.owners_of(scope.nodes, on=on)
    rows = []
    for pk, node in sorted(scope.nodes.items(), key=lambda item: item[1].code):
        parent = scope.nodes.get(node.parent_id) if node.parent_id is not None else None
        owner = owners.get(pk)
        rows.append([
            node.code, node.name, parent.code if parent else "", node.type_label, scope.depth(pk), node.status,
            "yes" if node.is_overlay else "no",
            (owner.get_full_name() or owner.get_username()) if owner else "", owner.email if owner else "",
        ])
    return Table("Territories", TERRITORY_COLUMNS, rows)


def assignments_count(scope: Scope, on: dt.date) -> int:
    return in_force_rows(scope.plan, on).filter(territory_id__in=scope.ids).count() if scope.plan else 0


def assignments_table(scope: Scope, on: dt.date) -> Table:
    """Every ownership row (primary and overlay) of the user's territories in force on ``on``,
    streamed in account order."""
    if scope.plan is None:
        return Table("Assignments", ASSIGNMENT_COLUMNS, [])
    codes = {pk: (node.code, node.name) for pk, node in scope.nodes.items()}
    rows = (
        in_force_rows(scope.plan, on)
        .filter(territory_id__in=scope.ids)
        .order_by("account_id", "-is_primary", "territory_id")
        .values_list("account_id", "account__name", "account__domain", "territory_id", "is_primary",
                     "credit_percent", "source", "valid_from")
    )

    def lines() -> Iterator[list[Any]]:
        for account_id, name, domain, territory_id, primary, credit, source, since in rows.iterator(chunk_size=5000):
            code, territory_name = codes[territory_id]
            yield [account_id, name, domain, code, territory_name, "primary" if primary else "overlay", credit,
                   source, timezone.localtime(since).date().isoformat()]

    return Table("Assignments", ASSIGNMENT_COLUMNS, lines())


def metrics_table(scope: Scope, choice: PeriodChoice) -> Table:
    """The performance page's figures for the period, one row per territory (its subtree summed in)."""
    figures = rolled_up(scope=scope, choice=choice)
    period = str(choice.period or "")
    ordered = sorted(figures.values(), key=lambda f: f.node.code)
    return Table("Performance", PERFORMANCE_COLUMNS, [performance_row(f, period) for f in ordered])


def table(part: str, scope: Scope, choice: PeriodChoice) -> Table:
    if part == "territories":
        return territories_table(scope, as_of(choice))
    if part == "assignments":
        return assignments_table(scope, as_of(choice))
    return metrics_table(scope, choice)


def workbook(scope: Scope, choice: PeriodChoice) -> bytes:
    """The three parts as the sheets of one workbook (openpyxl's write-only mode streams rows)."""
    book = Workbook(write_only=True)
    for part in PARTS:
        part_table = table(part, scope, choice)
        sheet = book.create_sheet(part_table.name)
        sheet.append(part_table.header)
        for row in part_table.rows:
            sheet.append([_xlsx_cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 2)
    return value
