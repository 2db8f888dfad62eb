"""Proposals for vacant territories: round-robin order by load, capacity with ramp, stale
proposals refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from territories import staffing
from territories.models import RepAssignment
from tests import factories

pytestmark = pytest.mark.django_db
OLD = dt.date(2020, 1, 1)


@pytest.fixture
def plan():
    return factories.make_plan()


def rep(name, **kw):
    kw.setdefault("hire_date", OLD)
    return factories.make_user("rep", username=name, **kw)


def test_round_robin_rotates_by_current_load(plan):
    ann, cy = rep("ann"), rep("cy")
    rep("bob")
    busy = [factories.make_territory(plan, code=f"B{i}") for i in range(2)]
    factories.assign(busy[0], ann)
    factories.assign(busy[1], ann)
    factories.assign(factories.make_territory(plan, code="C0"), cy)
    vacant = [factories.make_territory(plan, code=f"V{i}") for i in range(5)]
    factories.make_leave(rep("dee"))  # on leave: gets nothing
    p = staffing.staffing_proposal(plan=plan, method="round_robin")
    got = [(pick.territory.code, pick.user.username) for pick in p.picks]
    # Loads ann 2, bob 0, cy 1: the least loaded rep takes each next vacancy (ties by name).
    assert got == [("V0", "bob"), ("V1", "bob"), ("V2", "cy"), ("V3", "ann"), ("V4", "bob")]
    assert [t.code for t in vacant] == [c for c, _ in got]


def test_capacity_respects_capacity_and_ramp(plan):
    # Senior: room 100 accounts. New hire: 400 capacity but 0% ramped today -> no room.
    senior = rep("senior", capacity_accounts=100)
    rep("newbie", capacity_accounts=400, hire_date=dt.date.today(), ramp_months=6)
    rep("half", capacity_accounts=120, hire_date=dt.date.today() - dt.timedelta(days=91), ramp_months=6)
    held = factories.make_territory(plan, code="HELD")
    factories.assign(held, senior)
    for _ in range(40):
        factories.make_account(territory=held)
    big = factories.make_territory(plan, code="BIG")
    small = factories.make_territory(plan, code="SMALL")
    huge = factories.make_territory(plan, code="HUGE")
    for territory, n in ((big, 50), (small, 20), (huge, 500)):
        for _ in range(n):
            factories.make_account(territory=territory)
    p = staffing.staffing_proposal(plan=plan, method="capacity", measure="accounts")
    picks = {pick.territory.code: pick for pick in p.picks}
    assert picks["HUGE"].user is None and "no rep has room" in picks["HUGE"].note
    # BIG (50) first: senior has 60 left -> 10 after; half has ~60 (120 x ~0.5) -> ~10 after.
    assert picks["BIG"].user.username in ("senior", "half")
    assert all(pick.user is None or pick.user.username != "newbie" for pick in p.picks)
    for pick in p.assigned:
        assert pick.after <= pick.capacity
    ramping = [pick for pick in p.assigned if pick.user.username == "half"]
    assert ramping and "ramping" in ramping[0].note
    assert picks["BIG"].user != picks["SMALL"].user or picks["SMALL"].after <= picks["SMALL"].capacity


def test_weighted_pipeline_measure(plan):
    rep("ann", capacity_pipeline=Decimal(100_000))
    t = factories.make_territory(plan, code="T")
    acc = factories.make_account(territory=t)
    factories.make_opportunity(acc, amount=Decimal(200_000), probability=25)  # weighted 50k
    p = staffing.staffing_proposal(plan=plan, method="capacity", measure="pipeline")
    assert p.picks[0].load == Decimal(50_000) and p.picks[0].user.username == "ann"
    p = staffing.staffing_proposal(plan=plan, method="capacity", measure="deals")
    assert p.picks[0].user is None  # 200k of deal volume is over 100k capacity


def test_apply_assigns_and_stale_proposal_is_refused(plan):
    admin = factories.make_user("admin")
    rep("ann")
    rep("bob")
    factories.make_territory(plan, code="V1")
    factories.make_territory(plan, code="V2")
    c = Client()
    c.force_login(admin)
    r = c.get(reverse("territories:propose"), {"method": "round_robin"})
    assert r.status_code == 200 and "Confirm 2 assignments" in r.content.decode()
    shown = r.context["proposal"].hash
    # Someone fills V1 meanwhile: the recomputed proposal differs.
    factories.assign(plan.territories.get(code="V1"), factories.make_user("rep", username="zed"))
    r = c.post(reverse("territories:propose"), {"method": "round_robin", "measure": "accounts", "hash": shown,
                                                "apply": "yes"})
    assert r.status_code == 409 and "data changed" in r.content.decode()
    assert RepAssignment.objects.count() == 1
    fresh = r.context["proposal"].hash
    r = c.post(reverse("territories:propose"), {"method": "round_robin", "measure": "accounts", "hash": fresh,
                                                "apply": "yes"})
    assert r.status_code == 302
    v2 = plan.territories.get(code="V2").assignments.get()
    assert v2.slot == "primary" and v2.history.latest().history_user == admin


# --- who may be proposed, and why ------------------------------------------------------------------


@pytest.fixture
def org(plan):
    """AMER (director dina) > USW (manager max) > vacancy BR; another manager's team elsewhere."""
    dina = factories.make_user("director", username="dina")
    max_ = factories.make_user("manager", username="max", manager=dina)
    other = factories.make_user("manager", username="olga")
    amer = factories.make_territory(plan, code="AMER")
    usw = factories.make_territory(plan, code="USW", parent=amer)
    factories.assign(amer, dina)
    factories.assign(usw, max_)
    vacancy = factories.make_territory(plan, code="BR", name="Brazil", parent=usw)
    return {"dina": dina, "max": max_, "olga": other, "amer": amer, "usw": usw, "br": vacancy}


