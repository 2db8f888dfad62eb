"""The rule builder's database-backed option lists: picker search results, a typed search text
resolved to a chip, and the names of a named-account list. Each is scoped by the caller to what
the user may see (``territories.access``)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet

from salesos.models import Account, GeoArea, Industry, Region
from territories.access import territories_for_user
from territories.models import Territory, TerritoryPlan

SEARCH_LIMIT = 20


def picker_options(
    *, kind: str, q: str, parents: QuerySet[Territory] | None = None, accounts: QuerySet[Account] | None = None
) -> list[tuple[str, str]]:
    """(value, label) pairs for a picker's search box: codes with names, at most 20, indexed
    lookups only. ``accounts`` and ``parents``: what the user may see and pick from (the view
    scopes them: ``territories.access``); accounts default to all, parents to none."""
    q = q.strip()
    if kind == "region":
        return [(r.value, r.label) for r in Region if not q or q.lower() in f"{r.value} {r.label}".lower()]
    if kind in ("country", "state", "metro"):
        areas = GeoArea.objects.filter(level=kind)
        if q:
            areas = areas.filter(Q(code__istartswith=q) | Q(name__istartswith=q) | Q(name__icontains=f" {q}"))
        rows = areas.order_by("-population", "name").values_list("code", "name", "country")[:SEARCH_LIMIT]
        if kind == "metro":
            return [(name, f"{name}{f' ({country})' if country else ''}") for _code, name, country in rows]
        return [(code, name) for code, name, _country in rows]
    if kind == "industry":
        industries = Industry.objects.all()
        if q:
            industries = industries.filter(Q(code__startswith=q) | Q(title__icontains=q))
        return [(code, f"{code} · {title}") for code, title in
                industries.order_by("code").values_list("code", "title").distinct()[:SEARCH_LIMIT]]
    if kind in ("account", "named"):
        accounts = Account.objects.all() if accounts is None else accounts
        if q:
            accounts = accounts.filter(name__icontains=q)
        account_rows = accounts.order_by("name").values_list("pk", "name", "city")[:SEARCH_LIMIT]
        if kind == "account":
            return [(name, f"{name}{f' · {city}' if city else ''}") for _pk, name, city in account_rows]
        return [(f"{name} #{pk}", f"{city}" if city else name) for pk, name, city in account_rows]
    if kind == "parent" and parents is not None:
        territories = parents
        if q:
            territories = territories.filter(Q(code__istartswith=q) | Q(name__icontains=q))
        return [(code, name) for code, name in territories.order_by("code").values_list("code", "name")[:SEARCH_LIMIT]]
    return []


_ACCOUNT_ID = re.compile(r"#(\d+)\s*$")


def resolve_chip(*, kind: str, q: str, accounts: QuerySet[Account] | None = None) -> tuple[str, str] | None:
    """The (value, label) a typed or picked search text stands for: an exact code, an exact
    name, or the only name starting with it. Unknown text is kept as typed (upper-cased for
    codes) for the engine to judge, except for named accounts, which must exist."""
    q = q.strip()
    if not q:
        return None
    if kind == "named":
        pool = Account.objects.all() if accounts is None else accounts
        m = _ACCOUNT_ID.search(q)
        account = pool.filter(pk=int(m.group(1))).first() if m else None
        if account is None:
            matches = list(pool.filter(name__iexact=q)[:2]) or list(pool.filter(name__istartswith=q)[:2])
            account = matches[0] if len(matches) == 1 else None
        return (str(account.pk), account.name) if account else None
    if kind == "region":
        for r in Region:
            if q.upper() in (r.value, r.label.upper()):
                return r.value, r.label
        return q.upper(), q.upper()
    if kind in ("country", "state"):
        areas = GeoArea.objects.filter(level=kind)
        hit = (areas.filter(code__iexact=q).first() or areas.filter(name__iexact=q).first())
        if hit is None:
            starts = list(areas.filter(name__istartswith=q)[:2])
            hit = starts[0] if len(starts) == 1 else None
        return (hit.code, hit.name) if hit else (q.upper(), q.upper())
    if kind == "industry":
        code = q.split("·")[0].strip()
        industry = Industry.objects.filter(code=code).first() or Industry.objects.filter(title__iexact=q).first()
        return (industry.code, industry.title) if industry else (code, code)
    if kind == "metro":
        hit = GeoArea.objects.filter(level="metro").filter(Q(name__iexact=q) | Q(code__iexact=q)).first()
        return (hit.name, hit.name) if hit else (q, q)
    return q, q


def named_chips(ids: list[int], accounts: QuerySet[Account] | None = None) -> list[tuple[str, str]]:
    """(id, name) of the listed accounts, only of ``accounts`` when given (the ones the user may
    see): a posted id never reveals the name of an account outside it."""
    names = dict((accounts if accounts is not None else Account.objects).filter(pk__in=ids).values_list("pk", "name"))
    return [(str(i), names[i]) for i in ids if i in names]


def parent_choices(*, user: Any, plan_id: int | None) -> QuerySet[Territory]:
    """Parents to pick: in a plan the user may open, only territories they may create children in
    (admins: any)."""
    plan = TerritoryPlan.objects.filter(pk=plan_id).first() if plan_id else None
    return territories_for_user(user=user, plan=plan, perm="add_territory")
