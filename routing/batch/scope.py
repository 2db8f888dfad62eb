"""Which accounts a change to some territories can move, found in SQL without reading every
account: those currently in the territories' subtrees, those whose current decision matched one
of them, plus those the new rules (``rule_to_q`` over each territory's chain of rules), named
lists and locks can claim."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Q

from routing import engine
from routing.sql import rule_to_q
from salesos.models import Account
from territories.locks import locked_in
from territories.models import AccountTerritory, RoutingDecision, TerritoryPlan


def _subtree(compiled: engine.PlanIndex, roots: Iterable[int]) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for node in compiled.nodes.values():
        children.setdefault(node.parent_id, []).append(node.id)
    found: set[int] = set()
    stack = [r for r in roots if r in compiled.nodes]
    while stack:
        t_id = stack.pop()
        if t_id not in found:
            found.add(t_id)
            stack.extend(children.get(t_id, ()))
    return found


def _chain_q(compiled: engine.PlanIndex, t_id: int) -> Q | None:
    """Accounts the territory's rule, with every ancestor's, can match (None: none can).
    A named list stands alone, whatever its ancestors say."""
    q = Q()
    current: int | None = t_id
    while current is not None:
        node = compiled.nodes[current]
        if node.named is not None:
            return q & Q(pk__in=sorted(node.named)) if node.named else None
        if compiled.matches_nothing(current):
            return None
        q &= rule_to_q(compiled.rules.get(current) or {})
        current = node.parent_id
    return q


def _decided_with(plan: TerritoryPlan, territory_ids: Sequence[int]) -> set[int]:
    """Accounts whose current decision matched one of these territories (as winner, loser,
    rolled-up ancestor or overlay): a change to one of them can change their decision (a tie
    gone, another winner) though they sit elsewhere. Found through the decisions that name the
    territories, then through the (territory, valid_to) index on the territories those
    decisions name (the winner is one of them)."""
    table = RoutingDecision._meta.db_table
    wanted = set(territory_ids)
    found: dict[int, list[int]] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # jsonb containment, one C-level test per territory (4x a scan of the array elements).
            cursor.execute(
                f"SELECT id, matched FROM {table} WHERE plan_id = %s "  # noqa: S608 - our table
                "AND matched @> ANY(%s::jsonb[])",
                [plan.pk, [f"[{t}]" for t in sorted(wanted)]],
            )
            for pk, matched in cursor.fetchall():
                found[pk] = [int(t) for t in (json.loads(matched) if isinstance(matched, str) else matched)]
    else:
        for pk, matched in RoutingDecision.objects.filter(plan=plan).values_list("pk", "matched").iterator():
            ids = [int(t) for t in matched or ()]
            if wanted.intersection(ids):
                found[pk] = ids
    if not found:
        return set()
    winners = sorted({t for ids in found.values() for t in ids})
    accounts: set[int] = set()
    rows = AccountTerritory.objects.filter(
        plan=plan, valid_to__isnull=True, is_primary=True, territory_id__in=winners
    ).values_list("account_id", "decision_id")
    accounts.update(account for account, decision in rows.iterator() if decision in found)
    return accounts


def scope_account_ids(*, plan: TerritoryPlan, compiled: engine.PlanIndex, territory_ids: Iterable[int]) -> list[int]:
    """Accounts a change to these territories can move or decide differently: those currently in
    them or their subtrees, those whose current decision matched a territory of the subtrees,
    plus those their (new) rules, named lists or locks can claim. Sorted ids."""
    roots = [t for t in territory_ids if t in compiled.nodes]
    subtree = sorted(_subtree(compiled, roots))
    if not subtree:
        return []
    ids: set[int] = set(
        AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True, territory_id__in=subtree).values_list(
            "account_id", flat=True
        )
    )
    ids.update(_decided_with(plan, subtree))
    for t_id in roots:
        q = _chain_q(compiled, t_id)
        if q is not None:
            ids.update(Account.objects.filter(q).values_list("id", flat=True))
    for t_id in subtree:
        named = compiled.nodes[t_id].named
        if named:
            ids.update(named)
    ids.update(locked_in(subtree).values_list("account_id", flat=True))
    return sorted(ids)
