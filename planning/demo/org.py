"""The demo's sales org: users, profiles, the org chart, hire dates and ramp."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from planning.demo import names as words
from planning.demo.common import (
    AREA_REGION,
    BATCH,
    COUNTRY_REGION,
    DEMO_EMAIL_DOMAIN,
    OTHER_AREAS,
    REGION_NAMES,
    US_AREAS,
    SeedError,
    _counts_by,
    _SeederBase,
    _slug,
)
from salesos.models import SalesProfile
from territories.models import Territory

User = get_user_model()


class OrgSteps(_SeederBase):
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
