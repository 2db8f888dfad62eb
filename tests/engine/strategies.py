"""Hypothesis strategies for rules, records and plans, shared by the engine tests and the SQL
agreement test. Values come from small pools full of traps (case, accents, LIKE wildcards,
missing values, bounds) so that random rules actually match random records."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from routing.engine import FIELDS, OPERATORS, TERRITORY_TYPES, PlanSpec, TerritorySpec

# Record values: every one fits its database column (country is 2 characters, etc.).
TEXT_POOLS: dict[str, list[str]] = {
    "country": ["US", "us", "Us", "CA", "DE", "é1"[:2]],
    "region": ["AMER", "EMEA", "emea", "APAC"],
    "state": ["US-CA", "us-ca", "US-NY", "CA-ON"],
    "city": ["Denver", "denver", "Zürich", "ZüRICH", "ZÜRICH", "Straße", "a_b", "a%b", " Denver"],
    "metro": ["Denver", "DENVER", "Bay Area", "bay area", "Zürich", "zürich", "ß"],
    "postal_code": ["94105", "94107", "941", "9", "SW1A 1AA", "sw1a 1aa", "10_01", "100%1", "1\\2"],
    "industry": ["62", "622", "622110", "5", "52", "521", "A1", "a12", "é1"],
    "name": ["Acme", "ACME", "acme corp", "Ácme", "ácme", "x\\y", "50%_off", "50x_off"],
    "domain": ["acme.com", "ACME.COM", "b.io"],
}
# Rule values for code fields must be valid codes; validation upper-cases them.
RULE_POOLS: dict[str, list[str]] = {
    **TEXT_POOLS,
    "country": ["US", "us", "CA", "DE", "FR"],
    "region": ["AMER", "EMEA", "emea", "APAC", "Americas"],
    "state": ["US-CA", "us-ca", "US-NY", "CA-ON"],
    "city": ["Denver", "denver", "Zürich", "ZÜRICH", "Straße", "a_b", "a%b"],
    "postal_code": ["94105", "94107", "941", "9", "SW1A 1AA", "sw1a", "10_01", "100%", "1\\"],
}
NUMBER_POOLS = {
    "employees": [0, 1, 50, 499, 500, 501, 10000],
    "annual_revenue": [Decimal("0"), Decimal("0.01"), Decimal("2.5"), Decimal("999999.99"),
                       Decimal("1000000"), Decimal("1000000.01")],
}


def _scalar(name: str) -> st.SearchStrategy:
    if name in NUMBER_POOLS:
        pool = NUMBER_POOLS[name]
        # Numbers also arrive as text, and money as float or int.
        variants = [st.sampled_from(pool), st.sampled_from(pool).map(str)]
        if name == "annual_revenue":
            variants.append(st.sampled_from([0, 1000000, 2.5, 0.01]))
        return st.one_of(*variants)
    return st.sampled_from(RULE_POOLS[name])


def _prefix(name: str) -> st.SearchStrategy:
    return st.tuples(st.sampled_from(RULE_POOLS[name]), st.integers(1, 6)).map(
        lambda pair: pair[0][: pair[1]].strip() or pair[0]
    )


@st.composite
def conditions(draw) -> dict:
    name = draw(st.sampled_from(sorted(FIELDS)))
    op = draw(st.sampled_from(sorted(FIELDS[name].operators)))
    arity = OPERATORS[op].arity
    if arity == "flag":
        value = draw(st.booleans())
    elif arity == "one":
        value = draw(_scalar(name))
    elif arity == "many":
        value = draw(st.lists(_scalar(name), min_size=1, max_size=3))
    elif arity == "pair":
        a, b = draw(st.sampled_from(NUMBER_POOLS[name])), draw(st.sampled_from(NUMBER_POOLS[name]))
        value = [min(a, b), max(a, b)]
    else:
        value = draw(st.one_of(_prefix(name), st.lists(_prefix(name), min_size=1, max_size=3)))
    return {"field": name, "op": op, "value": value}


def rules(max_leaves: int = 6) -> st.SearchStrategy:
    nested = st.recursive(
        conditions(),
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
            st.lists(children, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
        ),
        max_leaves=max_leaves,
    )
    return st.one_of(st.just({}), nested, nested)


def _text_value(name: str) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(TEXT_POOLS[name]), st.sampled_from([None, ""]),
                     st.sampled_from(TEXT_POOLS[name]).map(lambda s: (s + "0")[: 2 if name == "country" else 16]))


@st.composite
def records(draw, *, ids: tuple[int, ...] = (1, 2, 3, 4, 5), lock_ids: tuple[int, ...] = ()) -> dict:
    record: dict = {name: draw(_text_value(name)) for name in TEXT_POOLS}
    for name, pool in NUMBER_POOLS.items():
        record[name] = draw(st.one_of(st.none(), st.sampled_from(pool)))
    if ids:
        record["id"] = draw(st.sampled_from(ids))
    if lock_ids:
        record["locked_territory_id"] = draw(st.one_of(st.none(), st.none(), st.sampled_from(lock_ids)))
    return record


@st.composite
def plans(draw, max_territories: int = 18) -> PlanSpec:
    count = draw(st.integers(1, max_territories))
    territories = []
    for i in range(count):
        parent = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        kind = draw(st.sampled_from(TERRITORY_TYPES))
        territories.append(
            TerritorySpec(
                id=100 + i,
                code=f"T{draw(st.integers(0, 99)):02d}-{i}",
                parent_id=None if parent is None else 100 + parent,
                type=kind,
                priority=draw(st.integers(0, 2)),
                rule=draw(rules(max_leaves=3)),
                is_overlay=draw(st.booleans()) and draw(st.booleans()),
                credit_percent=draw(st.sampled_from([10, 25, 50])),
                named_account_ids=frozenset(draw(st.sets(st.integers(1, 5), max_size=3))),
                status=draw(st.sampled_from(["active", "active", "active", "active", "draft", "inactive"])),
            )
        )
    return PlanSpec(version=draw(st.integers(1, 9)), territories=tuple(territories))