@pytest.mark.parametrize("method", ["round_robin", "capacity"])
def test_a_solutions_engineer_on_another_team_is_never_proposed_as_primary(plan, org, method):
    # The specialist is the least loaded and has the most room: still never a primary.
    rep("se", manager=org["olga"], specialist=True, title="Solutions Engineer", capacity_accounts=10_000)
    outsider = rep("otto", manager=org["olga"], capacity_accounts=50)
    p = staffing.staffing_proposal(plan=plan, method=method)
    pick = next(p for p in p.picks if p.territory.code == "BR")
    assert pick.user == outsider and pick.slot == RepAssignment.Slot.PRIMARY
    assert "from any team" in pick.why


def test_picks_prefer_the_territorys_manager_then_its_director(plan, org):
    outsider = rep("otto", manager=org["olga"])  # no territories: the least loaded overall
    in_org = rep("ivy", manager=org["dina"])
    for i in range(2):
        factories.assign(factories.make_territory(plan, code=f"IVY{i}"), in_org)
    p = staffing.staffing_proposal(plan=plan, method="round_robin")
    pick = next(p for p in p.picks if p.territory.code == "BR")
    assert pick.user == in_org and "Dina Tester’s organisation (AMER)" in pick.why
    in_team = rep("tom", manager=org["max"])
    for i in range(3):
        factories.assign(factories.make_territory(plan, code=f"TOM{i}"), in_team)
    p = staffing.staffing_proposal(plan=plan, method="round_robin")
    pick = next(p for p in p.picks if p.territory.code == "BR")
    assert pick.user == in_team and "Max Tester’s team (USW)" in pick.why
    assert outsider not in [p.user for p in p.picks]


def test_an_overlay_vacancy_gets_a_specialist_as_overlay(plan, org, admin_user):
    se = rep("se", manager=org["max"], specialist=True)
    rep("ann", manager=org["max"])
    overlay = factories.make_territory(plan, code="HC-OVL", is_overlay=True, parent=org["usw"])
    p = staffing.staffing_proposal(plan=plan, method="round_robin")
    pick = next(p for p in p.picks if p.territory == overlay)
    assert pick.user == se and pick.slot == RepAssignment.Slot.OVERLAY and "specialist" in pick.why
    staffing.staffing_apply(plan=plan, method="round_robin", measure="accounts", shown_hash=p.hash, by=admin_user)
    held = RepAssignment.objects.get(territory=overlay)
    assert (held.user, held.slot, held.split_percent) == (se, RepAssignment.Slot.OVERLAY, 100)
    assert RepAssignment.objects.get(territory=org["br"]).user.username == "ann"


def test_the_page_shows_why_each_pick_was_made(plan, org, admin_user):
    rep("tom", manager=org["max"])
    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("territories:propose")).content.decode()
    assert "Max Tester’s team (USW); fewest territories" in page
