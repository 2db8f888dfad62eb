"""The demo company (``planning.demo`` / ``manage.py seed_demo``): reproducible, the right size,
and internally consistent.

The company is seeded once for the module (reference data and a seed take a few seconds), committed
outside the per-test transactions, and removed again when the module is done so that other test
modules start from an empty database. Tests that reseed run inside their own transaction, which is
rolled back afterwards.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F

from planning import demo
from planning.models import FiscalPeriod, FiscalYear, Quota
from routing import batch
from routing.traces import decision_traces
from salesos.models import Account, Activity, GeoArea, Industry, Lead, Leave, Opportunity, SalesProfile
from territories import placement
from territories.coverage import owner_ids_on as territory_owners
from territories.models import AccountTerritory, RepAssignment, RoutingDecision, Territory, TerritoryPlan

N = 1200
SEED = 7
ANCHOR = dt.date(2026, 5, 15)
User = get_user_model()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        had_reference = GeoArea.objects.filter(level=GeoArea.Level.POSTAL).exists()
        if demo.demo_data_exists():
            demo.reset_demo_data()
        report = demo.seed_demo(accounts=N, seed=SEED, anchor=ANCHOR)
    yield report
    with django_db_blocker.unblock():
        demo.reset_demo_data()
        if not had_reference:
            # Leave the database as we found it (raw deletes: the tree cascade is not needed when
            # the whole table goes).
            GeoArea.objects.all()._raw_delete(GeoArea.objects.db)
            Industry.objects.all()._raw_delete(Industry.objects.db)


def snapshot() -> dict[str, list[tuple]]:
    """The key fields of everything seeded, independent of database ids."""
    return {
        "users": sorted(
            SalesProfile.objects.values_list("user__username", "user__first_name", "user__last_name", "role",
                                             "manager__username", "hire_date", "ramp_months", "home_city")
        ),
        "territories": sorted(
            (code, name, str(rule), parent or "", priority)
            for code, name, rule, parent, priority in Territory.objects.values_list(
                "code", "name", "rule", "parent__code", "priority")
        ),
        "accounts": sorted(
            Account.objects.values_list("name", "domain", "country", "state", "city", "metro", "postal_code",
                                        "industry_code", "employees", "annual_revenue", "status", "created_at")
        ),
        "placements": placements_by_code(),
        "opportunities": sorted(
            Opportunity.objects.values_list("account__name", "account__domain", "name", "amount", "stage",
                                            "created_date", "close_date", "owner__username")
        ),
        "activities": sorted(Activity.objects.values_list("account__domain", "kind", "at", "user__username")),
        "leads": sorted(Lead.objects.values_list("company", "email", "status", "territory__code", "created_at")),
        "quotas": sorted(Quota.objects.values_list("territory__code", "period__name", "amount", "ramp_factor")),
    }


def placements_by_code() -> list[tuple]:
    """Each account's territory, owner (on the anchor date) and the territories its stored
    decision says matched, by code and username."""
    plan = TerritoryPlan.active()
    codes = dict(Territory.objects.values_list("pk", "code"))
    usernames = dict(User.objects.values_list("pk", "username"))
    owners = territory_owners(plan=plan, on=ANCHOR)
    rows = placement.current_primary_rows(plan).values_list(
        "account__domain", "territory_id", "decision__matched", "source")
    return sorted(
        (domain, codes[t_id], usernames.get(owners.get(t_id)), tuple(sorted(codes[m] for m in matched or [])), source)
        for domain, t_id, matched, source in rows
    )


def primary_rep(territory_id: int) -> int | None:
    return (
        RepAssignment.objects.filter(territory_id=territory_id, slot=RepAssignment.Slot.PRIMARY, end_date=None)
        .values_list("user_id", flat=True)
        .first()
    )


@pytest.mark.django_db
def test_sizes_and_demo_users(seeded):
    assert Account.objects.count() == N
    roles = dict(SalesProfile.objects.values_list("role").annotate(n=Count("id")))
    assert roles["director"] == 3
    assert roles["admin"] == 1
    assert 7 <= roles["manager"] <= 9
    assert 50 <= roles["rep"] <= 70
    expected = {"admin": "admin", "director": "director", "manager": "manager", "rep": "rep"}
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.sales_profile.role == role
        assert user.email == f"{username}@salesos.example"
        assert user.check_password(settings.SALESOS_DEMO_PASSWORD)
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert User.objects.get(username="director").sales_profile.region == "AMER"
    assert SalesProfile.objects.filter(title="Solutions Engineer", role="rep").count() >= 2
    assert not User.objects.exclude(email__endswith="@salesos.example").exists()
    # The demo rep owns a US leaf with plenty of accounts.
    rep = User.objects.get(username="rep")
    territory = Territory.objects.get(assignments__user=rep, assignments__slot="primary")
    assert territory.code.startswith("US")
    assert placement.accounts_in([territory.pk]).count() >= N * 0.01


@pytest.mark.django_db
def test_every_rep_reports_through_a_manager_to_a_director(seeded):
    manager_of = dict(SalesProfile.objects.values_list("user_id", "manager_id"))
    role_of = dict(SalesProfile.objects.values_list("user_id", "role"))
    for user_id, role in role_of.items():
        if role != "rep":
            continue
        seen, node = set(), user_id
        while role_of[node] != "director":
            assert node not in seen, "cycle in the org chart"
            seen.add(node)
            node = manager_of[node]
            assert node is not None, "chain ends before a director"
        assert role_of[manager_of[user_id]] == "manager"
    assert all(manager_of[u] is None for u, r in role_of.items() if r == "director")


@pytest.mark.django_db
def test_routing_rows_place_each_account_once_with_shared_decisions(seeded):
    plan = TerritoryPlan.objects.get(status="active")
    primary = AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to=None)
    account_ids = list(primary.values_list("account_id", flat=True))
    assert len(account_ids) == len(set(account_ids)) == N - placement.accounts_unassigned().count()
    # Every primary row points to a decision of this plan; accounts that matched the same
    # territories share one, so there are far fewer decisions than rows.
    assert not primary.filter(decision__isnull=True).exists()
    decisions = RoutingDecision.objects.all()
    assert decisions.count() == seeded.counts["  routing decisions"] == primary.values("decision_id").distinct().count()
    assert decisions.count() < N / 4
    assert set(decisions.values_list("plan_id", "plan_version", "locked_territory_id")) == {
        (plan.pk, plan.version, None)}
    # Overlays add credit rows, never a second primary, and carry no decision of their own.
    overlay_rows = AccountTerritory.objects.filter(is_primary=False)
    assert overlay_rows.exists()
    assert set(overlay_rows.values_list("territory__is_overlay", flat=True)) == {True}
    assert set(overlay_rows.values_list("credit_percent", flat=True)) == {50}
    assert not overlay_rows.filter(decision__isnull=False).exists()
    assert AccountTerritory.objects.filter(source="named").count() == Territory.objects.get(
        code="STRAT").named_accounts.count()


@pytest.mark.django_db
def test_routing_follows_the_design_rules(seeded):
    """Recompute every account's territory record by record with a plain (non-vectorised)
    reading of DESIGN.md and compare with what the seed stored."""
    plan = TerritoryPlan.objects.get(status="active")
    terrs = {t.pk: t for t in Territory.objects.filter(plan=plan)}
    named = {}
    for t in terrs.values():
        for account_id in t.named_accounts.values_list("id", flat=True):
            named.setdefault(account_id, set()).add(t.pk)

    def holds(rule, rec):
        if not rule:
            return True
        if "all" in rule:
            return all(holds(r, rec) for r in rule["all"])
        if "any" in rule:
            return any(holds(r, rec) for r in rule["any"])
        value = rec[rule["field"]]
        op, target = rule["op"], rule["value"]
        return {
            "eq": lambda: value == target, "in": lambda: value in target, "not_in": lambda: value not in target,
            "prefix": lambda: str(value).startswith(target), "gte": lambda: value >= target,
            "lt": lambda: value < target,
        }[op]()

    def ancestors(t):
        while t.parent_id:
            t = terrs[t.parent_id]
            yield t

    def matches(t, rec):
        if t.type == "named_account":
            return t.pk in named.get(rec["id"], ())
        return holds(t.rule, rec) and all(holds(a.rule, rec) for a in ancestors(t))

    tier = {"named_account": 0, "hybrid": 1}
    fields = ["id", "country", "region", "state", "metro", "postal_code", "employees"]
    for rec in placement.with_territory(Account.objects.all()).values(*fields, "industry_code", "current_territory_id"):
        rec["industry"] = rec["industry_code"]
        rec["territory_id"] = rec["current_territory_id"]
        cands = [t for t in terrs.values() if not t.is_overlay and matches(t, rec)]
        parents = {a.pk for c in cands for a in ancestors(c)}
        cands = [c for c in cands if c.pk not in parents]
        if not cands:
            assert rec["territory_id"] is None
            continue
        best = min(cands, key=lambda t: (tier.get(t.type, 2), -t.priority, t.code))
        assert rec["territory_id"] == best.pk, (rec, [c.code for c in cands])


@pytest.mark.django_db
def test_opportunities_are_consistent(seeded):
    stages = set(Opportunity.objects.values_list("stage", flat=True))
    assert stages == set(Opportunity.Stage.values)
    expected = {"closed_won": "won", "closed_lost": "lost"}
    for stage, status, probability in Opportunity.objects.values_list("stage", "status", "probability"):
        assert status == expected.get(stage, "open")
        assert (probability == 100) if stage == "closed_won" else (probability == 0 if stage == "closed_lost" else
                                                                    0 < probability < 100)
    assert not Opportunity.objects.filter(close_date__lt=F("created_date")).exists()
    assert 0.4 * N <= Opportunity.objects.count() <= 0.9 * N
    # Deals belong to their account's territory and its owner (on the anchor date: the backup
    # covers the rep on leave).
    plan = TerritoryPlan.objects.get(status="active")
    owners = territory_owners(plan=plan, on=ANCHOR)
    where = dict(placement.current_primary_rows(plan).values_list("account_id", "territory_id"))
    for account_id, territory_id, owner_id in Opportunity.objects.values_list("account_id", "territory_id",
                                                                              "owner_id"):
        assert territory_id == where.get(account_id)
        assert owner_id == (owners.get(territory_id) if territory_id else None)
    assert 2 * N <= Activity.objects.count() <= 3.5 * N
    fy_starts = {FiscalYear.objects.get(name="FY2026").start_date, FiscalYear.objects.get(name="FY2027").start_date}
    assert Opportunity.objects.filter(close_date__lt=max(fy_starts)).exists()
    assert Opportunity.objects.filter(close_date__gte=max(fy_starts)).exists()


@pytest.mark.django_db
def test_us_accounts_have_real_zip_codes_in_their_state(seeded):
    zips = dict(GeoArea.objects.filter(level="postal").values_list("code", "parent__code"))
    us = list(Account.objects.filter(country="US").values_list("postal_code", "state", "lat", "lon"))
    assert len(us) >= 0.6 * N
    for postal_code, state, lat, lon in us:
        assert zips.get(f"US-{postal_code}") == state
        assert lat is not None and lon is not None
    others = Account.objects.exclude(country="US")
    assert not others.exclude(postal_code="").exists()
    assert not others.filter(metro="").exists()
    assert set(Account.objects.values_list("country", flat=True)) >= {"US", "CA", "GB", "DE", "JP", "IN", "MX"}
    assert not Account.objects.exclude(industry_code=F("industry__code")).exists()


@pytest.mark.django_db
def test_plan_fiscal_years_and_hierarchy(seeded):
    plan = TerritoryPlan.objects.get(status="active")
    assert TerritoryPlan.objects.filter(status="active").count() == 1
    assert plan.name == "FY2027 Territory Plan"
    assert plan.fiscal_year.name == "FY2027"
    assert (plan.fiscal_year.start_date, plan.fiscal_year.end_date) == (dt.date(2026, 2, 1), dt.date(2027, 1, 31))
    assert plan.effective_date == dt.date(2026, 2, 1)
    for fy in FiscalYear.objects.all():
        quarters = list(FiscalPeriod.objects.filter(fiscal_year=fy).order_by("start_date"))
        assert [q.name for q in quarters] == ["Q1", "Q2", "Q3", "Q4"]
        assert quarters[0].start_date == fy.start_date and quarters[-1].end_date == fy.end_date
    depths = {t.code: t.tree_depth for t in Territory.objects.with_tree_fields()}
    assert max(depths.values()) == 3  # Global -> region -> area -> leaf
    assert depths["GLOBAL"] == 0 and depths["AMER"] == 1 and depths["USW"] == 2
    leaves = Territory.objects.filter(children__isnull=True, is_overlay=False)
    assert 50 <= leaves.count() <= 70
    types = set(Territory.objects.values_list("type", flat=True))
    assert types == set(Territory.Type.values)
    assert Territory.objects.filter(type="named_account", named_accounts__isnull=False).exists()
    overlay = Territory.objects.get(code="AMER-HCO")
    assert overlay.is_overlay and overlay.credit_percent == 50
    assert sorted(overlay.assignments.filter(slot="overlay").values_list("split_percent", flat=True)) == [50, 50]
    assert Quota.objects.filter(period__fiscal_year__name="FY2027").count() == 4 * leaves.count()


@pytest.mark.django_db
def test_someone_is_on_leave_today_with_a_backup(seeded):
    away = Leave.objects.filter(start__lte=ANCHOR, end__gte=ANCHOR)
    assert away.count() == 1
    user = away.get().user
    territory = Territory.objects.get(assignments__user=user, assignments__slot="primary")
    backup = territory.assignments.get(slot="backup")
    assert backup.user != user
    assert backup.start_date <= ANCHOR <= backup.end_date


@pytest.mark.django_db
def test_ramping_reps_have_reduced_quotas(seeded):
    ramping = [p for p in SalesProfile.objects.filter(role="rep") if p.is_ramping(ANCHOR)]
    assert ramping
    for profile in ramping:
        assert 3 <= profile.ramp_months <= 6
        assert 55 <= (ANCHOR - profile.hire_date).days <= 125
    quotas = Quota.objects.filter(user__in=[p.user for p in ramping], period__fiscal_year__name="FY2027")
    assert quotas.filter(ramp_factor__lt=1).count() >= len(ramping)
    # Only new hires carry reduced quotas.
    reduced = Quota.objects.filter(ramp_factor__lt=1).exclude(user=None)
    assert all((ANCHOR - q.user.sales_profile.hire_date).days <= 125 for q in reduced.select_related(
        "user__sales_profile"))


@pytest.mark.django_db
def test_coverage_gaps_exist_on_purpose(seeded):
    unassigned = placement.accounts_unassigned()
    assert unassigned.exists()
    assert set(unassigned.values_list("country", flat=True)) == {"MX"}
    vacant = Territory.objects.filter(children__isnull=True, is_overlay=False).exclude(
        assignments__slot="primary")
    assert 1 <= vacant.count() <= 2
    in_vacant = list(placement.accounts_in(vacant.values_list("pk", flat=True)).values_list("pk", flat=True))
    assert in_vacant
    assert all(p.owner is None for p in placement.placements(in_vacant).values())
    leads = Lead.objects.all()
    assert leads.count() == round(N * 0.05)
    assert leads.filter(territory=None, status="new").exists()
    assert leads.exclude(territory=None).exists()


@pytest.mark.django_db
def test_reproducible_for_the_same_seed_and_anchor(seeded):
    first = snapshot()
    demo.reset_demo_data()
    assert not Account.objects.exists()
    demo.seed_demo(accounts=N, seed=SEED, anchor=ANCHOR)
    assert snapshot() == first
    demo.reset_demo_data()
    demo.seed_demo(accounts=N, seed=SEED + 1, anchor=ANCHOR)
    other = snapshot()
    assert other["accounts"] != first["accounts"]
    assert other["users"] != first["users"]


@pytest.mark.django_db
def test_command_refuses_existing_data_unless_asked(seeded):
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "already exists" in out.getvalue()
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_demo", "--accounts", "300", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", "--reset", "--accounts", "300", "--seed", "3", "--anchor", "2026-05-15", stdout=out)
    assert Account.objects.count() == 300
    assert "Seeded 300 accounts" in out.getvalue()
    if connection.vendor == "postgresql":
        # The command leaves planner statistics for the rows it loaded (ANALYZE), so the first
        # list query does not plan against an "empty" table.
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Account._meta.db_table])
            assert cursor.fetchone()[0] == 300


def test_the_seed_routes_accounts_through_the_production_batch(django_db_setup, django_db_blocker, monkeypatch):
    """The routing rows are written by routing.batch's full re-route, called once for the plan as
    of its effective date, not by a resolver of the seed's own."""
    calls = []
    real = batch.plan_reroute

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(batch, "plan_reroute", spy)
    with django_db_blocker.unblock(), transaction.atomic():
        demo.reset_demo_data()
        demo.seed_demo(accounts=300, seed=SEED, anchor=ANCHOR)
        plan = TerritoryPlan.objects.get(status="active")
        assert len(calls) == 1
        assert calls[0]["plan"] == plan
        assert calls[0].get("account_ids") is None and calls[0].get("territory_ids") is None
        assert calls[0]["now"] == dt.datetime.combine(plan.effective_date, dt.time(0), tzinfo=dt.UTC)
        # A second full re-route has nothing to change.
        again = real(plan=plan, dry_run=True)
        assert again.changed == 0
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_history_starts_when_the_account_was_created_or_the_plan_took_effect(seeded):
    plan = TerritoryPlan.objects.get(status="active")
    effective = dt.datetime.combine(plan.effective_date, dt.time(0), tzinfo=dt.UTC)
    rows = list(AccountTerritory.objects.filter(plan=plan, valid_to=None).values_list("valid_from",
                                                                                      "account__created_at"))
    assert any(created > effective for _, created in rows)
    assert all(valid_from == max(created, effective) for valid_from, created in rows)


