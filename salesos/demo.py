"""The demo company: a realistic, reproducible data set for SalesOS (``manage.py seed_demo``).

Everything is derived from two inputs, the seed and an anchor date ("today" for the data set):
the same ``accounts``, ``seed`` and ``anchor`` give the same records on any database. All
randomness comes from ``numpy.random.Generator`` streams spawned from the seed, and every date is
an offset from the anchor, never from the clock.

What gets built, in order:

* the sales org: an admin, three regional directors (top of the org chart: ``manager`` is None),
  eight area managers reporting to them, ~58 account executives and three solutions engineers
  reporting to the managers; ramping new hires, one rep on leave today with a backup;
* fiscal years (the previous and the current one, February to January, four quarters each);
* accounts (vectorised with numpy): real US cities and ZIP codes, metros elsewhere, NAICS
  subsectors, log-normal company sizes, revenue and potential;
* the active "FYxxxx Territory Plan": Global -> regions -> areas -> leaf territories, drawn from
  the generated accounts so that leaves are balanced by account count;
* routing: the accounts are routed by the production full re-route (``routing.batch.plan_reroute``)
  once accounts, territories and assignments are stored, so the AccountTerritory rows and their
  shared ``RoutingDecision`` rows are the ones production writes (an account's territory is its
  current primary row, its owner that territory's owner: ``routing.placement``). The org is
  staffed before that from a pre-route of the generated records by the same vectorised engine the
  batch runs (``routing.engine.vector``, see ``_preroute``); the seed refuses to finish if the two
  disagree. Routed leads carry the lead router's decision (the compiled plan's ``resolve``);
* opportunities, activities, leads and quotas.

Speed: attributes are generated column-wise with numpy, and the big tables (accounts,
opportunities, activities) are streamed without Model instances: COPY on PostgreSQL, executemany
elsewhere (``_stream_rows``); the batch streams the routing rows its own way. Accounts get explicit
ids (continuing after the table's largest id; the PostgreSQL sequence is reset afterwards) so that the rows referencing
them can be built in the same pass. 100,000 accounts take ~8 s on SQLite and ~12 s on PostgreSQL.
"""

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
from decimal import Decimal
from typing import Any, cast

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from planning.models import FiscalPeriod, FiscalYear, Quota
from routing import batch, placement
from routing.engine import FIELDS, CompiledPlan, PlanSpec, TerritorySpec, vector
from routing.engine.fields import NUMBER_TYPES
from routing.models import AccountTerritory, RoutingDecision
from routing.services import compiled_plan, compiled_plan_forget
from salesos import demo_names as words
from salesos.models import Account, Activity, GeoArea, Industry, Lead, Leave, Opportunity, SalesProfile
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()

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
# Public API


def demo_data_exists() -> bool:
    return (
        Account.objects.exists()
        or TerritoryPlan.objects.exists()
        or FiscalYear.objects.exists()
        or User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").exists()
    )


@transaction.atomic
def reset_demo_data() -> None:
    """Delete what the seed creates: the business data (accounts, leads, deals, activities), the
    territory plans and fiscal calendar, and the demo users. Reference data stays. Children go
    first so that the big tables are single fast DELETEs rather than collected cascades."""
    for model in (Activity, Opportunity, AccountTerritory, RoutingDecision, Lead):
        _wipe(model)
    Quota.objects.all().delete()
    Territory.named_accounts.through.objects.all().delete()
    RepAssignment.objects.all().delete()
    _wipe(Account)
    Territory.objects.all().delete()
    TerritoryPlan.objects.all().delete()
    FiscalPeriod.objects.all().delete()
    FiscalYear.objects.all().delete()
    demo_users = User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
    Leave.objects.filter(user__in=demo_users).delete()
    SalesProfile.objects.filter(user__in=demo_users).delete()
    demo_users.delete()


def _wipe(model: type[models.Model]) -> None:
    """Empty a big table with one DELETE when nothing can observe it: no delete signals and no
    rows elsewhere pointing at it (their tables were emptied first). Otherwise, for tables that
    other modules may reference, fall back to Django's collector, which cascades properly."""
    from django.db.models.signals import post_delete, pre_delete

    queryset = model._default_manager.all()
    referenced = any(
        rel.related_model._default_manager.filter(**{f"{rel.field.name}__isnull": False}).exists()
        for rel in model._meta.related_objects
    )
    if referenced or pre_delete.has_listeners(model) or post_delete.has_listeners(model):
        queryset.delete()
    else:
        queryset._raw_delete(queryset.db)


def ensure_reference_data(log: Callable[[str], None] | None = None) -> float | None:
    """Load the reference data if it is missing; return the seconds it took (None if present)."""
    postal = GeoArea.objects.filter(level=GeoArea.Level.POSTAL).exists()
    naics = Industry.objects.filter(scheme=Industry.Scheme.NAICS, level=2).exists()
    if postal and naics:
        return None
    try:
        from salesos.reference import load_reference
    except ImportError as exc:  # pragma: no cover - the module ships with the app
        raise SeedError("Reference data is missing and salesos.reference is unavailable.") from exc
    started = time.perf_counter()
    load_reference()
    took = time.perf_counter() - started
    if log:
        log(f"Reference data loaded in {took:.1f} s")
    return took


def seed_demo(
    *,
    accounts: int = 20000,
    seed: int = 42,
    anchor: dt.date | None = None,
    log: Callable[[str], None] | None = None,
) -> SeedReport:
    """Create the demo company. Refuses (SeedError) when data exists; see ``reset_demo_data``."""
    if accounts < 100:
        raise SeedError("Seed at least 100 accounts (the territory plan needs some data to balance).")
    anchor = anchor or timezone.localdate()
    report = SeedReport()
    report.reference_seconds = ensure_reference_data(log)
    if demo_data_exists():
        raise SeedError("Demo data already exists; reset it first (seed_demo --reset).")
    seed_started = time.perf_counter()
    with transaction.atomic():
        clock = _Clock(report, log)
        _Seeder(accounts=accounts, seed=seed, anchor=anchor, clock=clock, report=report).run()
        # Visibility is materialised from assignments and the org chart (territories.grants).
        from territories.grants import grants_rebuild

        with clock.phase("permission grants"):
            grants_rebuild()
    report.seconds = time.perf_counter() - seed_started
    return report


# --------------------------------------------------------------------------------------------
# Rules


