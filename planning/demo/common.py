"""Shared pieces of the demo seed: constants, the report, the rule and territory shapes it
writes, row streaming and small helpers."""

from __future__ import annotations

import datetime as dt
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from django.db import connection, models

from planning.models import FiscalPeriod, FiscalYear
from routing.engine import FIELDS, PlanIndex, PlanSpec, TerritorySpec, vector
from routing.engine.fields import NUMBER_TYPES
from salesos.models import Opportunity, SalesProfile
from territories.models import RepAssignment, Territory, TerritoryPlan

DEMO_EMAIL_DOMAIN = "salesos.example"
BATCH = 2000

# Share of accounts per country. Mexico has no territory on purpose: its accounts land in the
# unassigned queue (and show up as white space on the map).
COUNTRY_SHARES = {
    "US": 0.70, "CA": 0.04, "BR": 0.025, "MX": 0.003,
    "GB": 0.06, "DE": 0.04, "FR": 0.03, "NL": 0.015, "ES": 0.015,
    "JP": 0.025, "AU": 0.02, "SG": 0.007, "IN": 0.02,
}
COUNTRY_REGION = {
    "US": "AMER", "CA": "AMER", "BR": "AMER", "MX": "AMER",
    "GB": "EMEA", "IE": "EMEA", "DE": "EMEA", "AT": "EMEA", "CH": "EMEA", "FR": "EMEA", "NL": "EMEA",
    "BE": "EMEA", "LU": "EMEA", "ES": "EMEA", "PT": "EMEA",
    "JP": "APAC", "AU": "APAC", "NZ": "APAC", "SG": "APAC", "IN": "APAC",
}
COUNTRY_NAMES = {"CA": "Canada", "BR": "Brazil", "GB": "UK", "DE": "Germany", "JP": "Japan"}
REGION_NAMES = {"AMER": "Americas", "EMEA": "EMEA", "APAC": "APAC"}

# The US areas, each an ordered walk across neighbouring states so that contiguous groups of the
# list are compact on the map.
US_AREAS = {
    "USW": ("US West", ["US-HI", "US-AK", "US-WA", "US-OR", "US-ID", "US-MT", "US-WY", "US-UT", "US-CO",
                        "US-NM", "US-AZ", "US-NV", "US-CA"]),
    "USC": ("US Central", ["US-ND", "US-SD", "US-NE", "US-KS", "US-OK", "US-TX", "US-LA", "US-AR", "US-MO",
                           "US-IA", "US-MN", "US-WI", "US-IL", "US-IN", "US-MI"]),
    "USE": ("US East", ["US-OH", "US-KY", "US-TN", "US-MS", "US-AL", "US-GA", "US-FL", "US-SC", "US-NC",
                        "US-VA", "US-WV", "US-DC", "US-MD", "US-DE", "US-PA", "US-NJ", "US-NY", "US-CT",
                        "US-RI", "US-MA", "US-VT", "US-NH", "US-ME"]),
}
US_STATES = [s for _, states in US_AREAS.values() for s in states]
US_GEO_LEAVES = 38

# Non-US areas: (code, name, region, countries, leaves). A leaf is ("metros", country, k, rest
# countries, rest name) to split a country by metro into k leaves, or ("countries", code suffix,
# name, countries, vacant).
OTHER_AREAS: list[tuple[str, str, str, list[str], list[tuple[Any, ...]]]] = [
    ("CALA", "Canada & LATAM", "AMER", ["CA", "BR"], [
        ("metros", "CA", 2, ["CA"], "Canada – Regional"),
        ("countries", "BR", "Brazil", ["BR"], True),
    ]),
    ("UKI", "UK & Ireland", "EMEA", ["GB", "IE"], [
        ("metros", "GB", 3, ["GB", "IE"], "UK Regions & Ireland"),
    ]),
    ("DACH", "DACH", "EMEA", ["DE", "AT", "CH"], [
        ("metros", "DE", 2, ["DE", "AT", "CH"], "Germany Regional, Austria & Switzerland"),
    ]),
    ("SEB", "Southern Europe & Benelux", "EMEA", ["FR", "ES", "PT", "NL", "BE", "LU"], [
        ("countries", "FR", "France", ["FR"], False),
        ("countries", "IB", "Iberia", ["ES", "PT"], False),
        ("countries", "BNL", "Benelux", ["NL", "BE", "LU"], False),
    ]),
    ("APJ", "APAC", "APAC", ["JP", "AU", "NZ", "SG", "IN"], [
        ("metros", "JP", 2, ["JP"], "Japan – Regional"),
        ("countries", "ANZ", "Australia & New Zealand", ["AU", "NZ"], False),
        ("countries", "SEA", "Singapore & Southeast Asia", ["SG"], False),
        ("countries", "IN", "India", ["IN"], True),
    ]),
]
AREA_REGION = {"USW": "AMER", "USC": "AMER", "USE": "AMER", **{a[0]: a[2] for a in OTHER_AREAS}}

