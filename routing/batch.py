"""Batch re-routing: many accounts at once, set-based, writing only what changes.

``plan_reroute`` produces exactly the rows, ``Account.territory`` and ``Account.owner`` that
``services.account_route`` would produce account by account (tests hold it to that), but works
in chunks of accounts read by keyset pagination:

1. read the chunk's routable fields (one query) and its current ``AccountTerritory`` rows (one
   query);
2. decide each account. Accounts whose routable facts fall in the same *class* share one
   decision: a plan reads a field only through the values, prefixes and thresholds its rules
   mention, so two records that agree on those (and on their lock and named-list membership)
   match exactly the same territories (``FactClasses``). A 1M-account table typically holds a
   few thousand classes; each is resolved once per run;
3. diff against the current rows and, unless it is a dry run, close the rows that change
   (``valid_to = now``), insert their successors (COPY on PostgreSQL) and update the
   ``Account`` mirror where it changes, all in one transaction per chunk. The trace JSON is
   produced only for rows that are written.

Scope "territories" is the path taken after one territory's rule changed: the accounts that
may move are those currently in the territories' subtrees plus those the new rules can match
(``rule_to_q`` over the territory's chain of rules, named lists, locks), found in SQL without
scanning every account in Python.

``reroute_job_start`` records a ``RoutingJob`` and queues ``routing.tasks.reroute_job_run``
after commit; the job's counters move every chunk so its page can poll them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from routing import engine
from routing.compile import rule_to_q
from routing.engine.evaluate import _number as number
from routing.engine.evaluate import prepare
from routing.engine.fields import HIERARCHY, NUMBER_TYPES, PREFIX
from routing.engine.resolve import _decide as decide
from routing.models import AccountTerritory, RoutingJob
from routing.services import (
    ACCOUNT_COLUMNS,
    account_value_columns,
    compiled_plan,
    desired_rows,
    plan_spec,
    record_from_values,
    territory_owners,
)
from salesos.models import Account
from territories.models import Territory, TerritoryPlan

log = logging.getLogger(__name__)

CHUNK_SIZE = 25_000  # accounts per chunk: one read, one diff, one transaction
ID_CHUNK_SIZE = 10_000  # when the scope is a list of ids (bounded by SQL parameter limits)
SAMPLE_SIZE = 200  # moves kept for the dry-run page
# Decisions kept across chunks. Past this the cache starts over (memory stays bounded even on a
# plan whose rules tell every account apart).
DECISION_CACHE_LIMIT = 200_000

MANUAL = AccountTerritory.Source.MANUAL
SCOPES = tuple(RoutingJob.Scope.values)

# A current row's identity for the diff: (territory_id, is_primary, credit_percent, source),
# the fields ``services.Row`` compares.
RowKey = tuple[int, bool, int, str]


# --- fact classes ------------------------------------------------------------------------------

_NONE = object()


class FactClasses:
    """Maps a record to a key such that records with equal keys get equal decisions.

    For every field some rule reads, the key holds what the rules can tell about it: for text,
    the value when a rule names it exactly (else one "other" class) plus the rule prefixes it
    starts with; for numbers, where the value falls among the rule thresholds. Fields no rule
    reads are left out. The record id enters only when a named list holds it, the lock always.
    """

    def __init__(self, spec: engine.PlanSpec):
        exact: dict[str, set[str]] = {}
        prefixes: dict[str, set[str]] = {}
        thresholds: dict[str, set[Any]] = {}
        read: set[str] = set()
        self.named_ids: frozenset[int] = frozenset().union(
            *(t.named_account_ids for t in spec.territories if t.type == engine.NAMED_ACCOUNT)
        )
        for t in spec.territories:
            if t.type == engine.NAMED_ACCOUNT or not t.rule:
                continue
            try:
                rule = engine.validate(t.rule)
            except engine.RuleError:
                continue  # the territory matches nothing (CompiledPlan.problems)
            for name, op, value in _conditions(rule):
                read.add(name)
                f = engine.FIELDS[name]
                values = value if isinstance(value, list) else [value]
                if op == "is_empty":
                    continue
                if f.type in NUMBER_TYPES:
                    convert = Decimal if f.type == "money" else int
                    thresholds.setdefault(name, set()).update(convert(v) for v in values)
                elif op == PREFIX or f.type == HIERARCHY:
                    prefixes.setdefault(name, set()).update(engine.fold(v) for v in values)
                else:
                    exact.setdefault(name, set()).update(engine.fold(v) for v in values)
        # (record key, model column, classifier) for each field some rule reads.
        self.fields: list[tuple[str, str, Callable[[Any], Any]]] = []
        for name in sorted(read):
            f = engine.FIELDS[name]
            if f.type in NUMBER_TYPES:
                classify = _number_classifier(sorted(thresholds.get(name, ())))
            else:
                classify = _text_classifier(exact.get(name, set()), prefixes.get(name, set()))
            self.fields.append((name, ACCOUNT_COLUMNS[name], classify))
        self._memo: list[dict[Any, Any]] = [{} for _ in self.fields]

    def key(self, values: Mapping[str, Any]) -> tuple:
        parts: list[Any] = []
        for (_, column, classify), memo in zip(self.fields, self._memo, strict=True):
            raw = values[column]
            cls = memo.get(raw, _NONE)
            if cls is _NONE:
                cls = classify(raw)
                if len(memo) < 100_000:  # free text (names) would otherwise grow without end
                    memo[raw] = cls
            parts.append(cls)
        account_id = values["id"]
        parts.append(account_id if account_id in self.named_ids else None)
        parts.append(values["locked_territory_id"])
        return tuple(parts)


def _conditions(node: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for kind in ("all", "any"):
        if kind in node:
            for member in node[kind]:
                yield from _conditions(member)
            return
    if node:
        yield node["field"], node["op"], node["value"]


def _text_classifier(exact: set[str], prefixes: set[str]) -> Callable[[Any], Any]:
    lengths = sorted({len(p) for p in prefixes})
    fold = engine.fold

    def classify(raw: Any) -> Any:
        if raw is None or raw == "":
            return None  # missing: is_empty true, positive operators false
        value = fold(raw if isinstance(raw, str) else str(raw))
        hits = tuple(value[:n] for n in lengths if n <= len(value) and value[:n] in prefixes)
        return (value if value in exact else "", hits)

    return classify


def _number_classifier(thresholds: Sequence[Any]) -> Callable[[Any], Any]:
    def classify(raw: Any) -> Any:
        value = number(raw)  # the engine's own coercion, so both see the same number
        if value is None:
            return None
        at = bisect.bisect_left(thresholds, value)
        return (at, at < len(thresholds) and thresholds[at] == value)

    return classify


# --- decisions -------------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """One decision with what the diff needs, shared by every account of its fact class."""

    decision: engine.Decision
    wanted: dict[int, RowKey]  # territory_id -> desired current row
    wanted_set: frozenset[RowKey]
    _trace_json: str | None = None

    @property
    def trace_json(self) -> str:
        if self._trace_json is None:
            self._trace_json = json.dumps(self.decision.to_dict())
        return self._trace_json


def _outcome(decision: engine.Decision) -> Outcome:
    wanted = {t: (r.territory_id, r.is_primary, r.credit_percent, r.source) for t, r in desired_rows(decision).items()}
    return Outcome(decision, wanted, frozenset(wanted.values()))


# --- results ---------------------------------------------------------------------------------


@dataclass
class RerouteResult:
    plan_id: int
    scope: str
    dry_run: bool
    total: int = 0  # accounts in scope
    processed: int = 0
    changed: int = 0  # accounts with at least one write (rows or the Account mirror)
    moved: int = 0  # accounts whose primary territory changes
    newly_assigned: int = 0
    newly_unassigned: int = 0
    rows_closed: int = 0
    rows_inserted: int = 0
    accounts_updated: int = 0
    decisions: int = 0  # distinct decisions built (sets of matching territories and lock)
    moved_in: Counter = field(default_factory=Counter)  # territory_id -> accounts arriving
    moved_out: Counter = field(default_factory=Counter)  # territory_id -> accounts leaving
    sample: list[dict[str, Any]] = field(default_factory=list)  # {account_id, name, from_id, to_id}
    territory_codes: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (code, name)

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "processed": self.processed,
            "changed": self.changed,
            "moved": self.moved,
            "newly_assigned": self.newly_assigned,
            "newly_unassigned": self.newly_unassigned,
            "rows_closed": self.rows_closed,
            "rows_inserted": self.rows_inserted,
            "accounts_updated": self.accounts_updated,
            "decisions": self.decisions,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``RoutingJob.result``: counts, per-territory in/out, a sample of moves."""

        def code(t_id: int | None) -> str | None:
            return self.territory_codes.get(t_id, (str(t_id), ""))[0] if t_id is not None else None

        territories = [
            {
                "id": t_id,
                "code": code(t_id),
                "name": self.territory_codes.get(t_id, ("", ""))[1],
                "in": self.moved_in.get(t_id, 0),
                "out": self.moved_out.get(t_id, 0),
            }
            for t_id in set(self.moved_in) | set(self.moved_out)
        ]
        territories.sort(key=lambda row: (-(row["in"] + row["out"]), row["code"] or ""))
        sample = [
            {
                "account_id": move["account_id"],
                "name": move["name"],
                "from_code": code(move["from_id"]),
                "to_code": code(move["to_id"]),
            }
            for move in self.sample
        ]
        return {
            "plan_id": self.plan_id,
            "scope": self.scope,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "territories": territories,
            "sample": sample,
        }


