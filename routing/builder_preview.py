"""The rule builder's live preview, answered for ``territories`` (``territories.hooks.rule_previewed``,
connected in ``routing/receivers.py``): what the rule being edited would cover, counted only over
the accounts the user may see, and how many accounts would move, from a dry run of the re-route
the save starts (``routing.preview``). It lives on the routing floor because it needs routing's
SQL form of a rule (``routing.sql``) and the dry run; the builder's pages stay in ``territories``."""

from __future__ import annotations

import operator
from dataclasses import replace
from functools import reduce
from typing import Any

import numpy as np
from django.db.models import Q
from django.http import QueryDict

from routing.engine import PlanError, RuleError
from routing.preview import TerritoryDraft, territory_change_preview
from routing.sql import rule_to_q
from salesos.models import Account
from territories import services
from territories.access import accounts_visible_to, sees_everything
from territories.models import Territory, TerritoryPlan
from territories.placement import current_territories
from territories.rules_text import territory_rule_text

SAMPLE_SIZE = 10
ID_CHUNK = 5_000  # account ids per query


def _int_in(value: str, lo: int, hi: int, default: int) -> int:
    value = (value or "").strip()
    if value.lstrip("-").isascii() and value.lstrip("-").isdigit() and len(value) < 8 and lo <= int(value) <= hi:
        return int(value)
    return default


def draft_from_post(
    *,
    data: QueryDict,
    plan: TerritoryPlan,
    territory: Territory | None,
    parent: Territory | None,
    rule: dict,
    named_ids: list[int],
) -> TerritoryDraft:
    """The territory as the posted form describes it (lenient: the preview never refuses)."""
    kind = data.get("type", "")
    if kind not in Territory.Type.values:
        kind = territory.type if territory is not None else Territory.Type.GEOGRAPHIC
    code = (data.get("code") or "").strip()[:40] or (
        territory.code if territory is not None else services.code_suggest(plan=plan, name=data.get("name", "")[:120])
    )
    return TerritoryDraft(
        pk=territory.pk if territory is not None else None,
        code=code,
        parent_id=parent.pk if parent is not None else None,
        type=kind,
        priority=_int_in(data.get("priority", ""), -1000, 1000, territory.priority if territory else 0),
        rule=rule,
        is_overlay=bool(data.get("is_overlay")),
        credit_percent=_int_in(data.get("credit_percent", ""), 0, 100, territory.credit_percent if territory else 100),
        named_account_ids=frozenset(named_ids),
    )


def rule_preview(
    *,
    user: Any,
    plan: TerritoryPlan,
    rule: dict | None,
    parent: Territory | None,
    territory: Territory | None,
    territory_type: str,
    named_ids: list[int],
    data: QueryDict | None = None,
    **_: Any,
) -> dict[str, Any]:
    """What the rule being edited would cover: accounts matching it and every ancestor's rule
    (a named-account territory: its list alone), and ten of them; and, in the active plan, how
    many would move in or out of the territory's subtree, from a dry run of the re-route its save
    starts (``routing.preview``): where the engine puts each account against every competing
    territory, not a count of matches. Everything counts only accounts ``user`` may see."""
    out: dict[str, Any] = {"ready": rule is not None}
    if rule is None:
        return out
    visible = None if sees_everything(user) else accounts_visible_to(user)
    out["scoped"] = visible is not None
    is_named = territory_type == Territory.Type.NAMED_ACCOUNT
    if is_named:
        matched = Account.objects.filter(pk__in=named_ids)
        out["named"] = True
    else:
        chain = [rule]
        if parent is not None:
            chain += [t.rule or {} for t in parent.ancestors(include_self=True)]
        try:
            q = reduce(operator.and_, (rule_to_q(r) for r in chain), Q())
        except RuleError:
            out["broken_ancestor"] = True
            q = Q(pk__in=[])
        matched = Account.objects.filter(q)
    if visible is not None:
        matched = matched.filter(pk__in=visible.values("pk"))
    out["matched"] = matched.count()
    out["today"] = out["move_in"] = out["move_out"] = 0
    out["moves"] = plan.status == TerritoryPlan.Status.ACTIVE
    if out["moves"]:
        draft = draft_from_post(
            data=data if data is not None else QueryDict(),
            plan=plan,
            territory=territory,
            parent=parent,
            rule=rule,
            named_ids=named_ids,
        )
        draft = replace(draft, type=territory_type or draft.type)
        try:
            dry = territory_change_preview(plan=plan, draft=draft)
        except PlanError:
            out["moves"] = False
        else:
            seen: set[int] | None = None
            if visible is not None:
                ids = dry.account_ids.tolist()
                seen = set()
                for start in range(0, len(ids), ID_CHUNK):  # bounded parameter lists (SQLite)
                    seen.update(visible.filter(pk__in=ids[start : start + ID_CHUNK]).values_list("pk", flat=True))

            def count(ids: list[int]) -> int:
                return len(ids) if seen is None else sum(1 for i in ids if i in seen)

            before = dry.account_ids[np.isin(dry.before, list(dry.subtree))].tolist()
            out["today"] = count(before)
            out["move_in"] = count(dry.moving_in())
            out["move_out"] = count(dry.moving_out())
            if not rule and not is_named and not draft.is_overlay:
                out["catch_all"] = {
                    "queue": count(dry.moving_in_from_queue()),
                    "by_hand": count(dry.moving_in_by_hand()),
                    "total": out["move_in"],
                }
    sample_rows = list(
        matched.order_by("name").only(
            "name", "city", "state", "country", "industry_code", "employees", "annual_revenue"
        )[:SAMPLE_SIZE]
    )
    # Each with the territory it sits in today, in the active plan (one query for the ten).
    now_in = current_territories(
        [a.pk for a in sample_rows], plan=plan if plan.status == TerritoryPlan.Status.ACTIVE else None
    )
    out["sample"] = [(a, now_in.get(a.pk)) for a in sample_rows]
    out["text"] = territory_rule_text(rule=rule, territory_type=territory_type, named_count=len(set(named_ids)))
    return out
