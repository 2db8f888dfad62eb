"""``plan_export``: one plan as a JSON-ready dict (see the package doc for the shape)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.text import slugify

from planning.models import Quota
from salesos.models import Account
from territories.models import RepAssignment, Territory, TerritoryPlan

FORMAT = "salesos.plan"
FORMAT_VERSION = 1


def plan_export_filename(plan: TerritoryPlan) -> str:
    return f"plan-{slugify(plan.name) or plan.pk}.json"


def _account_keys(account_ids: set[int]) -> dict[int, dict[str, Any]]:
    """How each named account is found again: its domain when that names one account only,
    otherwise its id (with its name, for people reading the file). Two queries."""
    rows = list(Account.objects.filter(pk__in=account_ids).values_list("pk", "name", "domain"))
    domains = {domain for _, _, domain in rows if domain}
    per_domain = dict(
        Account.objects.filter(domain__in=domains).values("domain").annotate(n=Count("id")).values_list("domain", "n")
    )
    return {
        pk: {"domain": domain, "name": name} if domain and per_domain.get(domain) == 1
        else {"account_id": pk, "name": name}
        for pk, name, domain in rows
    }


def plan_export(*, plan: TerritoryPlan) -> dict[str, Any]:
    """The plan as a dict ready for ``json.dumps``. Territories come parents first, then by code;
    rule JSON is exported as stored (validated on every write). A fixed number of queries."""
    territories = list(Territory.objects.filter(plan=plan).order_by("code"))
    code_of = {t.pk: t.code for t in territories}
    named: dict[int, list[int]] = {}
    for territory_id, account_id in Territory.named_accounts.through.objects.filter(
        territory__plan=plan
    ).values_list("territory_id", "account_id"):
        named.setdefault(territory_id, []).append(account_id)
    account_keys = _account_keys({a for ids in named.values() for a in ids})
    reps: dict[int, list[dict[str, Any]]] = {}
    for a in RepAssignment.objects.filter(territory__plan=plan).select_related("user").order_by(
        "territory_id", "slot", "start_date", "user__username"
    ):
        reps.setdefault(a.territory_id, []).append({
            "username": a.user.get_username(),
            "slot": a.slot,
            "split_percent": a.split_percent,
            "start_date": a.start_date.isoformat(),
            "end_date": a.end_date.isoformat() if a.end_date else None,
        })
    quotas: dict[int, list[dict[str, Any]]] = {}
    for q in Quota.objects.filter(territory__plan=plan).select_related("period__fiscal_year", "user").order_by(
        "territory_id", "period__start_date", "period__name"
    ):
        quotas.setdefault(q.territory_id, []).append({
            "fiscal_year": q.period.fiscal_year.name,
            "period": q.period.name,
            "amount": str(q.amount),
            "ramp_factor": str(q.ramp_factor),
            "username": q.user.get_username() if q.user else None,
        })

    by_pk = {t.pk: t for t in territories}

    def level_of(t: Territory) -> int:
        seen = 0
        node = t
        while node.parent_id is not None and node.parent_id in by_pk and seen <= len(by_pk):
            node, seen = by_pk[node.parent_id], seen + 1
        return seen

    ordered = sorted(territories, key=lambda t: (level_of(t), t.code))
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
        "plan": {
            "name": plan.name,
            "description": plan.description,
            "kind": plan.kind,
            "status": plan.status,
            "fiscal_year": plan.fiscal_year.name if plan.fiscal_year_id and plan.fiscal_year else None,
            "effective_date": plan.effective_date.isoformat() if plan.effective_date else None,
        },
        "territories": [
            {
                "code": t.code,
                "name": t.name,
                "description": t.description,
                "parent": code_of.get(t.parent_id) if t.parent_id else None,
                "type": t.type,
                "status": t.status,
                "priority": t.priority,
                "rule": t.rule or {},
                "is_overlay": t.is_overlay,
                "credit_percent": t.credit_percent,
                "lead_assignment": t.lead_assignment,
                "named_accounts": sorted(
                    (account_keys[a] for a in named.get(t.pk, ()) if a in account_keys),
                    key=lambda k: (k.get("domain") or "", k.get("account_id") or 0),
                ),
                "reps": reps.get(t.pk, []),
                "quotas": quotas.get(t.pk, []),
            }
            for t in ordered
        ],
    }