@pytest.mark.django_db
def test_the_routing_engine_agrees_with_the_seed(seeded):
    """The engine, record by record, reaches the stored decisions, overlays included, without a
    single tie."""
    try:
        from routing.engine import PlanIndex, PlanSpec, TerritorySpec, resolve
    except ImportError:  # pragma: no cover - the engine ships with the app
        pytest.skip("routing engine not available")
    plan = TerritoryPlan.objects.get(status="active")
    specs = tuple(
        TerritorySpec(id=t.pk, code=t.code, parent_id=t.parent_id, type=t.type, priority=t.priority, rule=t.rule,
                      is_overlay=t.is_overlay, credit_percent=t.credit_percent, status=t.status,
                      named_account_ids=frozenset(t.named_accounts.values_list("id", flat=True)))
        for t in Territory.objects.filter(plan=plan)
    )
    compiled = PlanIndex.build(PlanSpec(version=plan.version, territories=specs))
    overlays: dict[int, set] = {}
    for account_id, territory_id, credit in AccountTerritory.objects.filter(is_primary=False).values_list(
            "account_id", "territory_id", "credit_percent"):
        overlays.setdefault(account_id, set()).add((territory_id, credit))
    fields = ["id", "name", "domain", "country", "region", "state", "city", "metro", "postal_code", "employees",
              "annual_revenue", "industry_code", "territory_lock__territory_id"]
    # The stored decisions are the engine's own: each primary row's decision, rebuilt by
    # routing.traces.decision_trace, is exactly what the engine decides for its account.
    rows = list(AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to=None).select_related("decision"))
    rebuilt = {row.account_id: data for row, data in zip(rows, decision_traces(rows), strict=True)}
    for row in rows:
        assert rebuilt[row.account_id]["territory_id"] == row.territory_id
        assert any(c["outcome"] == "won" for c in rebuilt[row.account_id]["trace"]["candidates"])
    for rec in placement.with_territory(Account.objects.all()).values(*fields, "current_territory_id"):
        rec["industry"] = rec.pop("industry_code")
        rec["locked_territory_id"] = rec.pop("territory_lock__territory_id")
        decision = resolve(compiled, rec)
        assert decision.territory_id == rec["current_territory_id"], rec
        assert not decision.conflict
        assert set(decision.overlays) == overlays.get(rec["id"], set()), rec
        if decision.territory_id is not None:
            assert rebuilt[rec["id"]] == decision.to_dict(), rec
