"""White space, defined once (SEED "Coverage Analysis" and "Map Visualization").

An area is a state or a metro named on the accounts themselves (``Account.state``,
``Account.metro``). An area is a *gap* when it holds accounts in the unassigned queue of the
active plan (no current primary row, ``territories.placement.is_placed``), and *white space* when
none of its accounts sits in a territory: it holds accounts or potential, and no territory
covers it.

Every reader asks this module: the daily coverage snapshot stores ``white_space_areas`` (the
dashboard's count and list, and its trend) and the map draws the same areas
(``analytics.map_white_space``), so the two always count the same places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from salesos.models import Account
from territories.models import TerritoryPlan
from territories.placement import is_placed

STATE = "state"
METRO = "metro"
# Area level -> the account fields that name an area of it (a metro's name is unique only
# within its state).
AREA_KEYS: dict[str, tuple[str, ...]] = {STATE: ("state",), METRO: ("metro", "state")}


def is_white_space(*, accounts: int, unassigned: int) -> bool:
    """An area none of whose accounts sits in a territory (and that holds some)."""
    return accounts > 0 and unassigned == accounts


@dataclass(frozen=True)
class AreaGap:
    """One area holding accounts of the unassigned queue."""

    level: str
    code: str
    country: str
    state: str
    accounts: int
    unassigned: int
    potential: Decimal  # of the unassigned accounts

    @property
    def uncovered(self) -> bool:
        return is_white_space(accounts=self.accounts, unassigned=self.unassigned)


def white_space_areas(*, plan: TerritoryPlan | int | None) -> list[AreaGap]:
    """Every state and metro holding accounts the plan leaves unassigned, white space first
    (``uncovered``), then by unassigned accounts. Two grouped queries over the accounts."""
    unplaced = ~is_placed(plan=plan)
    money = DecimalField(max_digits=18, decimal_places=2)
    figures = {
        "accounts": Count("pk"),
        "unassigned": Count("pk", filter=Q(unplaced)),
        "potential": Coalesce(Sum("potential", filter=Q(unplaced)), Value(Decimal(0)), output_field=money),
    }
    out: list[AreaGap] = []
    for level, keys in AREA_KEYS.items():
        rows = (
            Account.objects.exclude(**{keys[0]: ""})
            .order_by()
            .values(*keys, "country")
            .annotate(**figures)
            .filter(unassigned__gt=0)
        )
        out.extend(
            AreaGap(
                level=level,
                code=row[keys[0]],
                country=row["country"],
                state=row["state"],
                accounts=row["accounts"],
                unassigned=row["unassigned"],
                potential=row["potential"],
            )
            for row in rows
        )
    out.sort(key=lambda a: (not a.uncovered, -a.unassigned, a.level, a.code))
    return out