# Sector weights for NAICS subsectors (fewer mines, more services, software, health, manufacturing).
SECTOR_WEIGHTS = {
    "11": 0.8, "21": 0.4, "22": 0.8, "23": 6, "31": 3.5, "32": 4, "33": 6.5, "42": 5, "44": 4.5,
    "45": 3, "48": 3, "49": 1.2, "51": 9, "52": 8, "53": 3, "54": 14, "55": 1, "56": 3, "61": 3,
    "62": 9, "71": 1.2, "72": 2.5, "81": 2, "92": 2,
}
SUBSECTOR_BOOST = {"513": 3.0, "518": 2.5, "522": 1.5, "524": 1.5, "621": 1.5, "622": 1.5}
# Revenue per employee relative to the median, by sector.
SECTOR_REVENUE = {"42": 2.2, "52": 1.8, "51": 1.5, "22": 1.8, "21": 2.0, "32": 1.6, "44": 0.8, "45": 0.8,
                  "72": 0.4, "62": 0.7, "61": 0.6, "92": 0.7, "56": 0.6, "81": 0.6}

STAGES = [s.value for s in Opportunity.Stage]
OPEN_STAGES = STAGES[:5]
STAGE_PROBABILITY = {"prospecting": 10, "qualification": 20, "discovery": 40, "proposal": 60,
                     "negotiation": 80, "closed_won": 100, "closed_lost": 0}
# Geographic specificity per DESIGN.md (postal 5 … country 1).
class SeedError(Exception):
    """The seed cannot run (data already there, reference data unavailable...)."""


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)
    reference_seconds: float | None = None
    seconds: float = 0.0


class _Clock:
    def __init__(self, report: SeedReport, log: Callable[[str], None] | None):
        self.report = report
        self.log = log

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        took = time.perf_counter() - started
        self.report.timings.append((name, took))
        if self.log:
            self.log(f"  {name:<28} {took:6.2f} s")


# --------------------------------------------------------------------------------------------
# Rules


@dataclass
class _Terr:
    code: str
    name: str
    type: str
    parent: str | None
    rule: dict
    priority: int = 0
    is_overlay: bool = False
    credit_percent: int = 100
    description: str = ""
    staff: str = ""  # "director:AMER", "manager:USW", "rep", "vacant", "overlay", "admin"
    leaf: bool = False
    named: np.ndarray | None = None  # account indices of a named-account list


@dataclass
class _Routing:
    primary: np.ndarray  # territory index per record, -1 = unassigned
    conflicts: int  # records whose winner was decided by the last tie-break


