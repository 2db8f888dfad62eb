"""The demo's accounts: reference arrays (ZIP codes, metros, industries), generated companies
(also used for leads), the account rows and their routing by the production batch."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
from django.db import connection

from planning.demo import names as words
from planning.demo.common import (
    COUNTRY_REGION,
    COUNTRY_SHARES,
    SECTOR_REVENUE,
    SECTOR_WEIGHTS,
    SUBSECTOR_BOOST,
    US_STATES,
    SeedError,
    _SeederBase,
    _slug,
    _stream_rows,
    _timestamps,
)
from routing import batch
from salesos.models import Account, GeoArea, Industry
from territories import placement
from territories.models import AccountTerritory, Territory


class AccountSteps(_SeederBase):
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

    # -- accounts ---------------------------------------------------------------------------------
    def insert_accounts(self) -> None:
        a = self.acc
        n = self.n
        rng = self.rng_acc
        primary = self.routing.primary
        owner_of = {**self.owner_of, **self.covering}
        owner_ids = np.array([owner_of[i].pk if i in owner_of else 0 for i in range(len(self.terrs))],
                             dtype=np.int64)
        # Each account's territory and owner today (accounts store neither: territories.placement
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
