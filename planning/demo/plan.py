"""The demo's plan: fiscal calendar, territory design (balanced leaves), the stored plan with its
territories, rep assignments and leaves, the pre-route, and quotas."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import numpy as np

from planning.demo.common import (
    BATCH,
    COUNTRY_NAMES,
    OTHER_AREAS,
    REGION_NAMES,
    US_AREAS,
    US_GEO_LEAVES,
    _counts_by,
    _largest_remainder,
    _linear_partition,
    _name_list,
    _SeederBase,
    _Terr,
)
from planning.models import FiscalPeriod, FiscalYear, Quota
from routing.engine import condition
from routing.services import plan_index_forget
from salesos.models import Leave
from territories.models import RepAssignment, Territory, TerritoryPlan


class PlanSteps(_SeederBase):
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

    # -- territory design ---------------------------------------------------------------------
    def design_territories(self) -> None:
        a = self.acc
        terrs: list[_Terr] = []
        region_countries: dict[str, list[str]] = {"AMER": ["US"], "EMEA": [], "APAC": []}
        for _code, _, region, countries, _ in OTHER_AREAS:
            region_countries[region] += countries
        everything = [c for r in ("AMER", "EMEA", "APAC") for c in region_countries[r]]
        terrs.append(_Terr("GLOBAL", "Global", Territory.Type.GEOGRAPHIC, None,
                           {"all": [condition("country", "in", everything)]}, staff="admin",
                           description="Every country we sell in. Mexico is not covered yet."))
        for region in ("AMER", "EMEA", "APAC"):
            terrs.append(_Terr(region, REGION_NAMES[region], Territory.Type.GEOGRAPHIC, "GLOBAL",
                               {"all": [condition("country", "in", region_countries[region])]},
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
                           {"all": [condition("industry", "prefix", "62")]}, is_overlay=True, credit_percent=50,
                           staff="overlay:AMER", leaf=True,
                           description="Solutions engineers who support every Americas healthcare deal."))

        # US areas: leaves balanced by account count, big states split by ZIP prefix.
        us_state_counts = _counts_by(a["state"][us_rows])
        area_weight = {code: sum(us_state_counts.get(s, 0) for s in states) for code, (_, states) in US_AREAS.items()}
        leaves_per_area = _largest_remainder(area_weight, US_GEO_LEAVES, minimum=4)
        for code, (name, states) in US_AREAS.items():
            terrs.append(_Terr(code, name, Territory.Type.GEOGRAPHIC, "AMER",
                               {"all": [condition("state", "in", states)]}, staff=f"manager:{code}"))
            terrs += self.us_area_leaves(code, states, leaves_per_area[code])
        west = ["US-CA", "US-OR", "US-WA"]
        terrs.append(_Terr("USW-HCE", "West Healthcare Enterprise", Territory.Type.HYBRID, "USW",
                           {"all": [condition("industry", "prefix", "62"), condition("employees", "gte", 1000),
                                    condition("state", "in", west)]},
                           priority=50, staff="rep:enterprise", leaf=True,
                           description="Hospitals and health systems with 1,000+ employees on the West Coast."))
        northeast = ["US-NY", "US-NJ", "US-PA", "US-CT", "US-RI", "US-MA", "US-VT", "US-NH", "US-ME"]
        terrs.append(_Terr("USE-FSE", "Northeast Financial Services Enterprise", Territory.Type.HYBRID, "USE",
                           {"all": [condition("industry", "prefix", "52"), condition("employees", "gte", 1000),
                                    condition("state", "in", northeast)]},
                           priority=45, staff="rep:enterprise", leaf=True,
                           description="Banks and insurers with 1,000+ employees in the Northeast."))
        terrs.append(_Terr("USC-SMB", "US Central SMB Inside Sales", Territory.Type.SIZE, "USC",
                           {"all": [condition("employees", "lt", 10)]}, priority=20, staff="rep:inside", leaf=True,
                           description="Companies under 10 employees in US Central, worked by inside sales."))

        # Other areas.
        for code, name, region, countries, leaves in OTHER_AREAS:
            terrs.append(_Terr(code, name, Territory.Type.GEOGRAPHIC, region,
                               {"all": [condition("country", "in", countries)]}, staff=f"manager:{code}"))
            for leaf in leaves:
                if leaf[0] == "metros":
                    _, country, k, rest_countries, rest_name = leaf
                    terrs += self.metro_leaves(code, country, k, rest_countries, rest_name)
                else:
                    _, suffix, leaf_name, leaf_countries, vacant = leaf
                    rule = {"all": [condition("country", "eq" if len(leaf_countries) == 1 else "in",
                                          leaf_countries[0] if len(leaf_countries) == 1 else leaf_countries)]}
                    terrs.append(_Terr(f"{code}-{suffix}", leaf_name, Territory.Type.GEOGRAPHIC, code, rule,
                                       priority=10, staff="vacant" if vacant else "rep", leaf=True))
        terrs.append(_Terr("DACH-MFE", "DACH Manufacturing Enterprise", Territory.Type.HYBRID, "DACH",
                           {"all": [{"any": [condition("industry", "prefix", p) for p in ("31", "32", "33")]},
                                    condition("employees", "gte", 500)]},
                           priority=40, staff="rep:enterprise", leaf=True,
                           description="Manufacturers with 500+ employees in Germany, Austria and Switzerland."))
        terrs.append(_Terr("EMEA-PUB", "EMEA Public Sector", Territory.Type.INDUSTRY, "EMEA",
                           {"all": [condition("industry", "prefix", "92")]}, priority=20, staff="rep", leaf=True,
                           description="Government and public administration across EMEA."))
        terrs.append(_Terr("EMEA-MFO", "EMEA Manufacturing Solutions Overlay", Territory.Type.INDUSTRY, "EMEA",
                           {"all": [{"any": [condition("industry", "prefix", p) for p in ("31", "32", "33")]}]},
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
                rule = {"all": [condition("state", "in", group_states)]}
                name = _name_list([self.state_names.get(s, s) for s in group_states])
                description = f"States: {', '.join(s[3:] for s in group_states)}."
            else:
                s = group[0][0]
                prefixes = [u[1] for u in group]
                all_prefixes = sorted({z[:3] for z in self.zip_code[self.zip_state == s]})
                if prefixes == all_prefixes:
                    rule = {"all": [condition("state", "eq", s)]}
                else:
                    compact: list[str] = []
                    for p2 in sorted({p[:2] for p in prefixes}):
                        known = [p for p in all_prefixes if p.startswith(p2)]
                        mine = [p for p in prefixes if p.startswith(p2)]
                        compact += [p2] if mine == known else mine
                    rule = {"all": [condition("state", "eq", s),
                                    {"any": [condition("postal_code", "prefix", p) for p in compact]}]}
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
                                {"all": [condition("country", "eq", country),
                                         condition("metro", "in", sorted(bucket))]},
                                priority=10, staff="rep", leaf=True))
        n_leaf += 1
        rest_rule = {"all": [condition("country", "in", rest_countries) if len(rest_countries) > 1
                             else condition("country", "eq", rest_countries[0])]}
        if explicit:
            rest_rule["all"].append(condition("metro", "not_in", explicit))
        leaves.append(_Terr(f"{area}-{n_leaf:02d}", rest_name, Territory.Type.GEOGRAPHIC, area, rest_rule,
                            priority=10, staff="rep", leaf=True))
        return leaves

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
        plan_index_forget(plan_ids=[self.plan.pk])
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
        # (territories.coverage.owner_ids_on).
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
