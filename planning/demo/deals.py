"""The demo's pipeline: opportunities, activities and leads."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np

from planning.demo import names as words
from planning.demo.accounts import AccountSteps
from planning.demo.common import (
    BATCH,
    STAGE_PROBABILITY,
    STAGES,
    _nullable,
    _slug,
    _stream_rows,
    _timestamps,
)
from routing import engine
from routing.services import plan_index
from salesos.models import Activity, Lead, Opportunity


class DealSteps(AccountSteps):
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
        compiled = plan_index(plan=self.plan)
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
            decision = engine.resolve(compiled, lead_record(k)) if routed[k] else None
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
