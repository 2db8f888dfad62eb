"""A small company with hand-computed figures for the analytics tests.

Tree (active plan, FY2026 from 2026-02-01; Q3 = Aug 1 to Oct 31 2026):

    ROOT Root region (director)
    ├── A  Alpha desk (rep_a, manager mgr over rep_a)   2 accounts
    └── B  Beta desk  (rep_b)                            1 account
    OTHER Other region (other director)                  1 account, a large won deal (never in ROOT's figures)

Q3 deals: A won 100 (10 days) and 300 (30 days), lost 1, two open deals of 50 due in October;
B won 200 (20 days), lost 2. A won deal closed in Q4 (999) stays out. Quotas Q3: A 800 at ramp 0.5
(effective 400), B 400. Activities in Q3: A 3 calls + 1 email, B 1 meeting; one call in Q4 is out.

Hand-computed (Q3):
  A: attainment 100.0 %, win rate 66.67 %, avg 200, cycle 20 d, velocity 2 x 2/3 x 200 / 20 = 13.33/d,
     activity 4 / 2 = 2.0
  B: attainment 50.0 %, win rate 33.33 %, avg 200, cycle 20 d, velocity 0 (no open deal), activity 1.0
  ROOT (subtree): won 600 / quota 800 = 75.0 %, win rate 3/6 = 50 %, avg 200, cycle 20 d,
     velocity 2 x 0.5 x 200 / 20 = 10.00/d, activity 5 / 3
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from planning.models import FiscalPeriod, Quota
from salesos.models import Activity, Opportunity
from territories.grants import grants_rebuild
from territories.models import AccountTerritory, RepAssignment
from tests import factories

D = dt.date
WON = {"status": Opportunity.Status.WON, "stage": Opportunity.Stage.CLOSED_WON}
LOST = {"status": Opportunity.Status.LOST, "stage": Opportunity.Stage.CLOSED_LOST}


@dataclass
class Company:
    users: dict
    plan: object
    q3: FiscalPeriod
    q4: FiscalPeriod
    t: dict
    accounts: dict


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def build() -> Company:
    fy = factories.make_fiscal_year("FY2026", start=D(2026, 2, 1))
    q3 = FiscalPeriod.objects.get(fiscal_year=fy, name="Q3")
    q4 = FiscalPeriod.objects.get(fiscal_year=fy, name="Q4")
    plan = factories.make_plan(name="FY26 plan", fiscal_year=fy)
    admin = factories.make_user("admin", username="an_admin")
    director = factories.make_user("director", username="an_director")
    manager = factories.make_user("manager", username="an_manager", manager=director)
    rep_a = factories.make_user("rep", username="an_rep_a", manager=manager)
    rep_b = factories.make_user("rep", username="an_rep_b", manager=director)
    other_dir = factories.make_user("director", username="an_other_dir")
    root = factories.make_territory(plan, code="ROOT", name="Root region")
    a = factories.make_territory(plan, code="A", name="Alpha desk", parent=root)
    b = factories.make_territory(plan, code="B", name="Beta desk", parent=root)
    other = factories.make_territory(plan, code="OTHER", name="Other region")
    start = D(2026, 1, 1)
    factories.assign(root, director, start_date=start)
    factories.assign(a, rep_a, start_date=start)
    factories.assign(b, rep_b, start_date=start)
    factories.assign(other, other_dir, start_date=start)
    a1 = factories.make_account(name="Alpha One", territory=a)
    a2 = factories.make_account(name="Alpha Two", territory=a)
    b1 = factories.make_account(name="Beta One", territory=b)
    o1 = factories.make_account(name="Other One", territory=other, state="US-NY")

    def deal(account, amount, created, close, **kw):
        return factories.make_opportunity(account, amount=amount, created_date=created, close_date=close, **kw)

    deal(a1, 100, D(2026, 8, 1), D(2026, 8, 11), **WON)
    deal(a2, 300, D(2026, 8, 1), D(2026, 8, 31), **WON)
    deal(a1, 70, D(2026, 8, 1), D(2026, 9, 1), **LOST)
    deal(a1, 50, D(2026, 8, 1), D(2026, 10, 20))
    deal(a2, 50, D(2026, 8, 1), D(2026, 10, 20))
    deal(a2, 999, D(2026, 8, 1), D(2026, 11, 5), **WON)
    deal(b1, 200, D(2026, 9, 1), D(2026, 9, 21), **WON)
    deal(b1, 10, D(2026, 8, 1), D(2026, 9, 2), **LOST)
    deal(b1, 20, D(2026, 8, 1), D(2026, 9, 3), **LOST)
    deal(o1, 55_555, D(2026, 8, 1), D(2026, 9, 15), **WON)
    Quota.objects.create(territory=a, period=q3, user=rep_a, amount=Decimal(800), ramp_factor=Decimal("0.5"))
    Quota.objects.create(territory=b, period=q3, user=rep_b, amount=Decimal(400))
    Quota.objects.create(territory=other, period=q3, amount=Decimal(10_000))
    for kind in ("call", "call", "email"):
        Activity.objects.create(account=a1, kind=kind, at=at(D(2026, 9, 10)))
    Activity.objects.create(account=a2, kind="call", at=at(D(2026, 10, 1)))
    Activity.objects.create(account=a2, kind="call", at=at(D(2026, 11, 10)))
    Activity.objects.create(account=b1, kind="meeting", at=at(D(2026, 9, 10)))
    grants_rebuild()
    return Company(
        users={"admin": admin, "director": director, "manager": manager, "rep": rep_a, "rep_b": rep_b,
               "other_dir": other_dir},
        plan=plan, q3=q3, q4=q4, t={"ROOT": root, "A": a, "B": b, "OTHER": other},
        accounts={"a1": a1, "a2": a2, "b1": b1, "o1": o1},
    )


def build_with_credit() -> Company:
    """The company plus forecast deals in every bucket, a change of hands in A during Q3 and an
    overlay territory split between two specialists (the forecast and credit tests)."""
    c = build()
    a1, a2, b1 = c.accounts["a1"], c.accounts["a2"], c.accounts["b1"]
    # Forecast: on top of the fixture's two open Prospecting deals of 50 in A (due Oct 20).
    factories.make_opportunity(a1, amount=1000, stage="negotiation", probability=80, created_date=D(2026, 8, 1),
                               close_date=D(2026, 10, 1))
    factories.make_opportunity(b1, amount=400, stage="proposal", probability=50, created_date=D(2026, 8, 1),
                               close_date=D(2026, 10, 1))
    factories.make_opportunity(b1, amount=7000, stage="negotiation", probability=90, created_date=D(2026, 8, 1),
                               close_date=D(2026, 12, 1))  # Q4: out
    # Credit: A changes hands on Aug 20 (inclusive end): rep_a keeps the Aug 11 deal, rep_c gets Aug 31.
    RepAssignment.objects.filter(territory=c.t["A"], user=c.users["rep"]).update(end_date=D(2026, 8, 20))
    rep_c = factories.make_user("rep", username="an_rep_c", manager=c.users["manager"])
    factories.assign(c.t["A"], rep_c, start_date=D(2026, 8, 21))
    # An overlay (50% credit) split 60/40 between two specialists, holding a2 all year and a1 until Aug 1.
    ov = factories.make_territory(c.plan, code="OV", name="Overlay specialists", is_overlay=True, credit_percent=50)
    ov1 = factories.make_user("rep", username="an_ov1")
    ov2 = factories.make_user("rep", username="an_ov2")
    factories.assign(ov, ov1, slot="overlay", split_percent=60, start_date=D(2026, 1, 1))
    factories.assign(ov, ov2, slot="overlay", split_percent=40, start_date=D(2026, 1, 1))
    jan = timezone.make_aware(dt.datetime(2026, 1, 1))
    AccountTerritory.objects.create(account=a2, territory=ov, plan=c.plan, is_primary=False, credit_percent=50,
                                    valid_from=jan)
    AccountTerritory.objects.create(account=a1, territory=ov, plan=c.plan, is_primary=False, credit_percent=50,
                                    valid_from=jan, valid_to=timezone.make_aware(dt.datetime(2026, 8, 1)))
    grants_rebuild()
    c.users.update(rep_c=rep_c, ov1=ov1, ov2=ov2)
    return c
