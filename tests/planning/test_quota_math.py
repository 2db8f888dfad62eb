"""Quota arithmetic: every split adds up to the cent, for any weights and overrides (hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning import quotas
from planning.quotas import Metrics, QuotaError, allocate, roll_up, split, spread

cents = st.integers(min_value=1, max_value=10**12).map(lambda c: Decimal(c) / 100)
weights = st.fixed_dictionaries({k: st.integers(min_value=0, max_value=100) for k in quotas.METRICS})
metrics = st.builds(
    Metrics,
    territory_id=st.integers(min_value=1, max_value=10**6),
    tam=st.integers(min_value=0, max_value=10**10).map(Decimal),
    attainment=st.none() | st.floats(min_value=0, max_value=3, allow_nan=False),
    density=st.integers(min_value=0, max_value=5000),
    pipeline=st.integers(min_value=0, max_value=10**9).map(Decimal),
    capacity=st.sampled_from([0.7, 1.0, 1.2, 1.4, 0.35]),
)


def test_largest_remainder_gives_the_odd_cents_to_the_largest_remainders():
    assert allocate(Decimal("1.00"), [1, 1, 1]) == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
    assert allocate(Decimal("10.00"), [Fraction(1, 3), Fraction(2, 3)]) == [Decimal("3.33"), Decimal("6.67")]
    assert allocate(Decimal("5.00"), [0, 0]) == [Decimal("2.50"), Decimal("2.50")]
    with pytest.raises(QuotaError):
        allocate(Decimal("1.001"), [1])


@settings(max_examples=200, deadline=None)
@given(total=cents, parts=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40))
def test_allocate_adds_up_exactly_and_stays_within_a_cent_of_the_exact_share(total, parts):
    got = allocate(total, parts)
    assert sum(got) == total
    whole = sum(parts) or len(parts)
    for g, p in zip(got, parts, strict=True):
        exact = Fraction(total) * (Fraction(p) / whole if sum(parts) else Fraction(1, len(parts)))
        assert abs(Fraction(g) - exact) < Fraction(1, 100)


@settings(max_examples=200, deadline=None)
@given(target=cents, w=weights, rows=st.lists(metrics, min_size=1, max_size=25, unique_by=lambda m: m.territory_id),
       data=st.data())
def test_spread_adds_up_for_any_weights_and_overrides(target, w, rows, data):
    chosen = data.draw(st.lists(st.sampled_from([r.territory_id for r in rows]), unique=True, max_size=len(rows) - 1))
    budget = int(target * 100)
    overrides = {}
    for tid in chosen:
        c = data.draw(st.integers(min_value=0, max_value=budget))
        budget -= c
        overrides[tid] = Decimal(c) / 100
    result = spread(target=target, rows=rows, weights=w, overrides=overrides)
    assert sum(result.amounts.values()) == target
    assert set(result.amounts) == {r.territory_id for r in rows}
    assert all(result.amounts[t] == a for t, a in overrides.items())
    assert all(a >= 0 for a in result.amounts.values())
    for amount in result.amounts.values():
        assert sum(split(amount, 4)) == amount


def test_overrides_that_cannot_add_up_are_refused_with_the_figures():
    rows = [Metrics(1, tam=Decimal(100)), Metrics(2, tam=Decimal(300))]
    with pytest.raises(QuotaError, match="add up to 1,200.00, more than the target 1,000.00"):
        spread(target=Decimal(1000), rows=rows, weights={"tam": 1}, overrides={1: Decimal(700), 2: Decimal(500)})
    with pytest.raises(QuotaError, match="Every territory is overridden"):
        spread(target=Decimal(1000), rows=rows, weights={"tam": 1}, overrides={1: Decimal(300), 2: Decimal(500)})
    with pytest.raises(QuotaError, match="more than zero"):
        spread(target=Decimal(0), rows=rows, weights={"tam": 1}, overrides={})


def test_override_re_spreads_the_rest_by_the_blend():
    rows = [Metrics(1, tam=Decimal(100)), Metrics(2, tam=Decimal(100)), Metrics(3, tam=Decimal(200))]
    plain = spread(target=Decimal(1000), rows=rows, weights={"tam": 1}, overrides={})
    assert plain.amounts == {1: Decimal(250), 2: Decimal(250), 3: Decimal(500)}
    fixed = spread(target=Decimal(1000), rows=rows, weights={"tam": 1}, overrides={3: Decimal(100)})
    assert fixed.amounts == {1: Decimal(450), 2: Decimal(450), 3: Decimal(100)}


def test_a_metric_nobody_has_drops_out_and_missing_attainment_counts_as_the_average():
    rows = [Metrics(1, density=1, attainment=None), Metrics(2, density=3, attainment=1.5)]
    shares, used, dropped = quotas.blend(rows, {"pipeline": 50, "density": 50, "attainment": 0})
    assert dropped == ["pipeline"] and used == {"density": 50}
    assert shares == {1: Fraction(1, 4), 2: Fraction(3, 4)}
    shares, _, _ = quotas.blend(rows, {"attainment": 1})
    assert shares[1] == shares[2] == Fraction(1, 2)


def test_roll_up_sums_every_level():
    parent_of = {1: None, 2: 1, 3: 1, 4: 2}
    assert roll_up({3: Decimal("1.01"), 4: Decimal("2.02")}, parent_of) == {
        1: Decimal("3.03"), 2: Decimal("2.02"), 3: Decimal("1.01"), 4: Decimal("2.02")}
