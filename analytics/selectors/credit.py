"""Compensation crediting (SEED "Integration with Other Modules": territory ownership drives
commission crediting): for the deals won in a fiscal period, each rep's credit.

For a deal of amount X closed on day D in territory T:
* T's primary on D (``territories.coverage``, ends inclusive) is credited X x their split percent
  (100 for a primary unless changed);
* every overlay territory whose credit row held the deal's account at the end of D
  (``territories.placement.in_effect_on``) credits each of its overlay reps in force on D with
  X x the territory's credit percent x the rep's split percent.
A line is shown for a territory the user may see: reps their own slots, managers their team's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model

from analytics.selectors.periods import PeriodChoice
from analytics.selectors.scope import Scope
from analytics.selectors.stored import Freshness, stored_credit
from salesos.models import Opportunity
from territories.coverage import is_in_force
from territories.models import AccountTerritory, RepAssignment
from territories.placement import in_effect_on
from territories.selectors import display_name

User = get_user_model()
Slot = RepAssignment.Slot
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


@dataclass
class CreditLine:
    user_id: int
    name: str
    territory_code: str
    territory_name: str
    slot: str
    territory_id: int = 0
    deals: int = 0
    booked: Decimal = Decimal(0)  # the won amount of those deals
    credit: Decimal = Decimal(0)


@dataclass
class CreditPage:
    choice: PeriodChoice
    lines: list[CreditLine] = field(default_factory=list)
    freshness: Freshness = field(default_factory=Freshness)

    @property
    def by_rep(self) -> list[tuple[str, Decimal]]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for line in self.lines:
            totals[line.name] += line.credit
        return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))

    @property
    def total(self) -> Decimal:
        return sum((line.credit for line in self.lines), Decimal(0))


def credit_lines(*, scope: Scope, choice: PeriodChoice) -> list[CreditLine]:
    """The credit lines of the territories of ``scope``, reps' names left empty. Three queries
    whatever the number of deals: the won deals, their overlay rows, the assignments of the
    territories concerned."""
    if scope.plan is None or choice.period is None or not scope.nodes:
        return []
    won = list(
        Opportunity.objects.filter(territory__plan=scope.plan, status=Opportunity.Status.WON,
                                   close_date__gte=choice.start, close_date__lte=choice.end)
        .values_list("pk", "account_id", "territory_id", "amount", "close_date")
    )
    overlay_rows: dict[int, list[AccountTerritory]] = defaultdict(list)
    for row in AccountTerritory.objects.filter(
        plan=scope.plan, is_primary=False, account_id__in=Opportunity.objects.filter(
            territory__plan=scope.plan, status=Opportunity.Status.WON, close_date__gte=choice.start,
            close_date__lte=choice.end).values("account_id")
    ).only("account_id", "territory_id", "credit_percent", "valid_from", "valid_to"):
        overlay_rows[row.account_id].append(row)
    territory_ids = {t for _, _, t, _, _ in won} | {r.territory_id for rows in overlay_rows.values() for r in rows}
    holders: dict[int, list[RepAssignment]] = defaultdict(list)
    slots = RepAssignment.objects.filter(territory_id__in=territory_ids, slot__in=[Slot.PRIMARY, Slot.OVERLAY])
    for a in slots:
        holders[a.territory_id].append(a)
    lines: dict[tuple[int, int, str], CreditLine] = {}

    def credit(assignment: RepAssignment, amount: Decimal, share: Decimal) -> None:
        if assignment.territory_id not in scope.nodes:
            return  # a territory the user may not see
        key = (assignment.user_id, assignment.territory_id, assignment.slot)
        line = lines.get(key)
        if line is None:
            node = scope.nodes[assignment.territory_id]
            line = lines[key] = CreditLine(user_id=assignment.user_id, name="", territory_code=node.code,
                                           territory_name=node.name, slot=assignment.get_slot_display(),
                                           territory_id=node.pk)
        line.deals += 1
        line.booked += amount
        line.credit += (amount * share).quantize(CENT)

    for _, account_id, territory_id, amount, closed in won:
        for a in holders.get(territory_id, ()):
            if a.slot == Slot.PRIMARY and is_in_force(a, closed):
                credit(a, amount, Decimal(a.split_percent) / HUNDRED)
        for row in overlay_rows.get(account_id, ()):
            if not in_effect_on(row, closed):
                continue
            for a in holders.get(row.territory_id, ()):
                if a.slot == Slot.OVERLAY and is_in_force(a, closed):
                    credit(a, amount, Decimal(row.credit_percent) / HUNDRED * Decimal(a.split_percent) / HUNDRED)
    return list(lines.values())


def credit_page(*, scope: Scope, choice: PeriodChoice) -> CreditPage:
    """The credit lines of the territories the user sees: from the store when it holds them
    (``analytics.selectors.stored``), else computed live; then the reps' names (one query)."""
    page = CreditPage(choice=choice)
    if scope.plan is None or choice.period is None or not scope.nodes:
        return page
    stored, page.freshness = stored_credit(scope=scope, choice=choice)
    if stored is None:
        lines = credit_lines(scope=scope, choice=choice)
    else:
        lines = [
            CreditLine(user_id=user_id, name="", territory_code=scope.nodes[territory_id].code,
                       territory_name=scope.nodes[territory_id].name, slot=slot, territory_id=territory_id,
                       deals=deals, booked=booked, credit=credit)
            for user_id, territory_id, slot, deals, booked, credit in stored
        ]
    names = {
        pk: display_name(first, last, username)
        for pk, first, last, username in User.objects.filter(pk__in={line.user_id for line in lines}).values_list(
            "pk", "first_name", "last_name", "username")
    }
    for line in lines:
        line.name = names.get(line.user_id, "")
    page.lines = sorted(lines, key=lambda line: (-line.credit, line.name, line.territory_code))
    return page