# --- scope -----------------------------------------------------------------------------------


def _subtree(spec: engine.PlanSpec, roots: Iterable[int]) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for t in spec.territories:
        children.setdefault(t.parent_id, []).append(t.id)
    found: set[int] = set()
    stack = [r for r in roots if any(t.id == r for t in spec.territories)]
    while stack:
        t_id = stack.pop()
        if t_id not in found:
            found.add(t_id)
            stack.extend(children.get(t_id, ()))
    return found


def _chain_q(spec_by_id: Mapping[int, engine.TerritorySpec], t_id: int) -> Q | None:
    """Accounts the territory's rule, with every ancestor's, can match (None: none can).
    A named list stands alone, whatever its ancestors say."""
    q = Q()
    current: int | None = t_id
    while current is not None:
        t = spec_by_id[current]
        if t.type == engine.NAMED_ACCOUNT:
            return q & Q(pk__in=sorted(t.named_account_ids)) if t.named_account_ids else None
        try:
            q &= rule_to_q(t.rule or {})
        except engine.RuleError:
            return None
        current = t.parent_id
    return q


def scope_account_ids(*, plan: TerritoryPlan, spec: engine.PlanSpec, territory_ids: Iterable[int]) -> list[int]:
    """Accounts a change to these territories can move: those currently in them or their
    subtrees, plus those their (new) rules, named lists or locks can claim. Sorted ids."""
    by_id = {t.id: t for t in spec.territories}
    roots = [t for t in territory_ids if t in by_id]
    subtree = sorted(_subtree(spec, roots))
    ids: set[int] = set()
    if not subtree:
        return []
    ids.update(
        AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True, territory_id__in=subtree).values_list(
            "account_id", flat=True
        )
    )
    for t_id in roots:
        q = _chain_q(by_id, t_id)
        if q is not None:
            ids.update(Account.objects.filter(q).values_list("id", flat=True))
    named = [t for t in subtree if by_id[t].type == engine.NAMED_ACCOUNT]
    for t_id in named:
        ids.update(by_id[t_id].named_account_ids)
    ids.update(Account.objects.filter(locked_territory_id__in=subtree).values_list("id", flat=True))
    return sorted(ids)


