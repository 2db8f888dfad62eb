"""Quota arithmetic, pure (no database): spread a top-down target over territories by a blend of
metrics, honour overrides, split each quota over periods, and make every sum exact.

Money is Decimal in cents. Every split goes through ``allocate``, the largest-remainder method
over exact fractions: each part gets the floor of its exact share in cents, and the cents left
over go one each to the parts with the largest remainders (ties to the earlier part). So the
parts add up to the whole to the cent, whatever the weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

CENT = Decimal("0.01")

# The blend's metrics, in the order the page shows them: key -> label.
METRICS: dict[str, str] = {
    "tam": "TAM",
    "attainment": "Historical attainment",
    "density": "Account density",
    "pipeline": "Pipeline",
    "capacity": "Rep capacity",
}
DEFAULT_WEIGHTS: dict[str, int] = {"tam": 40, "attainment": 20, "density": 15, "pipeline": 15, "capacity": 10}


class QuotaError(ValueError):
    """Input that cannot make quotas that add up (the message is for the page)."""


def allocate(total: Decimal, weights: Sequence[Fraction | Decimal | int | float]) -> list[Decimal]:
    """Split ``total`` (a non-negative amount in cents) over ``weights`` (non-negative) so the parts
    add up to it exactly. All-zero weights split evenly. Deterministic."""
    if total < 0:
        raise QuotaError("An amount to split cannot be negative.")
    if not weights:
        if total:
            raise QuotaError("There is nothing to split the amount over.")
        return []
    cents = int((total / CENT).to_integral_value())
    if Decimal(cents) * CENT != total:
        raise QuotaError(f"{total} is not a whole number of cents.")
    exact = [Fraction(w) for w in weights]
    if any(w < 0 for w in exact):
        raise QuotaError("Weights cannot be negative.")
    whole = sum(exact)
    if whole == 0:
        exact, whole = [Fraction(1)] * len(exact), Fraction(len(exact))
    shares = [cents * w / whole for w in exact]
    floors = [s.numerator // s.denominator for s in shares]
    left = cents - sum(floors)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [Decimal(c) * CENT for c in floors]


@dataclass(frozen=True)
class Metrics:
    """What the blend reads for one territory. ``attainment`` is None without history;
    ``capacity`` is the holder's steady-state capacity factor (experience and role)."""

    territory_id: int
    tam: Decimal = Decimal(0)
    attainment: float | None = None
    density: int = 0
    pipeline: Decimal = Decimal(0)
    capacity: float = 1.0

    def value(self, metric: str, *, missing_attainment: Fraction) -> Fraction:
        if metric == "attainment":
            return Fraction(self.attainment) if self.attainment is not None else missing_attainment
        if metric == "tam":
            return Fraction(self.tam)
        if metric == "density":
            return Fraction(self.density)
        if metric == "pipeline":
            return Fraction(self.pipeline)
        return Fraction(self.capacity)


@dataclass
class Spread:
    amounts: dict[int, Decimal]  # territory id -> annual quota (full, before ramp)
    shares: dict[int, Fraction]  # the blended share of each territory that was not overridden
    used: dict[str, int]  # metric -> weight actually used (a metric with no signal drops out)
    dropped: list[str] = field(default_factory=list)  # metrics asked for that had nothing to go on


def blend(rows: Sequence[Metrics], weights: Mapping[str, int]) -> tuple[dict[int, Fraction], dict[str, int], list[str]]:
    """Each territory's share of the whole: the weighted mean of its share of each metric. A
    metric whose values are all zero (or, for attainment, all missing) drops out and the others'
    weights are renormalised; with no usable metric the shares are equal."""
    present = [Fraction(r.attainment) for r in rows if r.attainment is not None]
    missing = sum(present, Fraction(0)) / len(present) if present else Fraction(0)
    used: dict[str, int] = {}
    dropped: list[str] = []
    parts: dict[str, list[Fraction]] = {}
    for metric in METRICS:
        weight = int(weights.get(metric, 0))
        if weight < 0:
            raise QuotaError(f"The weight of {METRICS[metric]} cannot be negative.")
        if weight == 0:
            continue
        values = [max(Fraction(0), r.value(metric, missing_attainment=missing)) for r in rows]
        total = sum(values)
        if total == 0:
            dropped.append(metric)
            continue
        used[metric] = weight
        parts[metric] = [v / total for v in values]
    weight_sum = sum(used.values())
    if not weight_sum:
        even = Fraction(1, len(rows)) if rows else Fraction(0)
        return {r.territory_id: even for r in rows}, used, dropped
    shares = {
        r.territory_id: sum((Fraction(used[m]) * parts[m][i] for m in used), Fraction(0)) / weight_sum
        for i, r in enumerate(rows)
    }
    return shares, used, dropped


def spread(
    *, target: Decimal, rows: Sequence[Metrics], weights: Mapping[str, int], overrides: Mapping[int, Decimal]
) -> Spread:
    """The target spread over ``rows``: overridden territories get their figure, the rest share
    what is left by the blend. The amounts add up to the target exactly, or QuotaError says why not."""
    if target <= 0:
        raise QuotaError("The target must be more than zero.")
    if target.quantize(CENT) != target:
        raise QuotaError("The target must be a whole number of cents.")
    ids = {r.territory_id for r in rows}
    unknown = set(overrides) - ids
    if unknown:
        raise QuotaError("An override names a territory that is not in this plan.")
    for amount in overrides.values():
        if amount < 0 or amount.quantize(CENT) != amount:
            raise QuotaError("Overrides must be zero or more, in whole cents.")
    fixed = sum(overrides.values(), Decimal(0))
    free = [r for r in rows if r.territory_id not in overrides]
    if fixed > target:
        raise QuotaError(f"The overrides add up to {fixed:,.2f}, more than the target {target:,.2f}: lower them or "
                         "raise the target.")
    if not free and fixed != target:
        raise QuotaError(f"Every territory is overridden and they add up to {fixed:,.2f}, not the target "
                         f"{target:,.2f}: change an override or the target so they agree.")
    shares, used, dropped = blend(free, weights)
    amounts = dict(overrides)
    for r, amount in zip(free, allocate(target - fixed, [shares[r.territory_id] for r in free]), strict=True):
        amounts[r.territory_id] = amount
    if sum(amounts.values(), Decimal(0)) != target:  # cannot happen: allocate is exact
        raise QuotaError("The quotas do not add up to the target.")
    return Spread(amounts=amounts, shares=shares, used=used, dropped=dropped)


def split(amount: Decimal, parts: int) -> list[Decimal]:
    """An annual quota over ``parts`` equal periods, exact to the cent (earlier periods take the odd cents)."""
    return allocate(amount, [1] * parts)


def roll_up(amounts: Mapping[int, Decimal], parent_of: Mapping[int, int | None]) -> dict[int, Decimal]:
    """Each territory's total: its own amount plus every descendant's (ids in ``parent_of`` with no
    amount count zero themselves)."""
    totals: dict[int, Decimal] = {tid: Decimal(0) for tid in parent_of}
    for tid, amount in amounts.items():
        node: int | None = tid
        seen: set[int] = set()
        while node is not None and node not in seen:
            seen.add(node)
            totals[node] = totals.get(node, Decimal(0)) + amount
            node = parent_of.get(node)
    return totals
