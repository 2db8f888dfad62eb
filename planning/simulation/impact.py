"""The impact of a simulated draft against the active plan, measured once when the run ends and
stored on the ``Simulation`` (``report`` shapes it for each reader).

Everything is read from the two plans' own ownership rows, as every other page reads them:
an account sits in a plan's territory when its current primary ``AccountTerritory`` row there
says so (``territories.placement``); TAM is the summed potential of those accounts and pipeline the
open deals on them (``planning.figures``); an owner is the territory's owner on the day
(``territories.coverage``); capacity is the holder's, scaled by ramp (``planning.capacity``).
Two grouped queries give every (active territory, draft territory) pair with its accounts, TAM,
open deals and pipeline, whatever the number of accounts; the rest is arithmetic on those pairs.

An account "moves" when the code of its territory changes (a draft names its territories with
the codes of the plan it copies); an account or deal "changes owner" when the owner of its
draft territory is not its owner today (deals: the deal's own owner; they follow the territory).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection

from planning.capacity import ramped_capacity
from salesos.models import Account, Opportunity, SalesProfile
from territories import coverage
from territories.models import AccountTerritory, Territory, TerritoryPlan

IMPACT_VERSION = 1


def _pairs_sql(source: str, amount: str, extra_group: str = "") -> str:
    """Rows of ``source`` (alias ``x``, its account in ``x.account_id``) grouped by their account's
    current primary territory in the baseline and in the draft (0 where none)."""
    rows = AccountTerritory._meta.db_table
    group = f", {extra_group}" if extra_group else ""
    return (
        f"SELECT COALESCE(b.territory_id, 0), COALESCE(d.territory_id, 0){group}, COUNT(*), "  # noqa: S608 - our tables
        f"COALESCE(SUM({amount}), 0) FROM {source} "
        f"LEFT JOIN {rows} b ON b.account_id = x.account_id AND b.plan_id = %s AND b.is_primary = %s "
        "AND b.valid_to IS NULL "
        f"LEFT JOIN {rows} d ON d.account_id = x.account_id AND d.plan_id = %s AND d.is_primary = %s "
        "AND d.valid_to IS NULL "
        f"GROUP BY COALESCE(b.territory_id, 0), COALESCE(d.territory_id, 0){group}"
    )


def _account_pairs(baseline_id: int, draft_id: int) -> list[tuple[int, int, int, Decimal]]:
    source = f"(SELECT id AS account_id, potential FROM {Account._meta.db_table}) x"
    with connection.cursor() as cursor:
        cursor.execute(_pairs_sql(source, "x.potential"), [baseline_id, True, draft_id, True])
        return [(int(b), int(d), int(n), Decimal(t)) for b, d, n, t in cursor.fetchall()]


def _deal_pairs(baseline_id: int, draft_id: int) -> list[tuple[int, int, int, int, Decimal]]:
    """Open deals by (baseline territory, draft territory, the deal's owner)."""
    table = Opportunity._meta.db_table
    source = f"(SELECT account_id, amount, owner_id FROM {table} WHERE status = %s) x"
    with connection.cursor() as cursor:
        cursor.execute(_pairs_sql(source, "x.amount", "COALESCE(x.owner_id, 0)"),
                       [Opportunity.Status.OPEN.value, baseline_id, True, draft_id, True])
        return [(int(b), int(d), int(o), int(n), Decimal(a)) for b, d, o, n, a in cursor.fetchall()]


def _territories(plan: TerritoryPlan, today: dt.date) -> dict[int, dict[str, Any]]:
    """Per territory of the plan: code, name, parent, whether it is balanced (an active,
    non-overlay territory), its holder and capacity on ``today``, and whether it is vacant."""
    rows = list(Territory.objects.filter(plan=plan).values_list("pk", "code", "name", "parent_id", "status",
                                                                "is_overlay"))
    held = coverage.owners_on(plan=plan, on=today)
    holders = {h.primary for h in held.values() if h.primary}
    people = {p.user_id: p for p in SalesProfile.objects.filter(user_id__in=holders).select_related("user")}
    parents = {row[3] for row in rows if row[3]}
    out: dict[int, dict[str, Any]] = {}
    for pk, code, name, _parent, status, overlay in rows:
        owners = held.get(pk, coverage.Owners())
        profile = people.get(owners.primary) if owners.primary else None
        cap_a, cap_p, ramp = ramped_capacity(profile, today)
        out[pk] = {
            "code": code,
            "name": name,
            "leaf": pk not in parents,
            "balanced": status == Territory.Status.ACTIVE and not overlay,
            "vacant": coverage.is_vacant(status=status, is_overlay=overlay, has_primary=owners.primary is not None,
                                         has_overlay=bool(owners.overlays)),
            "owner": owners.owner,
            "holder": (profile.user.get_full_name() or profile.user.username) if profile else "",
            "capacity_accounts": cap_a,
            "capacity_pipeline": cap_p,
            "ramp": ramp,
        }
    return out


def impact_measure(*, draft: TerritoryPlan, baseline: TerritoryPlan | None, today: dt.date) -> dict[str, Any]:
    """The stored impact: the pairs of (baseline territory, draft territory) with their accounts,
    TAM, open deals and pipeline, and the deals and pipeline whose owner would change; each
    plan's territories with what the balance needs. JSON-ready (money as text)."""
    baseline_id = baseline.pk if baseline is not None else 0
    after = _territories(draft, today)
    before = _territories(baseline, today) if baseline is not None else {}
    pairs: dict[tuple[int, int], list[Any]] = {}
    for b, d, n, tam in _account_pairs(baseline_id, draft.pk):
        pairs[(b, d)] = [b, d, n, tam, 0, Decimal(0), 0, Decimal(0)]
    for b, d, owner, n, amount in _deal_pairs(baseline_id, draft.pk):
        row = pairs.setdefault((b, d), [b, d, 0, Decimal(0), 0, Decimal(0), 0, Decimal(0)])
        row[4] += n
        row[5] += amount
        if (after.get(d) or {}).get("owner") != (owner or None):
            row[6] += n
            row[7] += amount
    return {
        "version": IMPACT_VERSION,
        "today": today.isoformat(),
        "draft_id": draft.pk,
        "baseline_id": baseline_id or None,
        # [baseline territory, draft territory, accounts, TAM, open deals, pipeline, deals changing owner,
        #  their pipeline]; 0 where an account has no territory.
        "pairs": [[b, d, n, str(t), deals, str(p), moving, str(mp)]
                  for b, d, n, t, deals, p, moving, mp in sorted(pairs.values(), key=lambda r: (r[0], r[1]))],
        "draft": {str(k): v for k, v in after.items()},
        "baseline": {str(k): v for k, v in before.items()},
    }