def _preroute(terrs: list[_Terr], cols: dict[str, np.ndarray], n: int, *, use_named: bool) -> _Routing:
    """Where the production engine puts n generated records, before anything is stored: the
    vectorised router that ``routing.batch`` runs (``routing.engine.vector``), on a plan built from
    the designed territories (territory i has id i + 1 here, record j id j + 1). The org is staffed
    from it (homes, the demo rep's territory, quotas); the stored routing rows are written later by
    ``routing.batch`` itself, and ``accounts.AccountSteps.route_accounts`` checks that both agree."""
    index = {t.code: i for i, t in enumerate(terrs)}
    specs = tuple(
        TerritorySpec(
            id=i + 1, code=t.code, parent_id=index[t.parent] + 1 if t.parent else None, type=t.type,
            priority=t.priority, rule=t.rule, is_overlay=t.is_overlay, credit_percent=t.credit_percent,
            named_account_ids=frozenset((t.named + 1).tolist()) if use_named and t.named is not None else frozenset(),
        )
        for i, t in enumerate(terrs)
    )
    compiled = PlanIndex.build(PlanSpec(version=0, territories=specs))
    columns = vector.Columns(ids=np.arange(1, n + 1, dtype=np.int64), locks=np.zeros(n, dtype=np.int64))
    for name in sorted(vector.fields_read(compiled)):
        kind = FIELDS[name].type
        if kind in NUMBER_TYPES:
            columns.numbers[name] = vector.NumberColumn.from_values(cols[name].tolist(), vector.money_scale(kind))
        else:
            columns.text[name] = vector.TextColumn.from_values(cols[name].tolist())
    routed = vector.route(vector.for_plan(compiled), columns)
    return _Routing(primary=routed.winner - 1, conflicts=int(routed.conflict.sum()))


# --------------------------------------------------------------------------------------------
# Helpers


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _counts_by(values: np.ndarray) -> Counter:
    keys, counts = np.unique(values, return_counts=True)
    return Counter(dict(zip(keys.tolist(), counts.tolist(), strict=True)))

def _timestamps(values: np.ndarray) -> list[str]:
    """UTC datetimes as the database stores them: naive UTC text on SQLite, with an offset for
    PostgreSQL (timestamptz)."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
    suffix = "+00:00" if connection.vendor == "postgresql" else ""
    return [f"{t[:10]} {t[11:]}{suffix}" for t in text.tolist()]


def _nullable(ids: np.ndarray) -> list[int | None]:
    return [i or None for i in ids.tolist()]


def _stream_rows(
    model: type[models.Model],
    columns: dict[str, Any],
    *,
    count: int | None = None,
    optional: frozenset[str] = frozenset(),
) -> None:
    """Insert rows given as columns (lists, numpy arrays or one scalar for every row), every
    concrete field but an auto id present. PostgreSQL gets COPY; other databases executemany.
    This skips Model instances entirely, which is where bulk_create spends its time at 100k rows;
    values must already be in their database form (see _timestamps). Columns named in
    ``optional`` are dropped when the model does not have them."""
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in columns)]
    unknown = set(columns) - {f.attname for f in fields}
    if unknown - optional:
        raise AssertionError(f"{model.__name__}: unknown columns {sorted(unknown)}")
    columns = {name: value for name, value in columns.items() if name not in unknown}
    for f in fields:
        # Columns added to the model later take their default, as bulk_create would give them.
        if f.attname not in columns:
            if not (f.has_default() or f.null or f.empty_strings_allowed):
                raise AssertionError(f"{model.__name__}.{f.attname} needs a value")
            columns[f.attname] = f.get_db_prep_save(f.get_default(), connection)
    if count is None:
        count = next(len(v) for v in columns.values() if isinstance(v, list | np.ndarray))
    data = []
    for f in fields:
        value = columns[f.attname]
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif not isinstance(value, list):
            value = [value] * count
        if len(value) != count:
            raise AssertionError(f"{model.__name__}.{f.attname}: {len(value)} values for {count} rows")
        data.append(value)
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    # Concrete fields always have a column; the stubs type it Optional for the non-concrete ones.
    column_sql = ", ".join(qn(cast(str, f.column)) for f in fields)
    rows = zip(*data, strict=True)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql":
            with raw.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            raw.executemany(f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})", rows)
    if "id" in columns and connection.vendor == "postgresql":
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
                cursor.execute(sql)


def _linear_partition(loads: list[int], k: int, valid: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Split loads[0:n] into k contiguous non-empty segments [i, j) minimising the largest sum,
    allowing only segments for which valid(i, j) holds."""
    n = len(loads)
    prefix = [0]
    for v in loads:
        prefix.append(prefix[-1] + v)
    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(k + 1)]
    cut = [[0] * (n + 1) for _ in range(k + 1)]
    best[0][0] = 0
    for g in range(1, k + 1):
        for j in range(g, n + 1):
            for i in range(g - 1, j):
                if best[g - 1][i] == inf or not valid(i, j):
                    continue
                cost = max(best[g - 1][i], prefix[j] - prefix[i])
                if cost < best[g][j]:
                    best[g][j] = cost
                    cut[g][j] = i
    if best[k][n] == inf:
        raise AssertionError("no valid partition")
    segments = []
    j = n
    for g in range(k, 0, -1):
        i = cut[g][j]
        segments.append((i, j))
        j = i
    return segments[::-1]


