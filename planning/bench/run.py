"""``manage.py bench_reassign``: a proposal moving 10% of the accounts with their open deals, on
the routing benchmark's synthetic world (``routing.bench``: its scratch-database guard, marks,
accounts and plan), timed against a floor measured in the same run.

* ``impact_s``: ``reassignment_impact`` of the proposal (the snapshot approvers see);
* ``execute_s``: ``reassignment_execute`` on its effective date (hash re-check, accounts locked
  and re-routed through the batch, deals and their history, the moves marked done);
* ``floor_s``: COPY of the moved ownership rows into a copy of the ``AccountTerritory`` table with
  its indexes, plus one UPDATE of the moved deals' owners (what moving them costs at the least).

The accounts moved are those of the first leaf territories, in id order, up to 10%: a rebalance
that empties some territories into one other, as a sales-ops admin would propose.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from planning.models import ApprovalPolicy, DealOwnerChange, Reassignment
from planning.reassignments.impact import reassignment_impact
from planning.reassignments.services import reassignment_execute, reassignment_propose, reassignment_submit
from routing import batch
from routing.bench import BENCH_DOMAIN, BENCH_USER_PREFIX, BenchRefused, cleanup, foreign_accounts
from routing.bench.marks import User
from routing.bench.synthetic import build_plan, insert_accounts, shape_for
from routing.models import Notification
from salesos.models import Account, Activity, Opportunity, SalesProfile
from territories import coverage
from territories.models import AccountTerritory, TerritoryPlan
from territories.placement import current_primary_rows

BENCH_POLICY = "Benchmark: no approval"
QUIET_MAIL = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}  # mail kept in memory
STAGES = ("prospecting", "qualification", "discovery", "proposal", "negotiation")


def _cleanup() -> None:
    """The benchmark's proposals, deals and policy, then the routing benchmark's rows."""
    bench_accounts = Account.objects.filter(domain__endswith=BENCH_DOMAIN).values("pk")
    plans = TerritoryPlan.objects.filter(name="Benchmark plan")
    with transaction.atomic():
        DealOwnerChange.objects.filter(reassignment__plan__in=plans).delete()
        Reassignment.objects.filter(plan__in=plans).delete()
        Activity.objects.filter(account_id__in=bench_accounts).delete()
        table = Opportunity._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {DealOwnerChange._meta.db_table} WHERE opportunity_id IN "  # noqa: S608
                           f"(SELECT id FROM {table} WHERE account_id IN (SELECT id FROM {Account._meta.db_table} "
                           "WHERE domain LIKE %s))", [f"%{BENCH_DOMAIN}"])
            cursor.execute(f"DELETE FROM {table} WHERE account_id IN (SELECT id FROM "  # noqa: S608
                           f"{Account._meta.db_table} WHERE domain LIKE %s)", [f"%{BENCH_DOMAIN}"])
        ApprovalPolicy.objects.filter(name=BENCH_POLICY).delete()
    cleanup()


def _insert_deals(plan: TerritoryPlan) -> int:
    """One open deal per placed account, owned by its territory's owner today (set-based)."""
    owners = coverage.owner_ids_on(plan=plan)
    t_ids = [t for t, u in owners.items() if u is not None]
    table = Opportunity._meta.db_table
    rows = AccountTerritory._meta.db_table
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, name, owner_id, territory_id, amount, stage, probability, status, "  # noqa: S608
            "created_date, close_date, created_at) "
            "SELECT r.account_id, 'Bench deal', o.owner, r.territory_id, 1000 + (r.account_id %% 50) * 1000, "
            "(%s::text[])[1 + r.account_id %% 5], 20, 'open', %s, %s, %s "
            f"FROM {rows} r JOIN unnest(%s::bigint[], %s::bigint[]) AS o(t, owner) ON o.t = r.territory_id "
            "WHERE r.plan_id = %s AND r.is_primary AND r.valid_to IS NULL",
            [list(STAGES), today, today + dt.timedelta(days=90), timezone.now(), t_ids,
             [owners[t] for t in t_ids], plan.pk],
        )
        return cursor.rowcount


def _chosen_accounts(plan: TerritoryPlan, leaf_ids: list[int], want: int) -> tuple[list[int], int]:
    """Accounts of the first leaf territories (id order) up to ``want``, and a leaf to move them to."""
    rows = current_primary_rows(plan)
    target = leaf_ids[-1]
    chosen: list[int] = []
    for t_id in leaf_ids[:-1]:
        if len(chosen) >= want:
            break
        chosen.extend(rows.filter(territory_id=t_id).values_list("account_id", flat=True))
    return sorted(chosen[:want]), target


def _floor(plan: TerritoryPlan, account_ids: list[int], target: int, deal_ids: list[int]) -> float:
    """COPY of the moved rows into an indexed copy of the ownership table, plus one UPDATE of the
    moved deals' owners; rolled back, so it leaves nothing behind."""
    table = AccountTerritory._meta.db_table
    now = timezone.now()
    row = (target, plan.pk, True, 100, "lock", False, "", now)
    elapsed = 0.0
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE bench_reassign_scratch (LIKE {table} INCLUDING ALL)")
            started = time.perf_counter()
            with cursor.connection.cursor().copy(
                "COPY bench_reassign_scratch (account_id, territory_id, plan_id, is_primary, credit_percent, "
                "source, conflict, reason, valid_from) FROM STDIN"
            ) as copy:
                for account_id in account_ids:
                    copy.write_row((account_id, *row))
            cursor.execute(f"UPDATE {Opportunity._meta.db_table} SET owner_id = owner_id WHERE id = ANY(%s)",  # noqa: S608
                           [deal_ids])
            elapsed = time.perf_counter() - started
            raise _RollBack
    except _RollBack:
        pass
    return elapsed


