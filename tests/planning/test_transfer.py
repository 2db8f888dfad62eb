"""Plan export and import: a plan survives the round trip (the same file again, the same account
placements), and a faulty file is refused whole, with every problem and its path."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from planning.models import FiscalPeriod, Quota
from planning.transfer import PlanImportError, plan_export, plan_import
from routing import engine
from routing.services import plan_index, record_of
from salesos.models import Account, SalesProfile
from territories.models import RepAssignment, Territory, TerritoryPlan
from tests import factories

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role


@pytest.fixture
def world():
    fy = factories.make_fiscal_year("FY2026")
    plan = factories.make_plan(name="FY26 map", fiscal_year=fy, description="The live map")
    amer = factories.make_territory(plan, code="AMER", name="Americas",
                                    rule={"all": [{"field": "country", "op": "in", "value": ["US", "CA"]}]})
    west = factories.make_territory(plan, code="US-WEST", name="US West", parent=amer, priority=5,
                                    rule={"all": [{"field": "state", "op": "in", "value": ["US-CA", "US-OR"]}]})
    factories.make_territory(plan, code="US-EAST", name="US East", parent=amer,
                             rule={"all": [{"field": "state", "op": "in", "value": ["US-NY", "US-MA"]}]})
    big = factories.make_territory(plan, code="US-WEST-ENT", name="West enterprise", parent=west, type="hybrid",
                                   rule={"all": [{"field": "employees", "op": "gte", "value": 1000}]})
    named = factories.make_territory(plan, code="KEY", name="Key accounts", type="named_account")
    factories.make_territory(plan, code="HC", name="Healthcare overlay", is_overlay=True, credit_percent=40,
                             type="industry", rule={"all": [{"field": "industry", "op": "in", "value": ["62"]}]})
    rep, backup, specialist = (factories.make_user(Role.REP, username=u) for u in ("wendy", "bob", "hana"))
    factories.assign(west, rep, start_date=dt.date(2026, 2, 1))
    factories.assign(west, backup, slot=RepAssignment.Slot.BACKUP, start_date=dt.date(2026, 2, 1))
    factories.assign(big, specialist, slot=RepAssignment.Slot.OVERLAY, split_percent=50,
                     start_date=dt.date(2026, 2, 1), end_date=dt.date(2026, 6, 30))
    q1 = FiscalPeriod.objects.get(fiscal_year=fy, name="Q1")
    Quota.objects.create(territory=west, period=q1, user=rep, amount=Decimal("1250000.50"),
                         ramp_factor=Decimal("0.750"))
    accounts = [
        factories.make_account(state="US-CA", employees=50),
        factories.make_account(state="US-CA", employees=5000, industry_code="622110"),
        factories.make_account(state="US-OR", employees=20),
        factories.make_account(state="US-NY", employees=20, industry_code="621111"),
        factories.make_account(state="US-TX", employees=20),
        factories.make_account(country="CA", state="CA-ON", employees=20),
        factories.make_account(country="DE", state="DE-BE", employees=20, domain="kaiser.example"),
        factories.make_account(country="FR", state="FR-IDF", employees=20),  # no domain: named by id
    ]
    named.named_accounts.set([accounts[6], accounts[7], accounts[0]])
    Account.objects.filter(pk=accounts[0].pk).update(domain="shared.example")
    factories.make_account(domain="shared.example", country="JP", state="JP-13")  # the domain is not unique
    return plan


def _placements(plan: TerritoryPlan) -> dict[int, tuple]:
    compiled = plan_index(plan=plan)
    code = dict(Territory.objects.filter(plan=plan).values_list("pk", "code"))
    out = {}
    for account in Account.objects.order_by("pk"):
        decision = engine.resolve(compiled, record_of(account))
        out[account.pk] = (code.get(decision.territory_id), decision.source,
                           tuple((code[t], credit) for t, credit in decision.overlays), decision.conflict)
    return out


def _comparable(document: dict) -> dict:
    document = copy.deepcopy(document)
    document.pop("exported_at")
    document["plan"].pop("name")
    document["plan"].pop("status")
    return document


def test_round_trip_gives_the_same_plan_and_the_same_placements(world):
    exported = json.loads(json.dumps(plan_export(plan=world)))
    imported = plan_import(document=exported)

    assert imported.status == TerritoryPlan.Status.DRAFT
    assert imported.name == "FY26 map (imported)"
    assert imported.fiscal_year_id == world.fiscal_year_id
    assert _comparable(plan_export(plan=imported)) == _comparable(exported)
    before, after = _placements(world), _placements(imported)
    assert after == before
    assert {p[0] for p in before.values()} >= {"US-WEST", "US-WEST-ENT", "US-EAST", "AMER", "KEY", None}
    assert any(p[2] for p in before.values())  # an overlay credit took part


def test_export_names_accounts_by_domain_unless_the_domain_is_shared(world):
    key = next(t for t in plan_export(plan=world)["territories"] if t["code"] == "KEY")
    kinds = sorted(("domain" if "domain" in k else "account_id") for k in key["named_accounts"])
    assert kinds == ["account_id", "account_id", "domain"]
    assert {"domain": "kaiser.example", "name": key["named_accounts"][-1]["name"]} in key["named_accounts"]


def test_parents_come_before_children_and_quotas_are_exact(world):
    rows = plan_export(plan=world)["territories"]
    position = {row["code"]: i for i, row in enumerate(rows)}
    for row in rows:
        if row["parent"]:
            assert position[row["parent"]] < position[row["code"]]
    west = rows[position["US-WEST"]]
    assert west["quotas"] == [{"fiscal_year": "FY2026", "period": "Q1", "amount": "1250000.50",
                               "ramp_factor": "0.750", "username": "wendy"}]
    assert [r["slot"] for r in west["reps"]] == ["backup", "primary"]


def _broken(document: dict) -> dict:
    bad = copy.deepcopy(document)
    rows = {row["code"]: row for row in bad["territories"]}
    rows["US-EAST"]["rule"] = {"all": [{"field": "state", "op": "bogus", "value": ["US-NY"]}]}
    rows["US-EAST"]["code"] = "US-WEST"  # a duplicate code
    rows["HC"]["parent"] = "NOWHERE"
    rows["US-WEST"]["reps"][1]["username"] = "ghost"
    rows["US-WEST"]["quotas"][0]["period"] = "Q9"
    rows["US-WEST"]["quotas"][0]["amount"] = "-5"
    rows["KEY"]["named_accounts"].append({"account_id": 999999})
    rows["AMER"]["credit_percent"] = 140
    bad["plan"]["fiscal_year"] = "FY1999"
    return bad


def test_a_faulty_file_is_refused_whole_with_every_problem_and_its_path(world):
    bad = _broken(plan_export(plan=world))
    counts = (TerritoryPlan.objects.count(), Territory.objects.count(), RepAssignment.objects.count(),
              Quota.objects.count())
    with pytest.raises(PlanImportError) as caught:
        plan_import(document=bad)
    paths = {path for path, _ in caught.value.problems}
    index = {row["code"]: i for i, row in enumerate(bad["territories"]) if row["code"] != "US-WEST"}
    west = next(i for i, row in enumerate(bad["territories"]) if row["code"] == "US-WEST" and row["reps"])
    east = next(i for i, row in enumerate(bad["territories"]) if row["code"] == "US-WEST" and not row["reps"])
    assert {
        "plan.fiscal_year",
        f"territories[{max(east, west)}].code",  # the second of the two
        f"territories[{east}].rule.all[0].op",
        f"territories[{index['HC']}].parent",
        f"territories[{west}].reps[1].username",
        f"territories[{west}].quotas[0].period",
        f"territories[{west}].quotas[0].amount",
        f"territories[{index['KEY']}].named_accounts[3]",
        f"territories[{index['AMER']}].credit_percent",
    } <= paths
    assert counts == (TerritoryPlan.objects.count(), Territory.objects.count(), RepAssignment.objects.count(),
                      Quota.objects.count())


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ([], ""),
        ({"format": "other", "version": 1, "plan": {"name": "X"}, "territories": []}, "format"),
        ({"format": "salesos.plan", "version": 2, "plan": {"name": "X"}, "territories": []}, "version"),
        ({"format": "salesos.plan", "version": 1, "plan": {"name": ""}, "territories": []}, "plan.name"),
        ({"format": "salesos.plan", "version": 1, "plan": {"name": "X"}, "territories": {}}, "territories"),
        ({"format": "salesos.plan", "version": 1, "plan": {"name": "X"}, "territories": [
            {"code": "A", "name": "A", "parent": "B"}, {"code": "B", "name": "B", "parent": "A"}]},
         "territories[0].parent"),
        ({"format": "salesos.plan", "version": 1, "plan": {"name": "X"}, "territories": [
            {"code": "has space", "name": "A"}]}, "territories[0].code"),
        ({"format": "salesos.plan", "version": 1, "plan": {"name": "X"}, "territories": [
            {"code": "A", "name": "A", "colour": "red"}]}, "territories[0].colour"),
        ({"format": "salesos.plan", "version": 1, "plan": {"name": "X"}, "territories": [
            {"code": "A", "name": "A", "reps": [
                {"username": "wendy", "slot": "primary", "start_date": "2026-02-01"},
                {"username": "bob", "slot": "primary", "start_date": "2026-03-01"}]}]},
         "territories[0].reps[1]"),
        ({"format": "salesos.plan", "version": 1, "plan": {"name": "X"}, "territories": [
            {"code": "A", "name": "A", "priority": "high"}]}, "territories[0].priority"),
    ],
)
def test_each_kind_of_fault_names_its_path(world, document, path):
    with pytest.raises(PlanImportError) as caught:
        plan_import(document=document)
    assert path in {p for p, _ in caught.value.problems}, caught.value.problems
    assert not TerritoryPlan.objects.filter(name="X").exists()


def test_a_chosen_name_must_be_free(world):
    with pytest.raises(PlanImportError) as caught:
        plan_import(document=plan_export(plan=world), name="fy26 MAP")
    assert caught.value.problems == [("plan.name", 'A plan named "fy26 MAP" already exists; choose another name.')]
    assert plan_import(document=plan_export(plan=world), name="FY27 draft").name == "FY27 draft"


def test_commands_round_trip_and_report_problems(world, tmp_path, capsys):
    target = tmp_path / "plan.json"
    call_command("export_plan", "--plan", str(world.pk), "--output", str(target))
    call_command("import_plan", str(target), "--as-draft", "--name", "From the command")
    imported = TerritoryPlan.objects.get(name="From the command")
    assert imported.status == TerritoryPlan.Status.DRAFT and imported.territories.count() == 6

    target.write_text(json.dumps(_broken(json.loads(target.read_text()))))
    with pytest.raises(CommandError, match=r"problem\(s\); nothing was imported"):
        call_command("import_plan", str(target), "--as-draft")
    assert "plan.fiscal_year: No fiscal year named 'FY1999'." in capsys.readouterr().err

    target.write_text("{not json")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("import_plan", str(target), "--as-draft")
    with pytest.raises(CommandError, match="No plan with id"):
        call_command("export_plan", "--plan", "987654")