def _name_list(names: list[str], limit: int = 3) -> str:
    if len(names) <= 1:
        return "".join(names)
    if len(names) <= limit:
        return ", ".join(names[:-1]) + " & " + names[-1]
    return f"{', '.join(names[:2])} & {len(names) - 2} more"


def _largest_remainder(weights: Mapping[str, float], total: int, minimum: int = 1) -> dict[str, int]:
    keys = sorted(weights)
    s = sum(weights.values()) or 1.0
    raw = {k: max(minimum, weights[k] / s * total) for k in keys}
    out = {k: int(math.floor(raw[k])) for k in keys}
    left = total - sum(out.values())
    for k in sorted(keys, key=lambda k: (-(raw[k] - out[k]), k))[: max(0, left)]:
        out[k] += 1
    return out



class _SeederBase:
    """What the seeder's steps share: the inputs, the random streams and what each step leaves for
    the next (the steps live in ``org``, ``accounts``, ``plan`` and ``deals``)."""

    # Set by the steps, in the order ``seed.Seeder.run`` calls them.
    acc: dict[str, Any]
    acc_age_days: np.ndarray
    acc_created: np.ndarray
    acc_ids: np.ndarray
    acc_owner_id: np.ndarray
    acc_status: np.ndarray
    acc_territory_id: np.ndarray
    admin: Any
    assignments: list[RepAssignment]
    covering: dict[int, Any]
    current_fy: FiscalYear
    current_quarters: list[FiscalPeriod]
    depth: dict[str, int]
    effective_dt: dt.datetime
    fiscal_years: list[FiscalYear]
    ind_code: np.ndarray
    ind_id: np.ndarray
    ind_p: np.ndarray
    metros: dict[str, dict[str, np.ndarray]]
    owner_of: dict[int, Any]
    periods: list[FiscalPeriod]
    plan: TerritoryPlan
    previous_fy: FiscalYear
    profile_by_user: dict[int, SalesProfile]
    profiles: list[SalesProfile]
    ramping_keys: list[str]
    routing: _Routing
    seats: list[dict[str, Any]]
    state_names: Any
    terr_ids: np.ndarray
    territory_objs: list[Territory]
    terrs: list[_Terr]
    user_by_key: dict[str, Any]
    users: list[Any]
    zip_city: np.ndarray
    zip_code: np.ndarray
    zip_lat: np.ndarray
    zip_lon: np.ndarray
    zip_state: np.ndarray
    _near_zips: dict[int, tuple[np.ndarray, bool]]


    def __init__(self, *, accounts: int, seed: int, anchor: dt.date, clock: _Clock, report: SeedReport):
        self.n = accounts
        self.seed = seed
        self.anchor = anchor
        self.anchor_dt = dt.datetime.combine(anchor, dt.time(0), tzinfo=dt.UTC)
        self.clock = clock
        self.report = report
        streams = np.random.SeedSequence(seed).spawn(8)
        self.rng_acc, self.rng_org, self.rng_opp, self.rng_act, self.rng_lead, self.rng_misc = (
            np.random.default_rng(s) for s in streams[:6]
        )

    # -- orchestration --------------------------------------------------------------------------
