"""Per-territory figures the planning pages share: accounts, TAM (sum of account potential) and
open pipeline, all counted through the accounts' current primary territory
(``territories.placement``), so the quota page, the capacity planner and rebalancing agree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from territories.models import AccountTerritory, Territory
from territories.selectors import account_count_of, open_pipeline_of

MONEY = DecimalField(max_digits=18, decimal_places=2)


@dataclass(frozen=True)
class Figures:
    accounts: int = 0
    tam: Decimal = Decimal(0)
    pipeline: Decimal = Decimal(0)


def tam_of(territory_ref: str = "pk") -> Coalesce:
    """SQL: the summed potential of the accounts whose current primary territory is the outer row."""
    total = (
        AccountTerritory.objects.filter(territory=OuterRef(territory_ref), is_primary=True, valid_to__isnull=True)
        .order_by()
        .values("territory")
        .annotate(total=Sum("account__potential"))
        .values("total")[:1]
    )
    return Coalesce(Subquery(total, output_field=MONEY), Value(Decimal(0)), output_field=MONEY)


def territory_figures(territory_ids: Iterable[int]) -> dict[int, Figures]:
    """Accounts, TAM and open pipeline per territory (one query)."""
    rows = (
        Territory.objects.filter(pk__in=list(territory_ids))
        .annotate(n=account_count_of(), tam=tam_of(), pipe=open_pipeline_of())
        .values_list("pk", "n", "tam", "pipe")
    )
    return {pk: Figures(n, Decimal(tam), Decimal(pipe)) for pk, n, tam, pipe in rows}