# --- reading ---------------------------------------------------------------------------------

_EXTRA_COLUMNS = ["territory_id", "owner_id"]


def _value_columns() -> list[str]:
    return [*account_value_columns(), *_EXTRA_COLUMNS]


def _fetch(qs) -> list[dict[str, Any]]:
    """Rows of a ``.values()`` queryset as dicts. On PostgreSQL the SQL runs on a raw cursor:
    the columns read need no converters there, and Django's per-row work would double the
    reading time of a full re-route."""
    columns = _value_columns()
    if connection.vendor != "postgresql":
        return list(qs.values(*columns))
    sql, params = qs.values_list(*columns).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _chunks_full(size: int) -> Iterator[list[dict[str, Any]]]:
    last = 0
    while True:
        rows = _fetch(Account.objects.filter(pk__gt=last).order_by("pk")[:size])
        if not rows:
            return
        last = rows[-1]["id"]
        yield rows


def _chunks_ids(ids: Sequence[int], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(ids), size):
        part = ids[start : start + size]
        yield _fetch(Account.objects.filter(pk__in=part).order_by("pk"))


def _current_rows(plan: TerritoryPlan, rows: list[dict[str, Any]], ranged: bool) -> dict[int, list[tuple]]:
    """Current rows of the chunk's accounts: account_id -> [(pk, RowKey)]. One query."""
    qs = AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True)
    if ranged:
        qs = qs.filter(account_id__gte=rows[0]["id"], account_id__lte=rows[-1]["id"])
    else:
        qs = qs.filter(account_id__in=[r["id"] for r in rows])
    current: dict[int, list[tuple]] = {}
    for pk, account_id, territory_id, is_primary, credit, source in qs.values_list(
        "pk", "account_id", "territory_id", "is_primary", "credit_percent", "source"
    ):
        current.setdefault(account_id, []).append((pk, (territory_id, is_primary, credit, source)))
    return current