def _cond(field_name: str, op: str, value: Any) -> dict:
    return {"field": field_name, "op": op, "value": value}


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
    ``routing.batch`` itself, and ``_Seeder.route_accounts`` checks that both agree."""
    index = {t.code: i for i, t in enumerate(terrs)}
    specs = tuple(
        TerritorySpec(
            id=i + 1, code=t.code, parent_id=index[t.parent] + 1 if t.parent else None, type=t.type,
            priority=t.priority, rule=t.rule, is_overlay=t.is_overlay, credit_percent=t.credit_percent,
            named_account_ids=frozenset((t.named + 1).tolist()) if use_named and t.named is not None else frozenset(),
        )
        for i, t in enumerate(terrs)
    )
    compiled = CompiledPlan.build(PlanSpec(version=0, territories=specs))
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


# --------------------------------------------------------------------------------------------
# The seeder


class _Seeder:
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
    def run(self) -> None:
        with self.clock.phase("load reference arrays"):
            self.load_reference_arrays()
        with self.clock.phase("fiscal calendar"):
            self.create_fiscal_calendar()
        with self.clock.phase("generate accounts"):
            self.acc = self.generate_companies(self.rng_acc, self.n)
        with self.clock.phase("design territories"):
            self.design_territories()
        with self.clock.phase("pre-route accounts"):
            self.routing = _preroute(self.terrs, self.acc["cols"], self.n, use_named=True)
        with self.clock.phase("sales org"):
            self.create_org()
        with self.clock.phase("plan and territories"):
            self.create_plan()
        with self.clock.phase("insert accounts"):
            self.insert_accounts()
        with self.clock.phase("route accounts (batch)"):
            self.route_accounts()
        with self.clock.phase("opportunities"):
            self.create_opportunities()
        with self.clock.phase("activities"):
            self.create_activities()
        with self.clock.phase("leads"):
            self.create_leads()
        with self.clock.phase("quotas"):
            self.create_quotas()

    # -- reference data ----------------------------------------------------------------------
    def load_reference_arrays(self) -> None:
        countries = sorted(COUNTRY_SHARES)
        metros = list(
            GeoArea.objects.filter(level=GeoArea.Level.METRO, country__in=countries, population__isnull=False,
                                   centroid_lat__isnull=False)
            .order_by("code")
            .values_list("code", "name", "country", "parent__level", "parent__code", "centroid_lat",
                         "centroid_lon", "population")
        )
        self.metros: dict[str, dict[str, np.ndarray]] = {}
        for country in countries:
            rows = [m for m in metros if m[2] == country]
            if country == "US":
                rows = [m for m in rows if m[3] == GeoArea.Level.STATE and m[4] in US_STATES]
            if not rows:
                continue
            self.metros[country] = {
                "code": np.array([r[0] for r in rows], dtype=object),
                "name": np.array([r[1] for r in rows], dtype=object),
                "state": np.array([r[4] if r[3] == GeoArea.Level.STATE else "" for r in rows], dtype=object),
                "lat": np.array([r[5] for r in rows], dtype=float),
                "lon": np.array([r[6] for r in rows], dtype=float),
                "pop": np.array([r[7] for r in rows], dtype=float),
            }
        if "US" not in self.metros:
            raise SeedError("No US metros in the reference data.")
        zips = list(
            GeoArea.objects.filter(level=GeoArea.Level.POSTAL, country="US", parent__code__in=US_STATES,
                                   centroid_lat__isnull=False)
            .order_by("code")
            .values_list("code", "name", "parent__code", "centroid_lat", "centroid_lon")
        )
        if not zips:
            raise SeedError("No US postal codes in the reference data.")
        self.zip_code = np.array([z[0].split("-", 1)[1] for z in zips], dtype=object)
        self.zip_city = np.array([z[1] for z in zips], dtype=object)
        self.zip_state = np.array([z[2] for z in zips], dtype=object)
        self.zip_lat = np.array([z[3] for z in zips], dtype=float)
        self.zip_lon = np.array([z[4] for z in zips], dtype=float)
        self.state_names = dict(
            GeoArea.objects.filter(level=GeoArea.Level.STATE, country="US").values_list("code", "name")
        )
        industries = list(
            Industry.objects.filter(scheme=Industry.Scheme.NAICS, level=2).order_by("code").values_list("code", "id")
        )
        if not industries:
            raise SeedError("No NAICS subsectors in the reference data.")
        self.ind_code = np.array([c for c, _ in industries], dtype=object)
        self.ind_id = np.array([i for _, i in industries], dtype=np.int64)
        sector = [c[:2] for c, _ in industries]
        per_sector = Counter(sector)
        weights = np.array(
            [SECTOR_WEIGHTS.get(s, 1.0) / per_sector[s] * SUBSECTOR_BOOST.get(c, 1.0)
             for (c, _), s in zip(industries, sector, strict=True)]
        )
        self.ind_p = weights / weights.sum()
        self._near_zips: dict[int, tuple[np.ndarray, bool]] = {}

    def near_zips(self, m: int) -> tuple[np.ndarray, bool]:
        """ZIPs within 40 km of US metro m (or the metro's state's 25 nearest when none are)."""
        if m not in self._near_zips:
            us = self.metros["US"]
            lat, lon = us["lat"][m], us["lon"][m]
            dy = (self.zip_lat - lat) * 110.57
            dx = (self.zip_lon - lon) * 111.32 * math.cos(math.radians(lat))
            dist = np.hypot(dx, dy)
            near = np.nonzero(dist <= 40.0)[0]
            within_metro = True
            if len(near) == 0:
                same_state = np.nonzero(self.zip_state == us["state"][m])[0]
                near = same_state[np.argsort(dist[same_state], kind="stable")[:25]]
                within_metro = bool(len(near)) and bool(dist[near].min() <= 50.0)
            self._near_zips[m] = (near, within_metro)
        return self._near_zips[m]

    # -- fiscal calendar -----------------------------------------------------------------------
    def create_fiscal_calendar(self) -> None:
        a = self.anchor
        end_year = a.year + 1 if a.month >= 2 else a.year  # FY2027 = Feb 2026 .. Jan 2027
        self.fiscal_years = []
        periods = []
        for year in (end_year - 1, end_year):
            start = dt.date(year - 1, 2, 1)
            fy = FiscalYear.objects.create(name=f"FY{year}", start_date=start, end_date=dt.date(year, 1, 31))
            self.fiscal_years.append(fy)
            for q in range(4):
                m = 2 + 3 * q
                q_start = dt.date(start.year + (m - 1) // 12, (m - 1) % 12 + 1, 1)
                m_end = m + 3
                q_end = dt.date(start.year + (m_end - 1) // 12, (m_end - 1) % 12 + 1, 1) - dt.timedelta(days=1)
                periods.append(FiscalPeriod(fiscal_year=fy, kind=FiscalPeriod.Kind.QUARTER, name=f"Q{q + 1}",
                                            start_date=q_start, end_date=q_end))
        self.periods = FiscalPeriod.objects.bulk_create(periods)
        self.current_fy = self.fiscal_years[1]
        self.previous_fy = self.fiscal_years[0]
        self.current_quarters = [p for p in self.periods if p.fiscal_year_id == self.current_fy.pk]
        self.report.counts["fiscal years"] = 2
        self.report.counts["fiscal periods"] = len(self.periods)

    # -- companies (accounts and leads) ------------------------------------------------------
    def generate_companies(self, rng: np.random.Generator, n: int) -> dict[str, Any]:
        """n companies with every routable attribute (accounts, and leads' companies)."""
        shares = {c: s for c, s in COUNTRY_SHARES.items() if c in self.metros}
        counts = {c: int(math.floor(s * n)) for c, s in shares.items()}
        if "MX" in counts:
            counts["MX"] = max(counts["MX"], 3)  # always a few records no territory covers
        counts["US"] += n - sum(counts.values())
        country = rng.permutation(np.repeat(np.array(sorted(counts), dtype=object),
                                            [counts[c] for c in sorted(counts)]))
        state = np.full(n, "", dtype=object)
        city = np.full(n, "", dtype=object)
        metro = np.full(n, "", dtype=object)
        postal = np.full(n, "", dtype=object)
        lat = np.zeros(n)
        lon = np.zeros(n)
        for c in sorted(counts):
            rows = np.nonzero(country == c)[0]
            if not len(rows):
                continue
            ms = self.metros[c]
            pick = rng.choice(len(ms["code"]), size=len(rows), p=ms["pop"] / ms["pop"].sum())
            if c != "US":
                state[rows] = ms["state"][pick]
                city[rows] = ms["name"][pick]
                metro[rows] = ms["code"][pick]
                lat[rows] = ms["lat"][pick] + rng.normal(0, 0.04, len(rows))
                lon[rows] = ms["lon"][pick] + rng.normal(0, 0.05, len(rows))
                continue
            zip_idx = np.empty(len(rows), dtype=np.int64)
            for m in np.unique(pick):
                sel = np.nonzero(pick == m)[0]
                near, within = self.near_zips(int(m))
                zip_idx[sel] = near[rng.integers(0, len(near), len(sel))]
                if within:
                    metro[rows[sel]] = ms["code"][m]
            postal[rows] = self.zip_code[zip_idx]
            city[rows] = self.zip_city[zip_idx]
            state[rows] = self.zip_state[zip_idx]
            lat[rows] = self.zip_lat[zip_idx] + rng.normal(0, 0.008, len(rows))
            lon[rows] = self.zip_lon[zip_idx] + rng.normal(0, 0.008, len(rows))
        region = np.array([COUNTRY_REGION[c] for c in country], dtype=object)

        ind = rng.choice(len(self.ind_code), size=n, p=self.ind_p)
        ind_code = self.ind_code[ind]
        sector = np.array([c[:2] for c in ind_code], dtype=object)
        employees = np.clip(np.round(rng.lognormal(math.log(80), 1.65, n)), 1, 400_000).astype(np.int64)
        sector_factor = np.array([SECTOR_REVENUE.get(s, 1.0) for s in sector])
        per_employee = rng.lognormal(math.log(160_000), 0.5, n) * sector_factor
        revenue = np.round(employees * per_employee, -3).astype(np.int64)
        revenue = np.maximum(revenue, 50_000)
        potential = np.maximum(np.round(revenue * rng.lognormal(math.log(0.012), 0.6, n), -2), 5_000).astype(np.int64)

        heads = rng.integers(0, len(words.COMPANY_HEADS), n)
        tails = rng.integers(0, 1_000_000, n)
        legal = rng.random(n)
        legal_pick = rng.integers(0, 10, n)
        names, domains = [], []
        seen: Counter = Counter()
        for i in range(n):
            head = words.COMPANY_HEADS[heads[i]]
            choices = words.COMPANY_TAILS.get(sector[i], words.COMPANY_TAILS["*"])
            tail = choices[tails[i] % len(choices)]
            base = f"{head} {tail}"
            slug = _slug(base)
            seen[base] += 1
            if seen[base] > 1:
                base = f"{base} {city[i]}" if city[i] else base
                slug = f"{slug}-{_slug(city[i])}"
                seen[base] += 1
                if seen[base] > 1:
                    base = f"{base} {seen[base]}"
                    slug = f"{slug}{seen[base]}"
            suffixes = words.LEGAL_SUFFIXES.get(country[i], ())
            if suffixes and legal[i] < 0.35:
                base = f"{base} {suffixes[legal_pick[i] % len(suffixes)]}"
            names.append(base)
            domains.append(f"{slug}.{words.TLDS.get(country[i], 'com')}")

        cols = {
            "country": country.astype(str), "region": region.astype(str), "state": state.astype(str),
            "metro": metro.astype(str), "postal_code": postal.astype(str), "industry": ind_code.astype(str),
            "employees": employees,
        }
        return {
            "n": n, "country": country, "region": region, "state": state, "city": city, "metro": metro,
            "postal": postal, "lat": np.round(lat, 5), "lon": np.round(lon, 5), "ind": ind, "ind_code": ind_code,
            "sector": sector, "employees": employees, "revenue": revenue, "potential": potential,
            "names": names, "domains": domains, "cols": cols,
        }

    # -- territory design ---------------------------------------------------------------------
    def design_territories(self) -> None:
        a = self.acc
        terrs: list[_Terr] = []
        region_countries: dict[str, list[str]] = {"AMER": ["US"], "EMEA": [], "APAC": []}
        for _code, _, region, countries, _ in OTHER_AREAS:
            region_countries[region] += countries
        everything = [c for r in ("AMER", "EMEA", "APAC") for c in region_countries[r]]
        terrs.append(_Terr("GLOBAL", "Global", Territory.Type.GEOGRAPHIC, None,
                           {"all": [_cond("country", "in", everything)]}, staff="admin",
                           description="Every country we sell in. Mexico is not covered yet."))
        for region in ("AMER", "EMEA", "APAC"):
            terrs.append(_Terr(region, REGION_NAMES[region], Territory.Type.GEOGRAPHIC, "GLOBAL",
                               {"all": [_cond("country", "in", region_countries[region])]},
                               staff=f"director:{region}"))

        # Strategic accounts: the largest US companies, whatever their state or industry.
        us_rows = np.nonzero(a["country"] == "US")[0]
        n_named = min(50, max(5, self.n // 400))
        order = np.lexsort((us_rows, -a["revenue"][us_rows], -a["employees"][us_rows]))
        named = np.sort(us_rows[order[:n_named]])
        terrs.append(_Terr("STRAT", "Strategic Accounts", Territory.Type.NAMED_ACCOUNT, "AMER", {}, priority=100,
                           staff="rep:strategic", leaf=True, named=named,
                           description=f"The {n_named} largest US accounts, covered by a named-account executive."))
        terrs.append(_Terr("AMER-HCO", "Healthcare Solutions Overlay", Territory.Type.INDUSTRY, "AMER",
                           {"all": [_cond("industry", "prefix", "62")]}, is_overlay=True, credit_percent=50,
                           staff="overlay:AMER", leaf=True,
                           description="Solutions engineers who support every Americas healthcare deal."))

        # US areas: leaves balanced by account count, big states split by ZIP prefix.
        us_state_counts = _counts_by(a["state"][us_rows])
        area_weight = {code: sum(us_state_counts.get(s, 0) for s in states) for code, (_, states) in US_AREAS.items()}
        leaves_per_area = _largest_remainder(area_weight, US_GEO_LEAVES, minimum=4)
        for code, (name, states) in US_AREAS.items():
            terrs.append(_Terr(code, name, Territory.Type.GEOGRAPHIC, "AMER",
                               {"all": [_cond("state", "in", states)]}, staff=f"manager:{code}"))
            terrs += self.us_area_leaves(code, states, leaves_per_area[code])
        west = ["US-CA", "US-OR", "US-WA"]
        terrs.append(_Terr("USW-HCE", "West Healthcare Enterprise", Territory.Type.HYBRID, "USW",
                           {"all": [_cond("industry", "prefix", "62"), _cond("employees", "gte", 1000),
                                    _cond("state", "in", west)]},
                           priority=50, staff="rep:enterprise", leaf=True,
                           description="Hospitals and health systems with 1,000+ employees on the West Coast."))
        northeast = ["US-NY", "US-NJ", "US-PA", "US-CT", "US-RI", "US-MA", "US-VT", "US-NH", "US-ME"]
        terrs.append(_Terr("USE-FSE", "Northeast Financial Services Enterprise", Territory.Type.HYBRID, "USE",
                           {"all": [_cond("industry", "prefix", "52"), _cond("employees", "gte", 1000),
                                    _cond("state", "in", northeast)]},
                           priority=45, staff="rep:enterprise", leaf=True,
                           description="Banks and insurers with 1,000+ employees in the Northeast."))
        terrs.append(_Terr("USC-SMB", "US Central SMB Inside Sales", Territory.Type.SIZE, "USC",
                           {"all": [_cond("employees", "lt", 10)]}, priority=20, staff="rep:inside", leaf=True,
                           description="Companies under 10 employees in US Central, worked by inside sales."))

        # Other areas.
        for code, name, region, countries, leaves in OTHER_AREAS:
            terrs.append(_Terr(code, name, Territory.Type.GEOGRAPHIC, region,
                               {"all": [_cond("country", "in", countries)]}, staff=f"manager:{code}"))
            for leaf in leaves:
                if leaf[0] == "metros":
                    _, country, k, rest_countries, rest_name = leaf
                    terrs += self.metro_leaves(code, country, k, rest_countries, rest_name)
                else:
                    _, suffix, leaf_name, leaf_countries, vacant = leaf
                    rule = {"all": [_cond("country", "eq" if len(leaf_countries) == 1 else "in",
                                          leaf_countries[0] if len(leaf_countries) == 1 else leaf_countries)]}
                    terrs.append(_Terr(f"{code}-{suffix}", leaf_name, Territory.Type.GEOGRAPHIC, code, rule,
                                       priority=10, staff="vacant" if vacant else "rep", leaf=True))
        terrs.append(_Terr("DACH-MFE", "DACH Manufacturing Enterprise", Territory.Type.HYBRID, "DACH",
                           {"all": [{"any": [_cond("industry", "prefix", p) for p in ("31", "32", "33")]},
                                    _cond("employees", "gte", 500)]},
                           priority=40, staff="rep:enterprise", leaf=True,
                           description="Manufacturers with 500+ employees in Germany, Austria and Switzerland."))
        terrs.append(_Terr("EMEA-PUB", "EMEA Public Sector", Territory.Type.INDUSTRY, "EMEA",
                           {"all": [_cond("industry", "prefix", "92")]}, priority=20, staff="rep", leaf=True,
                           description="Government and public administration across EMEA."))
        terrs.append(_Terr("EMEA-MFO", "EMEA Manufacturing Solutions Overlay", Territory.Type.INDUSTRY, "EMEA",
                           {"all": [{"any": [_cond("industry", "prefix", p) for p in ("31", "32", "33")]}]},
                           is_overlay=True, credit_percent=50, staff="overlay:EMEA", leaf=True,
                           description="Solutions engineers who support EMEA manufacturing deals."))
        # Parents before children (bulk inserts go level by level).
        depth: dict[str, int] = {}
        for t in terrs:
            depth[t.code] = depth[t.parent] + 1 if t.parent else 0
        self.terrs = sorted(terrs, key=lambda t: (depth[t.code], t.code))
        self.depth = depth

    def us_area_leaves(self, area: str, states: list[str], k: int) -> list[_Terr]:
        a = self.acc
        in_area = np.isin(a["cols"]["state"], states)
        state_counts = _counts_by(a["state"][in_area])
        target = max(1.0, sum(state_counts.values()) / k)
        units: list[tuple[str, str | None, int]] = []  # (state, zip prefix or None, accounts)
        for s in states:
            count = state_counts.get(s, 0)
            if count > 1.5 * target:
                prefixes = sorted({z[:3] for z in self.zip_code[self.zip_state == s]})
                rows = a["postal"][in_area & (a["state"] == s)]
                pc = _counts_by(np.array([p[:3] for p in rows], dtype=object)) if len(rows) else Counter()
                units += [(s, p, pc.get(p, 0)) for p in prefixes]
            else:
                units.append((s, None, count))
        split = [u[1] is not None for u in units]

        def valid(i: int, j: int) -> bool:
            if not any(split[i:j]):
                return True
            return all(split[i:j]) and units[i][0] == units[j - 1][0]

        k = min(k, len(units))
        segments = _linear_partition([u[2] for u in units], k, valid)
        leaves = []
        used_names: set[str] = set()
        for n_leaf, (i, j) in enumerate(segments, start=1):
            group = units[i:j]
            code = f"{area}-{n_leaf:02d}"
            if group[0][1] is None:
                group_states = [u[0] for u in group]
                rule = {"all": [_cond("state", "in", group_states)]}
                name = _name_list([self.state_names.get(s, s) for s in group_states])
                description = f"States: {', '.join(s[3:] for s in group_states)}."
            else:
                s = group[0][0]
                prefixes = [u[1] for u in group]
                all_prefixes = sorted({z[:3] for z in self.zip_code[self.zip_state == s]})
                if prefixes == all_prefixes:
                    rule = {"all": [_cond("state", "eq", s)]}
                else:
                    compact: list[str] = []
                    for p2 in sorted({p[:2] for p in prefixes}):
                        known = [p for p in all_prefixes if p.startswith(p2)]
                        mine = [p for p in prefixes if p.startswith(p2)]
                        compact += [p2] if mine == known else mine
                    rule = {"all": [_cond("state", "eq", s),
                                    {"any": [_cond("postal_code", "prefix", p) for p in compact]}]}
                rows = in_area & (a["state"] == s) & np.isin(a["cols"]["postal_code"].astype("U3"), prefixes)
                metro_counts = _counts_by(a["metro"][rows & (a["metro"] != "")]) if rows.any() else Counter()
                state_name = self.state_names.get(s, s)
                name = f"{state_name} – ZIP {prefixes[0]}–{prefixes[-1]}"
                # Named after its busiest city, preferring cities of the state itself (a New
                # Jersey leaf is not "New York City" even if most accounts sit in that metro).
                us = self.metros["US"]
                metro_name = dict(zip(us["code"].tolist(), us["name"].tolist(), strict=True))
                metro_state = dict(zip(us["code"].tolist(), us["state"].tolist(), strict=True))
                ranked = sorted(metro_counts.items(), key=lambda kv: (metro_state.get(kv[0]) != s, -kv[1], kv[0]))
                for metro, _ in ranked:
                    candidate = f"{state_name} – {metro_name.get(metro, metro)}"
                    if candidate not in used_names:
                        name = candidate
                        break
                description = f"{state_name}, ZIP codes {prefixes[0]}xx to {prefixes[-1]}xx."
            used_names.add(name)
            leaves.append(_Terr(code, name, Territory.Type.GEOGRAPHIC, area, rule, priority=10, staff="rep",
                                leaf=True, description=description))
        return leaves

    def metro_leaves(self, area: str, country: str, k: int, rest_countries: list[str], rest_name: str) -> list[_Terr]:
        a = self.acc
        counts = _counts_by(a["metro"][a["country"] == country])
        ranked = [m for m, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        target = sum(counts.values()) / k
        # The largest metros fill the first k-1 leaves in turn; the last leaf is the catch-all, so
        # that metros without accounts today (and the area's other countries) are still covered.
        bins: list[list[str]] = [[] for _ in range(k)]
        load, current = 0, 0
        for metro in ranked:
            if current == k - 1:
                break
            bins[current].append(metro)
            load += counts[metro]
            if load >= target * (current + 1):
                current += 1
        rest = k - 1
        explicit = sorted(m for i, bucket in enumerate(bins) if i != rest for m in bucket)
        country_name = COUNTRY_NAMES.get(country, country)
        leaves = []
        n_leaf = 0
        for i, bucket in enumerate(bins):
            if i == rest or not bucket:
                continue
            n_leaf += 1
            leaves.append(_Terr(f"{area}-{n_leaf:02d}", f"{country_name} – {_name_list(bucket)}",
                                Territory.Type.GEOGRAPHIC, area,
                                {"all": [_cond("country", "eq", country), _cond("metro", "in", sorted(bucket))]},
                                priority=10, staff="rep", leaf=True))
        n_leaf += 1
        rest_rule = {"all": [_cond("country", "in", rest_countries) if len(rest_countries) > 1
                             else _cond("country", "eq", rest_countries[0])]}
        if explicit:
            rest_rule["all"].append(_cond("metro", "not_in", explicit))
        leaves.append(_Terr(f"{area}-{n_leaf:02d}", rest_name, Territory.Type.GEOGRAPHIC, area, rest_rule,
                            priority=10, staff="rep", leaf=True))
        return leaves

    # -- the sales org -------------------------------------------------------------------------
    def create_org(self) -> None:
        rng = self.rng_org
        a = self.acc
        primary = self.routing.primary
        terrs = self.terrs
        anchor = self.anchor

        def top_metro(mask: np.ndarray, fallback_countries: list[str]) -> tuple[str, float | None, float | None]:
            rows = mask & (a["metro"] != "")
            if rows.any():
                counts = _counts_by(a["metro"][rows])
                metro = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            else:
                metro = None
            for c in fallback_countries:
                ms = self.metros.get(c)
                if ms is None:
                    continue
                hit = np.nonzero(ms["code"] == metro)[0] if metro else []
                j = int(hit[0]) if len(hit) else int(np.argmax(ms["pop"]))
                if metro is None or len(hit):
                    return str(ms["name"][j]), float(ms["lat"][j]), float(ms["lon"][j])
            return "", None, None

        # Who fills which seat, in a fixed order.
        seats: list[dict[str, Any]] = [{"role": "admin", "username": "admin", "title": "Sales Operations Lead",
                                        "region": "", "home": ("Denver", 39.7392, -104.9847), "key": "admin"}]
        code_index = {t.code: i for i, t in enumerate(terrs)}
        area_of = {}
        for t in terrs:
            node = t
            while node.parent and node.code not in AREA_REGION:
                node = terrs[code_index[node.parent]]
            area_of[t.code] = node.code if node.code in AREA_REGION else None
        region_of: dict[str, str] = {}
        for t in terrs:
            node = t
            while node.parent and node.code not in REGION_NAMES:
                node = terrs[code_index[node.parent]]
            region_of[t.code] = node.code if node.code in REGION_NAMES else "AMER"

        def countries_of(region: str) -> list[str]:
            return [c for c, r in COUNTRY_REGION.items() if r == region and c in self.metros]

        for region in ("AMER", "EMEA", "APAC"):
            mask = a["region"] == region
            seats.append({"role": "director", "username": "director" if region == "AMER" else None,
                          "title": f"Regional Director, {REGION_NAMES[region]}", "region": region,
                          "home": top_metro(mask & (self.routing.primary >= 0), countries_of(region)),
                          "key": f"director:{region}"})
        areas = list(US_AREAS) + [x[0] for x in OTHER_AREAS]
        area_names = {**{k: v[0] for k, v in US_AREAS.items()}, **{x[0]: x[1] for x in OTHER_AREAS}}
        for area in areas:
            region = AREA_REGION[area]
            in_area = np.isin(primary, [i for i, t in enumerate(terrs) if area_of[t.code] == area])
            seats.append({"role": "manager", "username": "manager" if area == "USW" else None,
                          "title": f"Sales Manager, {area_names[area]}", "region": region,
                          "home": top_metro(in_area, countries_of(region)), "key": f"manager:{area}",
                          "manager_key": f"director:{region}"})
        # The demo rep owns the busiest plain geographic leaf of US West.
        usw_leaves = [i for i, t in enumerate(terrs) if t.parent == "USW" and t.type == Territory.Type.GEOGRAPHIC]
        busiest = max(usw_leaves, key=lambda i: (int((primary == i).sum()), -i))
        rep_seats = []
        for i, t in enumerate(terrs):
            if not t.leaf or t.is_overlay or t.staff == "vacant":
                continue
            leaf_area = area_of[t.code]
            region = region_of[t.code]
            manager_area = leaf_area or {"STRAT": "USE", "EMEA-PUB": "UKI"}.get(t.code, "USE")
            kind = t.staff.split(":", 1)[1] if ":" in t.staff else "field"
            title = {"strategic": "Strategic Account Director", "enterprise": "Enterprise Account Executive",
                     "inside": "Inside Sales Representative"}.get(kind, "Account Executive")
            rep_seats.append({"role": "rep", "username": "rep" if i == busiest else None, "title": title,
                              "region": region, "home": top_metro(primary == i, countries_of(region)),
                              "key": f"rep:{t.code}", "manager_key": f"manager:{manager_area}", "kind": kind,
                              "territory": i})
        seats += rep_seats
        for n_se, (region, manager_area) in enumerate([("AMER", "USW"), ("AMER", "USE"), ("EMEA", "DACH")]):
            seats.append({"role": "rep", "username": None, "title": "Solutions Engineer", "region": region,
                          "home": top_metro(a["region"] == region, countries_of(region)),
                          "key": f"se:{n_se}", "manager_key": f"manager:{manager_area}", "kind": "se"})

        # Names and usernames.
        pairs = set()
        taken = {"admin", "director", "manager", "rep"}
        for seat in seats:
            while True:
                first = words.FIRST_NAMES[int(rng.integers(len(words.FIRST_NAMES)))]
                last = words.LAST_NAMES[int(rng.integers(len(words.LAST_NAMES)))]
                if (first, last) not in pairs:
                    pairs.add((first, last))
                    break
            seat["first"], seat["last"] = first, last
            if not seat["username"]:
                username = f"{_slug(first)}.{_slug(last)}"
                while username in taken:
                    username += str(int(rng.integers(2, 10)))
                seat["username"] = username
            taken.add(seat["username"])
        clash = User.objects.filter(username__in=[s["username"] for s in seats])
        if clash.exists():
            raise SeedError(f"Users already exist: {', '.join(clash.values_list('username', flat=True)[:5])}")

        # Hire dates, ramp and experience. A few reps joined 2-4 months ago and are ramping.
        field_reps = [s for s in rep_seats if s["kind"] == "field" and s["username"] != "rep"]
        ramping = {id(field_reps[int(j)]) for j in rng.choice(len(field_reps), size=min(5, len(field_reps)),
                                                                replace=False)}
        for seat in seats:
            if id(seat) in ramping:
                days = int(rng.integers(60, 122))
                seat["hire"] = anchor - dt.timedelta(days=days)
                seat["ramp"] = int(rng.integers(max(3, days // 30 + 1), 7))  # still ramping today
            else:
                base = {"admin": 1500, "director": 2200, "manager": 1600}.get(seat["role"], 300)
                seat["hire"] = anchor - dt.timedelta(days=int(base + rng.integers(0, 1800)))
                seat["ramp"] = 3
            years = (anchor - seat["hire"]).days / 365.25
            if seat.get("kind") in ("strategic", "enterprise"):
                seat["experience"] = SalesProfile.Experience.PRINCIPAL if years > 3 else SalesProfile.Experience.SENIOR
            elif seat["role"] in ("director", "manager"):
                seat["experience"] = SalesProfile.Experience.PRINCIPAL
            else:
                seat["experience"] = (SalesProfile.Experience.JUNIOR if years < 1.5 else SalesProfile.Experience.MID
                                      if years < 4 else SalesProfile.Experience.SENIOR)
        capacity = {"junior": (250, 1_500_000), "mid": (350, 2_500_000), "senior": (450, 3_500_000),
                    "principal": (500, 5_000_000)}

        password = make_password(settings.SALESOS_DEMO_PASSWORD)  # hashed once, shared by every demo user
        users = [
            User(username=s["username"], email=f"{s['username']}@{DEMO_EMAIL_DOMAIN}", first_name=s["first"],
                 last_name=s["last"], password=password, is_staff=s["role"] == "admin",
                 is_superuser=s["role"] == "admin", is_active=True,
                 date_joined=dt.datetime.combine(s["hire"], dt.time(9), tzinfo=dt.UTC))
            for s in seats
        ]
        users = User.objects.bulk_create(users, batch_size=BATCH)
        by_key = {s["key"]: u for s, u in zip(seats, users, strict=True)}
        profiles = []
        for s, u in zip(seats, users, strict=True):
            cap_accounts, cap_pipeline = capacity[s["experience"]]
            if s.get("kind") == "inside":
                cap_accounts *= 4
            home_city, home_lat, home_lon = s["home"]
            profiles.append(SalesProfile(
                user=u, role=s["role"], title=s["title"], specialist=s.get("kind") == "se",
                manager=by_key[s["manager_key"]] if s.get("manager_key") else None,
                region=s["region"], experience=s["experience"], hire_date=s["hire"], ramp_months=s["ramp"],
                capacity_accounts=cap_accounts, capacity_pipeline=Decimal(cap_pipeline),
                home_city=home_city, home_lat=home_lat, home_lon=home_lon,
            ))
        self.profiles = SalesProfile.objects.bulk_create(profiles, batch_size=BATCH)
        self.seats = seats
        self.users = users
        self.user_by_key = by_key
        self.profile_by_user = {p.user_id: p for p in self.profiles}
        self.admin = by_key["admin"]
        # Territory index -> primary user (None when vacant).
        self.owner_of: dict[int, Any] = {}
        for i, t in enumerate(terrs):
            if t.staff == "admin":
                self.owner_of[i] = by_key["admin"]
            elif t.staff.startswith(("director:", "manager:")):
                self.owner_of[i] = by_key[t.staff]
            elif f"rep:{t.code}" in by_key:
                self.owner_of[i] = by_key[f"rep:{t.code}"]
        self.ramping_keys = [s["key"] for s in seats if id(s) in ramping]
        roles = Counter(s["role"] for s in seats)
        self.report.counts["users"] = len(users)
        for role, count in sorted(roles.items()):
            self.report.counts[f"  {role}s"] = count

    # -- plan, territories and staffing --------------------------------------------------------
    def create_plan(self) -> None:
        from simple_history.utils import bulk_create_with_history

        fy = self.current_fy
        effective = fy.start_date
        self.effective_dt = dt.datetime.combine(effective, dt.time(0), tzinfo=dt.UTC)
        self.plan = TerritoryPlan.objects.create(
            name=f"{fy.name} Territory Plan", fiscal_year=fy, kind=TerritoryPlan.Kind.ANNUAL,
            status=TerritoryPlan.Status.ACTIVE, effective_date=effective, created_by=self.admin,
            created_at=self.effective_dt - dt.timedelta(days=45), activated_at=self.effective_dt,
            description=f"Annual territory plan for {fy.name}: geographic coverage by region and area, "
                        "named strategic accounts, hybrid enterprise territories and solution overlays.",
        )
        # Its id and dates may have been a previous demo plan's in this process (see there).
        compiled_plan_forget(plan_ids=[self.plan.pk])
        by_code: dict[str, Territory] = {}
        self.territory_objs: list[Territory] = [None] * len(self.terrs)  # type: ignore[list-item]
        for level in sorted(set(self.depth.values())):
            batch = []
            for i, t in enumerate(self.terrs):
                if self.depth[t.code] != level:
                    continue
                batch.append((i, Territory(
                    plan=self.plan, code=t.code, name=t.name[:120], description=t.description, type=t.type,
                    status=Territory.Status.ACTIVE, priority=t.priority, rule=t.rule, is_overlay=t.is_overlay,
                    credit_percent=t.credit_percent, parent=by_code[t.parent] if t.parent else None,
                    created_at=self.plan.created_at,
                )))
            created = bulk_create_with_history([obj for _, obj in batch], Territory, batch_size=BATCH,
                                               default_user=self.admin, default_change_reason="Demo data",
                                               default_date=self.plan.created_at)
            for (i, _), obj in zip(batch, created, strict=True):
                self.territory_objs[i] = obj
                by_code[obj.code] = obj
        self.terr_ids = np.array([obj.pk for obj in self.territory_objs], dtype=np.int64)

        assignments = []
        for i, obj in enumerate(self.territory_objs):
            user = self.owner_of.get(i)
            if user is not None:
                hire = self.profile_by_user[user.pk].hire_date
                assignments.append(RepAssignment(territory=obj, user=user, slot=RepAssignment.Slot.PRIMARY,
                                                 split_percent=100, start_date=max(effective, hire)))
        ses = [self.user_by_key[f"se:{k}"] for k in range(3)]
        overlay_staff = {"overlay:AMER": [(ses[0], 50), (ses[1], 50)], "overlay:EMEA": [(ses[2], 100)]}
        for i, t in enumerate(self.terrs):
            for user, split in overlay_staff.get(t.staff, []):
                hire = self.profile_by_user[user.pk].hire_date
                assignments.append(RepAssignment(territory=self.territory_objs[i], user=user,
                                                 slot=RepAssignment.Slot.OVERLAY, split_percent=split,
                                                 start_date=max(effective, hire)))

        # Someone is on parental leave today; a teammate in the same area is the backup.
        rng = self.rng_misc
        use_leaves = [i for i, t in enumerate(self.terrs)
                      if t.parent == "USE" and t.type == Territory.Type.GEOGRAPHIC and i in self.owner_of]
        away_t, backup_t = use_leaves[1], use_leaves[2]
        away = self.owner_of[away_t]
        backup = self.owner_of[backup_t]
        # The backup owns the territory's accounts while the primary is away, as routing decides
        # (routing.services.territory_owners).
        self.covering = {away_t: backup}
        leave_start = self.anchor - dt.timedelta(days=20)
        leave_end = self.anchor + dt.timedelta(days=70)
        assignments.append(RepAssignment(territory=self.territory_objs[away_t], user=backup,
                                         slot=RepAssignment.Slot.BACKUP, split_percent=0,
                                         start_date=leave_start, end_date=leave_end))
        self.assignments = bulk_create_with_history(assignments, RepAssignment, batch_size=BATCH,
                                                    default_user=self.admin, default_change_reason="Demo data",
                                                    default_date=self.plan.created_at)
        leaves = [Leave(user=away, kind=Leave.Kind.PARENTAL, start=leave_start, end=leave_end,
                        note=f"Parental leave; {backup.get_full_name()} covers the territory.")]
        # Ordinary PTO in the past and the near future (never today, to keep one clear story).
        reps = [u for s, u in zip(self.seats, self.users, strict=True) if s["role"] == "rep" and u != away]
        for j in rng.choice(len(reps), size=min(12, len(reps)), replace=False):
            if rng.random() < 0.75:
                start = self.anchor - dt.timedelta(days=int(rng.integers(15, 300)))
            else:
                start = self.anchor + dt.timedelta(days=int(rng.integers(10, 90)))
            length = int(rng.integers(2, 11))
            leaves.append(Leave(user=reps[int(j)], kind=Leave.Kind.PTO, start=start,
                                end=start + dt.timedelta(days=length - 1), note="Vacation"))
        Leave.objects.bulk_create(leaves)
        self.report.counts["territory plans"] = 1
        self.report.counts["territories"] = len(self.territory_objs)
        self.report.counts["rep assignments"] = len(self.assignments)
        self.report.counts["leaves"] = len(leaves)

    # -- accounts ---------------------------------------------------------------------------------
    def insert_accounts(self) -> None:
        a = self.acc
        n = self.n
        rng = self.rng_acc
        primary = self.routing.primary
        owner_of = {**self.owner_of, **self.covering}
        owner_ids = np.array([owner_of[i].pk if i in owner_of else 0 for i in range(len(self.terrs))],
                             dtype=np.int64)
        # Each account's territory and owner today (accounts store neither: routing.placement
        # reads them from the routing rows); deals and activities are credited to them.
        territory_id = np.where(primary >= 0, self.terr_ids[np.maximum(primary, 0)], 0)
        owner_id = np.where(primary >= 0, owner_ids[np.maximum(primary, 0)], 0)
        self.acc_territory_id = territory_id
        self.acc_owner_id = owner_id

        age_seconds = rng.integers(0, 3 * 365 * 86400, n)
        self.acc_age_days = age_seconds // 86400
        anchor = np.datetime64(self.anchor_dt.replace(tzinfo=None), "s")
        self.acc_created = anchor - age_seconds.astype("timedelta64[s]")
        u = rng.random(n)
        p_customer = np.clip(0.22 + 0.05 * np.log10(a["employees"]), 0.15, 0.5)
        status = np.where(u < p_customer, "customer", np.where(u < p_customer + 0.07, "former", "prospect"))
        status[self.acc_age_days < 45] = "prospect"
        self.acc_status = status

        # Ids are given explicitly (the table is empty or we continue after its largest id) so
        # that the rows can be streamed with COPY / executemany and still be referenced below.
        first_id = (Account.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        self.acc_ids = np.arange(first_id, first_id + n, dtype=np.int64)
        created = _timestamps(self.acc_created)
        _stream_rows(Account, {
            "id": self.acc_ids, "name": a["names"], "domain": a["domains"], "status": status,
            "country": a["country"], "region": a["region"], "state": a["state"], "city": a["city"],
            "metro": a["metro"], "postal_code": a["postal"], "lat": a["lat"], "lon": a["lon"],
            "industry_id": self.ind_id[a["ind"]], "industry_code": a["ind_code"], "employees": a["employees"],
            "annual_revenue": a["revenue"], "potential": a["potential"],
            "locked_territory_id": None,
            "created_at": created, "updated_at": created,
        })
        strat = next(i for i, t in enumerate(self.terrs) if t.type == Territory.Type.NAMED_ACCOUNT)
        named = self.terrs[strat].named
        if named is None:
            raise TypeError(f"{self.terrs[strat].code} has no named-account list")
        through = Territory.named_accounts.through
        through.objects.bulk_create([
            through(territory_id=int(self.terr_ids[strat]), account_id=int(self.acc_ids[j]))
            for j in named
        ])
        self.report.counts["accounts"] = n
        self.report.counts["  unassigned accounts"] = int((primary < 0).sum())
        self.report.counts["  accounts without owner"] = int((owner_id == 0).sum())
        self.report.counts["named accounts"] = len(named)

    def route_accounts(self) -> None:
        """The accounts' routing rows, written by the production full re-route (``routing.batch``)
        as of the plan's effective date. It must put every account where the pre-route did (the
        org, deals and quotas were staffed from it); anything else is a bug, not a demo feature."""
        result = batch.plan_reroute(plan=self.plan, now=self.effective_dt)
        expected = np.where(self.routing.primary >= 0, self.terr_ids[np.maximum(self.routing.primary, 0)], 0)
        stored = dict(placement.current_primary_rows(self.plan).values_list("account_id", "territory_id"))
        found = np.array([stored.get(a, 0) for a in self.acc_ids.tolist()], dtype=np.int64)
        if (found != expected).any():
            raise SeedError(f"routing.batch placed {int((found != expected).sum())} accounts differently from "
                            "the engine's pre-route")
        # An account enters the plan's history when it was created, if that is after the plan took
        # effect (the re-route dates every row it writes at ``now``).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {AccountTerritory._meta.db_table} AS r SET valid_from = a.created_at "
                f"FROM {Account._meta.db_table} AS a WHERE a.id = r.account_id AND r.plan_id = %s "
                "AND r.valid_to IS NULL AND a.created_at > r.valid_from",
                [self.plan.pk],
            )
        overlay_rows = AccountTerritory.objects.filter(plan=self.plan, is_primary=False).count()
        self.report.counts["account territories"] = result.rows_inserted
        self.report.counts["  routing decisions"] = result.decisions
        self.report.counts["  overlay credit rows"] = overlay_rows
        self.report.counts["  routing conflicts"] = self.routing.conflicts

    # -- pipeline ------------------------------------------------------------------------------
    def create_opportunities(self) -> None:
        rng = self.rng_opp
        a = self.acc
        anchor = np.datetime64(self.anchor, "D")
        window = (self.anchor - self.previous_fy.start_date).days
        lam = np.select([self.acc_status == "customer", self.acc_status == "former"], [1.25, 0.6], 0.35)
        per_account = rng.poisson(lam)
        acc = np.repeat(np.arange(self.n), per_account)
        m = len(acc)
        age = np.minimum(self.acc_age_days[acc], window)
        created_ago = (rng.random(m) * (age + 1)).astype(np.int64)  # never before the account existed
        size = (a["employees"][acc] / 80.0) ** 0.3
        amount = np.clip(np.round(rng.lognormal(math.log(25_000), 0.85, m) * size, -2), 1_000, 5_000_000)
        cycle = np.maximum(7, rng.lognormal(math.log(75), 0.5, m) * np.sqrt(size)).astype(np.int64)
        close_ago = created_ago - cycle  # > 0: the planned close is in the past
        past = close_ago > 0
        slipped = past & (rng.random(m) < 0.08)
        closed = past & ~slipped
        won_p = np.where(self.acc_status[acc] == "customer", 0.45, 0.28)
        won = closed & (rng.random(m) < won_p)
        progress = np.clip((created_ago / cycle) * 5, 0, 4.999).astype(np.int64)
        stage_idx = np.where(closed, np.where(won, 5, 6), np.where(slipped, 3 + (rng.random(m) < 0.5), progress))
        close_ago = np.where(slipped, -rng.integers(7, 60, m), close_ago)
        kinds = rng.integers(0, len(words.DEAL_KINDS), m)
        hours = rng.integers(8, 18, m)

        stages = np.array(STAGES, dtype=object)[stage_idx]
        created_date = anchor - created_ago.astype("timedelta64[D]")
        names = a["names"]
        _stream_rows(Opportunity, {
            "account_id": self.acc_ids[acc],
            "name": [f"{names[j]} – {words.DEAL_KINDS[k]}"[:200] for j, k in zip(acc.tolist(), kinds.tolist(),
                                                                                 strict=True)],
            "owner_id": _nullable(self.acc_owner_id[acc]), "territory_id": _nullable(self.acc_territory_id[acc]),
            "amount": amount.astype(np.int64), "stage": stages,
            "probability": np.array([STAGE_PROBABILITY[s] for s in STAGES])[stage_idx],
            "status": np.array(["open"] * 5 + ["won", "lost"], dtype=object)[stage_idx],
            "created_date": np.datetime_as_string(created_date, unit="D"),
            "close_date": np.datetime_as_string(anchor - close_ago.astype("timedelta64[D]"), unit="D"),
            "created_at": _timestamps(created_date.astype("datetime64[s]") + (hours * 3600).astype("timedelta64[s]")),
        }, count=m)
        self.report.counts["opportunities"] = m

    def create_activities(self) -> None:
        rng = self.rng_act
        owned = self.acc_owner_id > 0
        lam = np.where(self.acc_status == "customer", 3.2, 2.2) * owned
        per_account = rng.poisson(lam)
        acc = np.repeat(np.arange(self.n), per_account)
        m = len(acc)
        max_days = np.minimum(self.acc_age_days[acc], 365)
        days_ago = (rng.random(m) * (max_days + 1)).astype(np.int64)
        seconds = rng.integers(8 * 3600, 18 * 3600, m)
        kind_idx = rng.choice(3, size=m, p=[0.45, 0.4, 0.15])
        subject_pick = rng.integers(0, 100, m)
        kinds = ["call", "email", "meeting"]
        subjects = [words.ACTIVITY_SUBJECTS[k] for k in kinds]
        base = np.datetime64(self.anchor_dt.replace(tzinfo=None), "s")
        at = base - (days_ago * 86400 - seconds).astype("timedelta64[s]")
        _stream_rows(Activity, {
            "account_id": self.acc_ids[acc], "opportunity_id": None, "user_id": self.acc_owner_id[acc],
            "kind": np.array(kinds, dtype=object)[kind_idx],
            "subject": [subjects[k][s % len(subjects[k])] for k, s in zip(kind_idx.tolist(), subject_pick.tolist(),
                                                                           strict=True)],
            "at": _timestamps(at),
        }, count=m)
        self.report.counts["activities"] = m

    def create_leads(self) -> None:
        rng = self.rng_lead
        n = max(5, round(self.n * 0.05))
        companies = self.generate_companies(rng, n)
        compiled = compiled_plan(plan=self.plan)
        index_of = {int(t_id): i for i, t_id in enumerate(self.terr_ids.tolist())}

        def lead_record(k: int) -> dict[str, Any]:
            c = companies
            return {
                "id": None, "name": c["names"][k], "domain": c["domains"][k], "country": c["country"][k],
                "region": c["region"][k], "state": c["state"][k], "city": c["city"][k], "metro": c["metro"][k],
                "postal_code": c["postal"][k], "industry": c["ind_code"][k], "employees": int(c["employees"][k]),
                "annual_revenue": Decimal(int(c["revenue"][k])), "locked_territory_id": None,
            }

        statuses = np.array(["new", "working", "qualified", "disqualified", "converted"], dtype=object)
        status = statuses[rng.choice(5, size=n, p=[0.3, 0.25, 0.2, 0.15, 0.1])]
        # New leads arrive unrouted until the routing job picks them up; about half are.
        routed = (status != "new") | (rng.random(n) < 0.5)
        days_ago = np.where(status == "new", rng.integers(0, 14, n), rng.integers(7, 150, n))
        seconds = rng.integers(0, 86400, n)
        first = rng.integers(0, len(words.FIRST_NAMES), n)
        last = rng.integers(0, len(words.LAST_NAMES), n)
        sources = rng.integers(0, len(words.LEAD_SOURCES), n)
        has_trace = any(f.name == "routing_trace" for f in Lead._meta.get_fields())
        objs = []
        for k in range(n):
            # A routed lead is where the lead router puts it (what ``routing.services.lead_route``
            # computes: the plan's compiled index resolving the lead's record), with that trace.
            decision = compiled.resolve(lead_record(k)) if routed[k] else None
            t = index_of[decision.territory_id] if decision is not None and decision.territory_id else -1
            owner = self.owner_of.get(t) if t >= 0 else None
            fn, ln = words.FIRST_NAMES[first[k]], words.LAST_NAMES[last[k]]
            objs.append(Lead(
                first_name=fn, last_name=ln, email=f"{_slug(fn)}.{_slug(ln)}@{companies['domains'][k]}",
                company=companies["names"][k], status=str(status[k]), source=words.LEAD_SOURCES[sources[k]],
                country=companies["country"][k], region=companies["region"][k], state=companies["state"][k],
                city=companies["city"][k], metro=companies["metro"][k], postal_code=companies["postal"][k],
                lat=float(companies["lat"][k]), lon=float(companies["lon"][k]),
                industry_id=int(self.ind_id[companies["ind"][k]]), industry_code=companies["ind_code"][k],
                employees=int(companies["employees"][k]), annual_revenue=Decimal(int(companies["revenue"][k])),
                territory_id=int(self.terr_ids[t]) if t >= 0 else None, owner_id=owner.pk if owner else None,
                **({"routing_trace": decision.to_dict() if decision is not None else None} if has_trace else {}),
                created_at=self.anchor_dt - dt.timedelta(days=int(days_ago[k])) + dt.timedelta(seconds=int(seconds[k])),
            ))
        Lead.objects.bulk_create(objs, batch_size=BATCH)
        self.report.counts["leads"] = n
        self.report.counts["  unrouted leads"] = int(sum(1 for o in objs if o.territory_id is None))

    def create_quotas(self) -> None:
        primary = self.routing.primary
        potential = self.acc["potential"]
        tam = {i: float(potential[primary == i].sum()) for i, t in enumerate(self.terrs) if t.leaf and not t.is_overlay}
        median = float(np.median([v for v in tam.values() if v > 0])) if any(tam.values()) else 1.0
        base = {"junior": 600_000, "mid": 850_000, "senior": 1_100_000, "principal": 1_400_000}
        split = [0.22, 0.24, 0.25, 0.29]
        objs = []
        for i, value in tam.items():
            user = self.owner_of.get(i)
            profile = self.profile_by_user.get(user.pk) if user else None
            annual: float = base[profile.experience] if profile else 850_000
            annual *= min(1.4, max(0.7, (value / median) ** 0.25 if value > 0 else 0.7))
            if self.terrs[i].type == Territory.Type.NAMED_ACCOUNT:
                annual *= 2.5
            for q, period in enumerate(self.current_quarters):
                mid = period.start_date + (period.end_date - period.start_date) / 2
                factor = 1.0
                if profile is not None:
                    factor = 0.0 if mid < profile.hire_date else profile.ramp_factor(on=mid)
                objs.append(Quota(
                    territory=self.territory_objs[i], period=period, user=user,
                    amount=Decimal(int(round(annual * split[q], -3))),
                    ramp_factor=Decimal(str(round(factor, 3))),
                ))
        from simple_history.utils import bulk_create_with_history

        bulk_create_with_history(objs, Quota, batch_size=BATCH, default_user=self.admin,
                                 default_change_reason="Demo data", default_date=self.plan.created_at)
        self.report.counts["quotas"] = len(objs)


__all__ = ["SeedError", "SeedReport", "demo_data_exists", "ensure_reference_data", "reset_demo_data", "seed_demo"]
