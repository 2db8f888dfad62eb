"""The benchmark's synthetic world: a plan of about M territories (regions > countries > states >
postal, hybrid, size and overlay children; root size bands; named-account lists) with dated
primaries, N accounts generated to fall inside it (3 % outside every territory), and the rule
edit the changed-territory re-route measures.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from routing import services
from routing.engine import condition
from salesos.models import Account
from territories.models import RepAssignment, Territory, TerritoryPlan

from .marks import BENCH_DOMAIN, BENCH_PLAN

REGIONS = ("AMER", "EMEA", "APAC")
SECTORS = ("11", "21", "22", "23", "31", "42", "44", "48", "51", "52", "53", "54", "56", "61", "62", "71")
METROS = ("", "", "", "Metro A", "Metro B", "Metro C")


# --- the plan --------------------------------------------------------------------------------


@dataclass
class Shape:
    """What the synthetic plan covers, so accounts can be generated to match it."""

    countries: list[str]
    states_per_country: int
    territory_ids: list[int] = field(default_factory=list)
    leaf_ids: list[int] = field(default_factory=list)  # postal territories (the "changed" one)


def _shape(territories: int) -> tuple[int, int, int, int]:
    """(countries, states per country, named lists, root size bands) for about M territories."""
    bands = 20 if territories >= 400 else 4
    named = max(1, territories // 20)
    left = max(17, territories - 3 - bands - named)
    states = 20 if left >= 20 * 161 else max(1, min(20, (left - 1) // (8 * 3)))
    countries = max(1, left // (1 + 8 * states))
    return countries, states, named, bands


def shape_for(territories: int) -> Shape:
    """The countries and states a plan of about ``territories`` territories covers."""
    n_countries, n_states, _, _ = _shape(territories)
    letters = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXY" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    return Shape(countries=letters[:n_countries], states_per_country=n_states)


def build_plan(*, territories: int, seed: int, account_ids: list[int], users: list[int]) -> tuple[TerritoryPlan, Shape]:
    rng = random.Random(seed)
    _, _, n_named, n_bands = _shape(territories)
    shape = shape_for(territories)
    plan = TerritoryPlan.objects.create(
        name=BENCH_PLAN, status=TerritoryPlan.Status.ACTIVE, effective_date=timezone.localdate(),
        description="Synthetic plan made by manage.py bench_routing",
    )
    seq = iter(range(1, 10**9))

    def level(rows: list[dict]) -> list[Territory]:
        made = [
            Territory(plan=plan, code=row.pop("code", None) or f"B{next(seq):06d}", name=row.pop("name", "Bench"),
                      **row)
            for row in rows
        ]
        return Territory.objects.bulk_create(made, batch_size=2000)

    regions = level([{"code": r, "name": r, "rule": condition("region", "eq", r)} for r in REGIONS])
    country_rows = [
        {"code": c, "name": f"Country {c}", "parent": regions[i % 3], "rule": condition("country", "eq", c),
         "priority": 1}
        for i, c in enumerate(shape.countries)
    ]
    countries = level(country_rows)
    states = level([
        {"code": f"{c.code}-{s:02d}", "name": f"State {c.code}-{s:02d}", "parent": c,
         "rule": condition("state", "eq", f"{c.code}-{s:02d}"), "priority": 1}
        for c in countries for s in range(shape.states_per_country)
    ])
    children: list[dict] = []
    for st in states:
        s = int(st.code[-2:])
        for p in range(3):  # postal sectors, one with a size floor
            rule: dict = condition("postal_code", "prefix", [f"{s:02d}{p}", f"{s:02d}{p + 5}"])
            if p == 2:
                rule = {"all": [rule, condition("employees", "gte", 50)]}
            children.append({"parent": st, "rule": rule, "priority": 2, "name": f"{st.code} postal {p}"})
        for h in range(2):  # hybrid industry x size
            children.append({"parent": st, "type": Territory.Type.HYBRID, "priority": rng.randint(0, 3),
                             "name": f"{st.code} hybrid {h}", "rule": {"all": [
                                 condition("industry", "in", rng.sample(SECTORS, 3)),
                                 condition("employees", "between", [100, 100_000])]}})
        children.append({"parent": st, "type": Territory.Type.SIZE, "name": f"{st.code} enterprise",
                         "rule": {"any": [condition("employees", "gte", 5000),
                                          condition("annual_revenue", "gt", 1_000_000_000)]}})
        children.append({"parent": st, "type": Territory.Type.INDUSTRY, "is_overlay": True,
                         "name": f"{st.code} specialist", "credit_percent": rng.choice((10, 20, 50)),
                         "rule": condition("industry", "in", [rng.choice(SECTORS)])})
    leaves = level(children)
    shape.leaf_ids = [t.pk for t in leaves if t.type == Territory.Type.GEOGRAPHIC]
    bands = level([
        {"code": f"BAND-{b:02d}", "name": f"Size band {b}", "type": Territory.Type.SIZE, "priority": -1,
         "rule": condition("employees", "between", [b * 1000, b * 1000 + 999])}
        for b in range(n_bands)
    ])
    made = len(regions) + len(countries) + len(states) + len(leaves) + len(bands)
    named = level([
        {"code": f"NAMED-{i:05d}", "name": f"Named list {i}", "type": Territory.Type.NAMED_ACCOUNT, "priority": 5}
        for i in range(max(n_named, territories - made))
    ])
    through = Territory.named_accounts.through
    pool = account_ids if len(account_ids) >= 20 else account_ids * 20
    through.objects.bulk_create(
        [through(territory_id=t.pk, account_id=a) for t in named for a in set(rng.sample(pool, min(20, len(pool))))],
        batch_size=5000,
    )
    every = regions + countries + states + leaves + bands + named
    shape.territory_ids = [t.pk for t in every]
    today = timezone.localdate()
    RepAssignment.objects.bulk_create(
        [RepAssignment(territory=t, user_id=users[i % len(users)], slot=RepAssignment.Slot.PRIMARY, start_date=today)
         for i, t in enumerate(every) if not t.is_overlay],
        batch_size=5000,
    )
    return plan, shape


# --- the accounts ----------------------------------------------------------------------------

# The account columns the generator fills, in the order of its rows (the COPY column list).
_GENERATED_COLUMNS = (
    "name", "domain", "status", "country", "region", "state", "city", "metro", "postal_code", "industry_code",
    "employees", "annual_revenue", "created_at", "updated_at", "contact_name", "contact_email",
)


def _account_rows(n: int, shape: Shape, seed: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    now = timezone.now()
    countries = shape.countries
    for i in range(n):
        if rng.random() < 0.03:  # outside every territory: the unassigned queue
            country, region, state, s = "ZZ", "", "", rng.randrange(100)
        else:
            c = rng.randrange(len(countries))
            country, region = countries[c], REGIONS[c % 3]
            s = rng.randrange(shape.states_per_country)
            state = f"{country}-{s:02d}"
        employees = None if rng.random() < 0.1 else int(rng.lognormvariate(4.5, 1.6))
        revenue = None if rng.random() < 0.2 else Decimal(int(rng.lognormvariate(16, 2.2))).quantize(Decimal("0.01"))
        yield (
            f"Bench account {i}", f"a{i}{BENCH_DOMAIN}", "prospect", country, region, state,
            "", rng.choice(METROS), f"{s % 100:02d}{rng.randrange(1000):03d}",
            rng.choice(SECTORS) + str(rng.randrange(10, 9999)), employees, revenue, now, now, "", "",
        )


def _default_columns() -> dict[str, Any]:
    """The other NOT NULL account columns at their model defaults: COPY bypasses Django, so a
    column added to Account later (say a contact e-mail) must still get its value."""
    return {
        str(f.column): f.get_default()
        for f in Account._meta.concrete_fields
        if not f.primary_key and not f.null and f.column not in _GENERATED_COLUMNS
    }


def insert_accounts(n: int, shape: Shape, seed: int) -> None:
    rows = _account_rows(n, shape, seed)
    if connection.vendor == "postgresql":
        defaults = _default_columns()
        columns = (*_GENERATED_COLUMNS, *defaults)
        extra = tuple(defaults.values())
        with connection.cursor() as cursor:
            sql = f"COPY {Account._meta.db_table} ({', '.join(columns)}) FROM STDIN"
            with cursor.connection.cursor().copy(sql) as copy:
                for row in rows:
                    copy.write_row((*row, *extra))
        return
    batch_rows: list[Account] = []
    for row in rows:
        batch_rows.append(Account(**dict(zip(_GENERATED_COLUMNS, row, strict=True))))
        if len(batch_rows) == 5000:
            Account.objects.bulk_create(batch_rows)
            batch_rows = []
    Account.objects.bulk_create(batch_rows)


def change_one_rule(plan: TerritoryPlan, shape: Shape, seed: int) -> Territory:
    """Moves one postal territory to other prefixes (what an admin editing a rule does)."""
    rng = random.Random(seed)
    territory = Territory.objects.get(pk=rng.choice(shape.leaf_ids))
    prefixes = territory.rule["value"] if "value" in territory.rule else territory.rule["all"][0]["value"]
    state = prefixes[0][:2]
    new = [f"{state}{d}" for d in (3, 4, 8, 9) if f"{state}{d}" not in prefixes][:2]
    Territory.objects.filter(pk=territory.pk).update(rule=condition("postal_code", "prefix", new))
    services.plan_touch(plan=plan)
    return territory