# --- writing ---------------------------------------------------------------------------------

_INSERT_COLUMNS = (
    "account_id",
    "territory_id",
    "plan_id",
    "is_primary",
    "credit_percent",
    "source",
    "trace",
    "conflict",
    "reason",
    "routed_by_id",
    "valid_from",
    "valid_to",
)


@dataclass(slots=True)
class _Writes:
    close: list[int] = field(default_factory=list)
    # (account_id, RowKey, Outcome)
    insert: list[tuple[int, RowKey, Outcome]] = field(default_factory=list)
    # (account_id, territory_id, owner_id)
    mirror: list[tuple[int, int | None, int | None]] = field(default_factory=list)


def _apply(plan: TerritoryPlan, writes: _Writes, now: dt.datetime) -> None:
    table = AccountTerritory._meta.db_table
    postgres = connection.vendor == "postgresql"
    if writes.close:
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET valid_to = %s WHERE id = ANY(%s)",  # noqa: S608 - table name is ours
                    [now, writes.close],
                )
        else:
            for start in range(0, len(writes.close), 500):
                AccountTerritory.objects.filter(pk__in=writes.close[start : start + 500]).update(valid_to=now)
    if writes.insert:
        if postgres:
            with connection.cursor() as cursor:
                copy_sql = f"COPY {table} ({', '.join(_INSERT_COLUMNS)}) FROM STDIN"
                with cursor.connection.cursor().copy(copy_sql) as copy:
                    for account_id, (territory_id, is_primary, credit, source), outcome in writes.insert:
                        copy.write_row((
                            account_id, territory_id, plan.pk, is_primary, credit, source,
                            outcome.trace_json if is_primary else None,
                            outcome.decision.conflict and is_primary, "", None, now, None,
                        ))
        else:
            AccountTerritory.objects.bulk_create(
                (
                    AccountTerritory(
                        account_id=account_id,
                        territory_id=territory_id,
                        plan=plan,
                        is_primary=is_primary,
                        credit_percent=credit,
                        source=source,
                        valid_from=now,
                        trace=outcome.decision.to_dict() if is_primary else None,
                        conflict=outcome.decision.conflict and is_primary,
                    )
                    for account_id, (territory_id, is_primary, credit, source), outcome in writes.insert
                ),
                batch_size=1000,
            )
    if writes.mirror:
        account_table = Account._meta.db_table
        if postgres:
            ids, territories, owners = (list(column) for column in zip(*writes.mirror, strict=True))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {account_table} AS a SET territory_id = m.territory_id, owner_id = m.owner_id "  # noqa: S608
                    "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::bigint[]) AS territory_id, "
                    "unnest(%s::bigint[]) AS owner_id) AS m WHERE a.id = m.id",
                    [ids, territories, owners],
                )
        else:
            groups: dict[tuple[int | None, int | None], list[int]] = {}
            for account_id, mirror_territory_id, mirror_owner_id in writes.mirror:
                groups.setdefault((mirror_territory_id, mirror_owner_id), []).append(account_id)
            for (mirror_territory_id, mirror_owner_id), ids in groups.items():
                for start in range(0, len(ids), 500):
                    Account.objects.filter(pk__in=ids[start : start + 500]).update(
                        territory_id=mirror_territory_id, owner_id=mirror_owner_id
                    )


# --- the re-route ----------------------------------------------------------------------------