class _RollBack(Exception):
    pass


def run(*, accounts: int, territories: int, seed: int = 1, keep: bool = False, force: bool = False,
        log: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = log or (lambda _msg: None)
    if connection.vendor != "postgresql":
        raise BenchRefused("bench_reassign measures PostgreSQL (COPY, UPDATE ... FROM): set DATABASE_URL.")
    _cleanup()
    others = foreign_accounts()
    if others and not force:
        raise BenchRefused(f"The database holds {others} accounts that are not the benchmark's. Run it in a scratch "
                           "database (see the README), or pass --force.")
    out: dict[str, Any] = {"accounts": accounts, "database": connection.vendor, "seed": seed}
    previous = list(TerritoryPlan.objects.filter(status=TerritoryPlan.Status.ACTIVE).values_list("pk", flat=True))
    TerritoryPlan.objects.filter(pk__in=previous).update(status=TerritoryPlan.Status.ARCHIVED)
    try:
        started = time.perf_counter()
        User.objects.bulk_create([User(username=f"{BENCH_USER_PREFIX}{i}", email=f"rep{i}{BENCH_DOMAIN}")
                                  for i in range(200)])
        user_ids = list(User.objects.filter(username__startswith=BENCH_USER_PREFIX).values_list("pk", flat=True))
        SalesProfile.objects.bulk_create([SalesProfile(user_id=u, role=SalesProfile.Role.REP) for u in user_ids])
        admin = User.objects.create(username=f"{BENCH_USER_PREFIX}admin", email=f"admin{BENCH_DOMAIN}")
        SalesProfile.objects.create(user=admin, role=SalesProfile.Role.ADMIN)
        shape = shape_for(territories)
        insert_accounts(accounts, shape, seed)
        account_ids = list(Account.objects.filter(domain__endswith=BENCH_DOMAIN).values_list("pk", flat=True))
        plan, shape = build_plan(territories=territories, seed=seed, account_ids=account_ids, users=user_ids)
        batch.plan_reroute(plan=plan)
        deals = _insert_deals(plan)
        with connection.cursor() as cursor:
            for model in (Account, AccountTerritory, Opportunity):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        out["territories"], out["deals"] = len(shape.territory_ids), deals
        out["setup_s"] = round(time.perf_counter() - started, 2)
        say(f"setup: {out['setup_s']} s")

        ApprovalPolicy.objects.create(name=BENCH_POLICY, order=0, kinds=["move_accounts"])
        chosen, target = _chosen_accounts(plan, shape.leaf_ids, accounts // 10)
        effective = timezone.localdate() + dt.timedelta(days=1)
        proposal = reassignment_propose(by=admin, plan=plan, kind="move_accounts",
                                        change={"accounts": chosen, "to_territory": target},
                                        effective_date=effective, deal_policy="follow_territory",
                                        title="Benchmark rebalance")
        started = time.perf_counter()
        impact = reassignment_impact(reassignment=proposal)
        out["impact_s"] = round(time.perf_counter() - started, 3)
        say(f"impact: {out['impact_s']} s")
        with override_settings(MAILERS=QUIET_MAIL):
            proposal = reassignment_submit(by=admin, reassignment=proposal)
        out["status_before"] = proposal.status
        notes_before = Notification.objects.count()
        started = time.perf_counter()
        with override_settings(MAILERS=QUIET_MAIL):
            result = reassignment_execute(reassignment_id=proposal.pk, today=effective)
        out["execute_s"] = round(time.perf_counter() - started, 3)
        out["execute_phases"] = {**result.seconds, "commit": round(
            out["execute_s"] - sum(v for k, v in result.seconds.items() if "." not in k), 3)}
        out["execute_outcome"] = result.outcome
        # Everyone concerned hears once of the execution, however many accounts move.
        notes = Notification.objects.order_by("-pk")[: Notification.objects.count() - notes_before]
        people = [n.user_id for n in notes]
        out["notified_people"], out["notifications"] = len(set(people)), len(people)
        say(f"execute: {out['execute_s']} s ({result.outcome})")
        moved_deals = [d.id for d in impact.moving_deals]
        out["floor_s"] = round(_floor(plan, impact.account_ids.tolist(), target, moved_deals), 3)
        out["moved_accounts"], out["moved_deals"] = result.moved_accounts, result.moved_deals
        out["execute_over_floor"] = round(out["execute_s"] / out["floor_s"], 2) if out["floor_s"] else None
        placed = current_primary_rows(plan).filter(account_id__in=chosen[:1000], territory_id=target).count()
        out["checked_moved"] = placed == min(1000, len(chosen))
    finally:
        if not keep:
            _cleanup()
        TerritoryPlan.objects.filter(pk__in=previous).update(status=TerritoryPlan.Status.ACTIVE)
    return out
