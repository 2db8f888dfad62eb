"""Locking accounts to territories in bulk: an explicit move (a reassignment of a list of
accounts) without the general re-route.

A lock naming a routable, non-overlay territory of the plan wins whatever the rules say
(``engine.resolve``), and it changes only the primary row: the overlays depend on the rules'
matches, which a lock leaves as they are. So moving a locked account needs neither its facts
nor the engine: each current primary row is closed, and its successor opened in the locked
territory (source "lock", full credit, no conflict) under a decision holding the same matched
territories as the closed row's decision, with the lock. That is the row ``account_route`` and
``plan_reroute`` write for the account once it is locked (tests hold it to that).

``accounts_lock_move`` does it set-based: on PostgreSQL the moves go into a temporary table
(one COPY), then the accounts' row locks are taken (which every editor of an account takes
first), one ``INSERT ... ON CONFLICT`` sets the locks (``territories.AccountLock``: narrow rows,
the wide account rows are not rewritten), one ``UPDATE ... FROM`` closes the current rows, one
``INSERT ... SELECT`` stores the few distinct decisions and one ``INSERT ... SELECT`` opens the
new rows. Accounts the shortcut cannot serve (no current primary row, a row without a decision,
a target the engine would not honour) go through ``plan_reroute`` after their lock is set, so
the engine decides them. Call inside the caller's transaction: all or nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from routing.batch.reroute import plan_reroute
from routing.engine.plan import LOCK
from routing.services import plan_index, version_number
from salesos.models import Account
from territories.locks import LOCK_TABLE
from territories.models import AccountLock, AccountTerritory, RoutingDecision, TerritoryPlan

ID_CHUNK = 5_000


@dataclass
class LockMoveResult:
    moved: int = 0  # accounts whose primary row moved through the shortcut
    rerouted: int = 0  # accounts handed to the engine instead
    decisions: int = 0  # decisions stored
    seconds: dict[str, float] = field(default_factory=dict)  # per statement, PostgreSQL


def _honoured(plan: TerritoryPlan, territory_ids: set[int]) -> set[int]:
    """The territories a lock may name in this plan: routable and not overlays."""
    nodes = plan_index(plan=plan).nodes
    return {t for t in territory_ids if t in nodes and nodes[t].routable and not nodes[t].is_overlay}


def accounts_lock_move(*, plan: TerritoryPlan, account_ids: Sequence[int], to_ids: Sequence[int],
                       now: dt.datetime | None = None, reason: str = "") -> LockMoveResult:
    """Locks ``account_ids[i]`` to ``to_ids[i]`` and moves its current primary row there (see the
    module doc). ``reason`` goes on the new rows (which proposal moved them). Runs in a
    transaction (a savepoint inside the caller's)."""
    now = now or timezone.now()
    moves = dict(zip((int(a) for a in account_ids), (int(t) for t in to_ids), strict=True))
    result = LockMoveResult()
    if not moves:
        return result
    honoured = _honoured(plan, set(moves.values()))
    version = version_number(plan_index(plan=plan).version)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            served = _move_sql(plan, moves, honoured, version, now, reason[:200], result)
        else:
            served = _move_orm(plan, moves, honoured, version, now, reason[:200], result)
        rest = sorted(set(moves) - served)
        if rest:
            plan_reroute(plan=plan, account_ids=rest, now=now)
        result.moved, result.rerouted = len(served), len(rest)
    return result


def _move_sql(plan: TerritoryPlan, moves: dict[int, int], honoured: set[int], version: int, now: dt.datetime,
              reason: str, result: LockMoveResult) -> set[int]:
    rows, accounts, decisions = (AccountTerritory._meta.db_table, Account._meta.db_table,
                                 RoutingDecision._meta.db_table)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        result.seconds[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE lock_move (account_id bigint PRIMARY KEY, territory_id bigint NOT NULL) "
                       "ON COMMIT DROP")
        with cursor.connection.cursor().copy("COPY lock_move (account_id, territory_id) FROM STDIN") as copy:
            copy.write("".join(f"{a}\t{moves[a]}\n" for a in sorted(moves)))
        cursor.execute("ANALYZE lock_move")
        lap("temp")
        cursor.execute(
            f"SELECT count(*) FROM (SELECT a.id FROM {accounts} AS a JOIN lock_move m ON m.account_id = a.id "  # noqa: S608
            "ORDER BY a.id FOR UPDATE OF a) AS held")
        lap("lock_accounts")
        cursor.execute(
            f"INSERT INTO {LOCK_TABLE} (account_id, territory_id, locked_at) "  # noqa: S608
            "SELECT account_id, territory_id, %s FROM lock_move ORDER BY account_id "
            "ON CONFLICT (account_id) DO UPDATE SET territory_id = EXCLUDED.territory_id, "
            "locked_at = EXCLUDED.locked_at", [now])
        lap("lock")
        # The rows the shortcut serves: a current primary row with a decision, a target honoured.
        cursor.execute(
            "CREATE TEMP TABLE lock_closed ON COMMIT DROP AS "  # noqa: S608
            f"WITH closed AS (UPDATE {rows} AS r SET valid_to = %s FROM lock_move m, {decisions} d "
            "WHERE r.account_id = m.account_id AND r.plan_id = %s AND r.is_primary AND r.valid_to IS NULL "
            "AND d.id = r.decision_id AND m.territory_id = ANY(%s) "
            "RETURNING r.account_id, m.territory_id, d.matched::text AS matched) SELECT * FROM closed",
            [now, plan.pk, sorted(honoured)])
        lap("close")
        cursor.execute(
            "CREATE TEMP TABLE lock_decision ON COMMIT DROP AS "  # noqa: S608
            f"SELECT nextval(pg_get_serial_sequence('{decisions}', 'id')) AS id, matched, territory_id "
            "FROM (SELECT DISTINCT matched, territory_id FROM lock_closed) AS k")
        cursor.execute(
            f"INSERT INTO {decisions} (id, plan_id, plan_version, matched, locked_territory_id, created_at) "  # noqa: S608
            "SELECT id, %s, %s, matched::jsonb, territory_id, %s FROM lock_decision", [plan.pk, version, now])
        result.decisions = cursor.rowcount
        lap("decisions")
        cursor.execute(
            f"INSERT INTO {rows} (account_id, territory_id, plan_id, is_primary, credit_percent, source, "  # noqa: S608
            "decision_id, conflict, reason, valid_from) "
            "SELECT c.account_id, c.territory_id, %s, true, 100, %s, k.id, false, %s, %s "
            "FROM lock_closed c JOIN lock_decision k ON k.matched = c.matched AND k.territory_id = c.territory_id "
            "ORDER BY c.account_id",
            [plan.pk, LOCK, reason, now])
        lap("open")
        cursor.execute("SELECT account_id FROM lock_closed")
        served = {row[0] for row in cursor.fetchall()}
        cursor.execute("DROP TABLE lock_move, lock_closed, lock_decision")
    return served


def _move_orm(plan: TerritoryPlan, moves: dict[int, int], honoured: set[int], version: int, now: dt.datetime,
              reason: str, result: LockMoveResult) -> set[int]:
    """The same through the ORM (other databases; small sets)."""
    ids = sorted(moves)
    for start in range(0, len(ids), ID_CHUNK):
        list(Account.objects.select_for_update().filter(pk__in=ids[start : start + ID_CHUNK]).order_by("pk")
             .values_list("pk", flat=True))
    AccountLock.objects.bulk_create([AccountLock(account_id=a, territory_id=moves[a], locked_at=now) for a in ids],
                                    batch_size=1000, update_conflicts=True, unique_fields=["account"],
                                    update_fields=["territory", "locked_at"])
    current: list[tuple[int, int, list[int]]] = []
    for start in range(0, len(ids), ID_CHUNK):
        current.extend(
            AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True,
                                            account_id__in=ids[start : start + ID_CHUNK], decision__isnull=False)
            .values_list("pk", "account_id", "decision__matched"))
    current = [row for row in current if moves[row[1]] in honoured]
    keys = {(tuple(sorted(int(t) for t in matched or ())), moves[a]) for _, a, matched in current}
    made = RoutingDecision.objects.bulk_create(
        [RoutingDecision(plan=plan, plan_version=version, matched=list(m), locked_territory_id=t, created_at=now)
         for m, t in sorted(keys)], batch_size=500)
    decision_of = {(tuple(d.matched), d.locked_territory_id): d.pk for d in made}
    result.decisions = len(made)
    pks = [pk for pk, _, _ in current]
    for start in range(0, len(pks), ID_CHUNK):
        AccountTerritory.objects.filter(pk__in=pks[start : start + ID_CHUNK]).update(valid_to=now)
    AccountTerritory.objects.bulk_create(
        [AccountTerritory(account_id=a, territory_id=moves[a], plan=plan, is_primary=True, credit_percent=100,
                          source=LOCK, conflict=False, reason=reason, valid_from=now,
                          decision_id=decision_of[(tuple(sorted(int(t) for t in matched or ())), moves[a])])
         for _, a, matched in current], batch_size=1000)
    return {a for _, a, _ in current}