def plan_reroute(
    *,
    plan: TerritoryPlan,
    account_ids: Iterable[int] | None = None,
    territory_ids: Iterable[int] | None = None,
    dry_run: bool = False,
    job: RoutingJob | None = None,
    now: dt.datetime | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> RerouteResult:
    """Re-routes every account of the plan (no ids given), the accounts ``account_ids``, or
    the accounts a change to ``territory_ids`` can move; see the module doc. With
    ``dry_run`` nothing is written and the result tells what would change. Each chunk is
    committed on its own, so a failure keeps the chunks before it (a re-run finishes the work:
    only what still differs is written)."""
    now = now or timezone.now()
    spec = plan_spec(plan=plan)
    compiled = compiled_plan(plan=plan)
    if compiled.version != spec.version:  # changed between the two reads: use the newer spec
        compiled = engine.CompiledPlan.build(spec)
    active = plan.status == TerritoryPlan.Status.ACTIVE
    owners = territory_owners(plan=plan) if active else {}
    classes = FactClasses(spec)
    outcomes: dict[tuple, Outcome] = {}  # fact class -> outcome
    by_match: dict[tuple, Outcome] = {}  # (matching territories, lock) -> outcome

    if territory_ids is not None:
        scope = RoutingJob.Scope.TERRITORIES
        ids = scope_account_ids(plan=plan, spec=spec, territory_ids=territory_ids)
        if account_ids is not None:
            ids = sorted(set(ids) | set(account_ids))
        total = len(ids)
        chunks = _chunks_ids(ids, min(chunk_size, ID_CHUNK_SIZE))
    elif account_ids is not None:
        scope = RoutingJob.Scope.ACCOUNTS
        ids = sorted(set(account_ids))
        total = len(ids)
        chunks = _chunks_ids(ids, min(chunk_size, ID_CHUNK_SIZE))
    else:
        scope = RoutingJob.Scope.FULL
        total = Account.objects.count()
        chunks = _chunks_full(chunk_size)
    ranged = scope == RoutingJob.Scope.FULL

    result = RerouteResult(plan_id=plan.pk, scope=scope, dry_run=dry_run, total=total)
    if job is not None:
        RoutingJob.objects.filter(pk=job.pk).update(total=total, processed=0, changed=0)

    for rows in chunks:
        if not rows:
            continue
        writes = _Writes()
        with transaction.atomic():
            current = _current_rows(plan, rows, ranged)
            for values in rows:
                key = classes.key(values)
                outcome = outcomes.get(key)
                if outcome is None:
                    if len(outcomes) >= DECISION_CACHE_LIMIT:
                        outcomes.clear()
                    outcome = outcomes[key] = _decided(compiled, values, by_match, result)
                _diff(values, current.get(values["id"], ()), outcome, owners, active, writes, result)
            if not dry_run:
                _apply(plan, writes, now)
        result.processed += len(rows)
        if job is not None:
            RoutingJob.objects.filter(pk=job.pk).update(processed=result.processed, changed=result.changed)

    touched = set(result.moved_in) | set(result.moved_out)
    result.territory_codes = {
        t_id: (code, name)
        for t_id, code, name in Territory.objects.filter(pk__in=touched).values_list("pk", "code", "name")
    }
    if job is not None:
        RoutingJob.objects.filter(pk=job.pk).update(processed=result.processed, changed=result.changed)
    return result


def _decided(
    compiled: engine.CompiledPlan, values: Mapping[str, Any], by_match: dict[tuple, Outcome], result: RerouteResult
) -> Outcome:
    """The outcome for a record of a fact class not met yet. Many classes match the same
    territories, and a decision (trace included) depends only on which territories match and on
    the lock, so the ranking and the trace are built once per such set."""
    record = record_from_values(values)
    facts = prepare(record)
    record_id = record["id"]
    memo: dict[int, bool] = {}
    matched = tuple(
        sorted(t for t in compiled.candidate_ids(facts, record_id) if compiled.matches(t, facts, record_id, memo))
    )
    key = (matched, record["locked_territory_id"])
    outcome = by_match.get(key)
    if outcome is None:
        if len(by_match) >= DECISION_CACHE_LIMIT:
            by_match.clear()
        # The engine's own resolution, given the territories found to match.
        outcome = by_match[key] = _outcome(decide(compiled, record, facts, matched))
        result.decisions += 1
    return outcome


def _diff(
    values: Mapping[str, Any],
    current: Sequence[tuple[int, RowKey]],
    outcome: Outcome,
    owners: Mapping[int, int | None],
    active: bool,
    writes: _Writes,
    result: RerouteResult,
) -> None:
    """``services.account_route``'s persistence rules for one account, as writes to batch."""
    account_id = values["id"]
    decision = outcome.decision
    old_primary = next((row[0] for _, row in current if row[1]), None)
    if len(current) == len(outcome.wanted_set) and {row for _, row in current} == outcome.wanted_set:
        new_primary = decision.territory_id  # nothing to write in AccountTerritory
        wrote = False
    else:
        wanted = outcome.wanted
        kept_manual = decision.unassigned and any(row[1] and row[3] == MANUAL for _, row in current)
        have: dict[int, RowKey] = {}
        closing = 0
        for pk, row in current:
            if wanted.get(row[0]) != row and not (kept_manual and row[1]):
                writes.close.append(pk)
                closing += 1
            else:
                have[row[0]] = row
        inserting = 0
        for territory_id, row in wanted.items():
            if have.get(territory_id) != row:
                writes.insert.append((account_id, row, outcome))
                inserting += 1
        result.rows_closed += closing
        result.rows_inserted += inserting
        wrote = bool(closing or inserting)
        # A manual primary row the rules do not replace stays, and so does the mirror.
        new_primary = next((row[0] for row in have.values() if row[1]), None) if kept_manual else decision.territory_id
    if active:
        owner_id = owners.get(new_primary) if new_primary is not None else None
        if (values["territory_id"], values["owner_id"]) != (new_primary, owner_id):
            writes.mirror.append((account_id, new_primary, owner_id))
            result.accounts_updated += 1
            wrote = True
    if wrote:
        result.changed += 1
    if old_primary != new_primary:
        result.moved += 1
        if old_primary is None:
            result.newly_assigned += 1
        else:
            result.moved_out[old_primary] += 1
        if new_primary is None:
            result.newly_unassigned += 1
        else:
            result.moved_in[new_primary] += 1
        if len(result.sample) < SAMPLE_SIZE:
            result.sample.append(
                {"account_id": account_id, "name": values["name"], "from_id": old_primary, "to_id": new_primary}
            )


# --- jobs ------------------------------------------------------------------------------------


def reroute_job_start(
    *,
    plan: TerritoryPlan,
    scope: str,
    territory_ids: Iterable[int] | None = None,
    account_ids: Iterable[int] | None = None,
    dry_run: bool = False,
    by=None,
) -> RoutingJob:
    """Records a re-route job and queues it once the caller's transaction commits."""
    if scope not in SCOPES:
        raise ValueError(f"Unknown scope {scope!r}")
    params: dict[str, Any] = {}
    if scope == RoutingJob.Scope.TERRITORIES:
        params["territory_ids"] = sorted({int(t) for t in territory_ids or ()})
    elif scope == RoutingJob.Scope.ACCOUNTS:
        params["account_ids"] = sorted({int(a) for a in account_ids or ()})
    job = RoutingJob.objects.create(plan=plan, scope=scope, params=params, dry_run=dry_run, created_by=by)

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task("routing.tasks.reroute_job_run", job.pk, task_name=f"reroute-job-{job.pk}")

    transaction.on_commit(enqueue)
    return job


def reroute_job_run(*, job_id: int) -> RoutingJob | None:
    """Runs a queued job: running, then done with its result, or failed with the error. The job
    row is updated outside any transaction, so it survives a failed re-route."""
    job = RoutingJob.objects.select_related("plan").filter(pk=job_id).first()
    if job is None or job.status not in (RoutingJob.Status.QUEUED, RoutingJob.Status.FAILED):
        return job
    RoutingJob.objects.filter(pk=job.pk).update(status=RoutingJob.Status.RUNNING, started_at=timezone.now(), error="")
    try:
        params = job.params or {}
        kwargs: dict[str, Any] = {}
        if job.scope == RoutingJob.Scope.TERRITORIES:
            kwargs["territory_ids"] = [int(t) for t in params.get("territory_ids", [])]
        elif job.scope == RoutingJob.Scope.ACCOUNTS:
            kwargs["account_ids"] = [int(a) for a in params.get("account_ids", [])]
        result = plan_reroute(plan=job.plan, dry_run=job.dry_run, job=job, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job, then logged
        log.exception("Re-route job %s failed", job.pk)
        RoutingJob.objects.filter(pk=job.pk).update(
            status=RoutingJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
    else:
        RoutingJob.objects.filter(pk=job.pk).update(
            status=RoutingJob.Status.DONE,
            result=result.to_dict(),
            total=result.total,
            processed=result.processed,
            changed=result.changed,
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job
