"""``plan_import``: a document written by ``plan_export`` becomes a new draft plan.

Everything is checked before anything is written, and every problem is reported with its JSON
path: the document's shape, the plan's name and fiscal year, each territory's code (its format,
unique in the file), parent (in the file, no loops), type, status, priority, rule (through the
routing engine's validation), overlay credit, lead assignment, named accounts (found by domain or
id), reps (users exist, slots, splits, dates, one primary at a time) and quotas (fiscal periods
exist, amounts, ramp factors, one per period). With any problem, ``PlanImportError`` is raised
and nothing is written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from planning.models import FiscalPeriod, FiscalYear, Quota
from planning.transfer.export import FORMAT, FORMAT_VERSION
from planning.transfer.values import (
    Problems,
    read_choice,
    read_date,
    read_decimal,
    read_int,
    read_text,
    unknown_keys,
)
from routing import engine
from salesos.models import Account
from territories.grants import grants_sync
from territories.models import RepAssignment, Territory, TerritoryPlan

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")  # as territory codes are checked on every edit
MAX_TERRITORIES = 20_000
TERRITORY_KEYS = {
    "code", "name", "description", "parent", "type", "status", "priority", "rule", "is_overlay",
    "credit_percent", "lead_assignment", "named_accounts", "reps", "quotas",
}
PLAN_KEYS = {"name", "description", "kind", "status", "fiscal_year", "effective_date"}


class PlanImportError(ValueError):
    """The document cannot be imported; ``problems`` lists ``(path, message)`` for every fault."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))


@dataclass
class _Territory:
    code: str
    fields: dict[str, Any]
    parent: str | None
    named_keys: list[dict[str, Any]] = field(default_factory=list)  # as the file names them
    named: list[int] = field(default_factory=list)  # their account ids
    reps: list[dict[str, Any]] = field(default_factory=list)
    quotas: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Checked:
    plan: dict[str, Any]
    territories: list[_Territory]  # parents before children


def _check(document: Any, *, name: str | None) -> _Checked:  # noqa: C901 - one pass over the document
    problems = Problems()
    if not isinstance(document, dict):
        raise PlanImportError([("", "The file must hold one JSON object (a plan export).")])
    if document.get("format") != FORMAT:
        problems.add("format", f"Not a plan export (expected \"{FORMAT}\").")
    if document.get("version") != FORMAT_VERSION:
        problems.add("version", f"Version {document.get('version')!r} is not supported (this is {FORMAT_VERSION}).")
    unknown_keys(document, {"format", "version", "exported_at", "plan", "territories"}, "", problems)

    # --- the plan
    plan_in = document.get("plan")
    plan: dict[str, Any] = {}
    if not isinstance(plan_in, dict):
        problems.add("plan", "Must be an object.")
        plan_in = {}
    unknown_keys(plan_in, PLAN_KEYS, "plan", problems)
    if name is not None:
        plan["name"] = read_text(name, "plan.name", problems, max_length=120, required=True)
        if plan["name"] and TerritoryPlan.objects.filter(name__iexact=plan["name"]).exists():
            problems.add("plan.name", f"A plan named \"{plan['name']}\" already exists; choose another name.")
    else:
        base = read_text(plan_in.get("name"), "plan.name", problems, max_length=100, required=True)
        plan["name"] = _free_name(base) if base else ""
    plan["description"] = read_text(plan_in.get("description"), "plan.description", problems, max_length=5000)
    plan["kind"] = read_choice(plan_in.get("kind"), "plan.kind", problems, TerritoryPlan.Kind.values,
                           TerritoryPlan.Kind.ANNUAL)
    plan["effective_date"] = read_date(plan_in.get("effective_date"), "plan.effective_date", problems, required=False)
    plan["fiscal_year"] = None
    fy_name = plan_in.get("fiscal_year")
    if fy_name is not None:
        plan["fiscal_year"] = FiscalYear.objects.filter(name=fy_name).first() if isinstance(fy_name, str) else None
        if plan["fiscal_year"] is None:
            problems.add("plan.fiscal_year", f"No fiscal year named {fy_name!r}.")

    # --- territories
    rows = document.get("territories")
    if not isinstance(rows, list):
        problems.add("territories", "Must be a list.")
        rows = []
    if len(rows) > MAX_TERRITORIES:
        problems.add("territories", f"At most {MAX_TERRITORIES:,} territories.")
        rows = []
    checked: list[_Territory] = []
    paths: dict[str, str] = {}  # code (folded) -> its path, for clashes and parents
    usernames: set[str] = set()
    domains: set[str] = set()
    account_ids: set[int] = set()
    periods: set[tuple[str, str]] = set()
    for i, row in enumerate(rows):
        path = f"territories[{i}]"
        if not isinstance(row, dict):
            problems.add(path, "Must be an object.")
            continue
        unknown_keys(row, TERRITORY_KEYS, path, problems)
        code = read_text(row.get("code"), f"{path}.code", problems, max_length=40, required=True)
        if code and not CODE_RE.match(code):
            problems.add(f"{path}.code", "Use letters, digits, '-', '_' or '.' (no spaces).")
        elif code and code.lower() in paths:
            problems.add(f"{path}.code", f"{code} is used twice (also at {paths[code.lower()]}).")
        elif code:
            paths[code.lower()] = path
        fields: dict[str, Any] = {
            "name": read_text(row.get("name"), f"{path}.name", problems, max_length=120, required=True),
            "description": read_text(row.get("description"), f"{path}.description", problems, max_length=5000),
            "type": read_choice(row.get("type"), f"{path}.type", problems, Territory.Type.values,
                            Territory.Type.GEOGRAPHIC),
            "status": read_choice(row.get("status"), f"{path}.status", problems, Territory.Status.values,
                              Territory.Status.ACTIVE),
            "priority": read_int(row.get("priority", 0), f"{path}.priority", problems, low=-1000, high=1000) or 0,
            "credit_percent": read_int(row.get("credit_percent", 100), f"{path}.credit_percent", problems,
                                   low=0, high=100),
            "lead_assignment": read_choice(row.get("lead_assignment"), f"{path}.lead_assignment", problems,
                                       Territory.LeadAssignment.values, Territory.LeadAssignment.PRIMARY),
        }
        if fields["credit_percent"] is None:
            fields["credit_percent"] = 100
        overlay = row.get("is_overlay", False)
        if not isinstance(overlay, bool):
            problems.add(f"{path}.is_overlay", "Must be true or false.")
            overlay = False
        fields["is_overlay"] = overlay
        try:
            fields["rule"] = engine.validate(row.get("rule") or {})
        except engine.RuleError as exc:
            for problem in exc.problems:
                problems.add(f"{path}.rule" + (f".{problem.path}" if problem.path else ""), problem.message)
            fields["rule"] = {}
        parent = row.get("parent")
        if parent is not None and not isinstance(parent, str):
            problems.add(f"{path}.parent", "Must be a territory code or null.")
            parent = None
        item = _Territory(code=code, fields=fields, parent=parent or None)

        named = row.get("named_accounts") or []
        if not isinstance(named, list):
            problems.add(f"{path}.named_accounts", "Must be a list.")
            named = []
        for j, key in enumerate(named):
            kpath = f"{path}.named_accounts[{j}]"
            if isinstance(key, dict) and isinstance(key.get("domain"), str) and key["domain"].strip():
                domains.add(key["domain"].strip())
                item.named_keys.append(key)
            elif isinstance(key, dict) and isinstance(key.get("account_id"), int) and not isinstance(
                key.get("account_id"), bool
            ):
                account_ids.add(key["account_id"])
                item.named_keys.append(key)
            else:
                problems.add(kpath, "Name an account by {\"domain\": ...} or {\"account_id\": ...}.")

        reps = row.get("reps") or []
        if not isinstance(reps, list):
            problems.add(f"{path}.reps", "Must be a list.")
            reps = []
        for j, rep in enumerate(reps):
            rpath = f"{path}.reps[{j}]"
            if not isinstance(rep, dict):
                problems.add(rpath, "Must be an object.")
                continue
            unknown_keys(rep, {"username", "slot", "split_percent", "start_date", "end_date"}, rpath, problems)
            username = read_text(rep.get("username"), f"{rpath}.username", problems, max_length=150, required=True)
            usernames.add(username)
            start = read_date(rep.get("start_date"), f"{rpath}.start_date", problems, required=True)
            end = read_date(rep.get("end_date"), f"{rpath}.end_date", problems, required=False)
            if start and end and end < start:
                problems.add(f"{rpath}.end_date", "Ends before it starts.")
            item.reps.append({
                "path": rpath,
                "username": username,
                "slot": read_choice(rep.get("slot"), f"{rpath}.slot", problems, RepAssignment.Slot.values,
                                RepAssignment.Slot.PRIMARY),
                "split_percent": read_int(rep.get("split_percent", 100), f"{rpath}.split_percent", problems,
                                      low=0, high=100) or 0,
                "start_date": start,
                "end_date": end,
            })
        _check_primaries(item.reps, problems)

        quotas = row.get("quotas") or []
        if not isinstance(quotas, list):
            problems.add(f"{path}.quotas", "Must be a list.")
            quotas = []
        seen_periods: set[tuple[str, str]] = set()
        for j, quota in enumerate(quotas):
            qpath = f"{path}.quotas[{j}]"
            if not isinstance(quota, dict):
                problems.add(qpath, "Must be an object.")
                continue
            unknown_keys(quota, {"fiscal_year", "period", "amount", "ramp_factor", "username"}, qpath, problems)
            period = (str(quota.get("fiscal_year") or ""), str(quota.get("period") or ""))
            if period in seen_periods:
                problems.add(f"{qpath}.period", f"A second quota for {' '.join(period)}.")
            seen_periods.add(period)
            periods.add(period)
            carrier = quota.get("username")
            if carrier is not None:
                carrier = read_text(carrier, f"{qpath}.username", problems, max_length=150)
                usernames.add(carrier)
            item.quotas.append({
                "path": qpath,
                "period": period,
                "amount": read_decimal(quota.get("amount"), f"{qpath}.amount", problems, places=2,
                                   high=Decimal("999999999999.99")),
                "ramp_factor": read_decimal(quota.get("ramp_factor", "1"), f"{qpath}.ramp_factor", problems,
                                        places=3, high=Decimal("1")),
                "username": carrier or None,
            })
        checked.append(item)

    # --- references into the database, each resolved in one query
    users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=usernames - {""})}
    by_domain: dict[str, list[int]] = {}
    for pk, domain in Account.objects.filter(domain__in=domains).values_list("pk", "domain"):
        by_domain.setdefault(domain, []).append(pk)
    known_ids = set(Account.objects.filter(pk__in=account_ids).values_list("pk", flat=True))
    fy_names = {fy for fy, _ in periods}
    period_of = {
        (fy, name): pk
        for pk, fy, name in FiscalPeriod.objects.filter(fiscal_year__name__in=fy_names).values_list(
            "pk", "fiscal_year__name", "name"
        )
    }
    codes = {t.code.lower(): t.code for t in checked if t.code}
    for i, item in enumerate(checked):
        path = paths.get(item.code.lower(), f"territories[{i}]") if item.code else f"territories[{i}]"
        if item.parent is not None and item.parent.lower() not in codes:
            problems.add(f"{path}.parent", f"No territory {item.parent} in this file.")
            item.parent = None
        elif item.parent is not None:
            item.parent = codes[item.parent.lower()]
        resolved: list[int] = []
        for j, key in enumerate(item.named_keys):
            kpath = f"{path}.named_accounts[{j}]"
            if "domain" in key:
                found = by_domain.get(key["domain"].strip(), [])
                if len(found) != 1:
                    problems.add(kpath, f"{len(found)} accounts have the domain {key['domain']!r}; it must be one.")
                else:
                    resolved.append(found[0])
            elif key["account_id"] not in known_ids:
                problems.add(kpath, f"No account with id {key['account_id']}.")
            else:
                resolved.append(key["account_id"])
        item.named = sorted(set(resolved))
        for rep in item.reps:
            if rep["username"] and rep["username"] not in users:
                problems.add(f"{rep['path']}.username", f"No user {rep['username']!r}.")
            rep["user"] = users.get(rep["username"])
        for quota in item.quotas:
            if quota["period"] not in period_of:
                problems.add(f"{quota['path']}.period", f"No fiscal period {quota['period'][1]!r} in "
                                                         f"fiscal year {quota['period'][0]!r}.")
            quota["period_id"] = period_of.get(quota["period"])
            if quota["username"] and quota["username"] not in users:
                problems.add(f"{quota['path']}.username", f"No user {quota['username']!r}.")
            quota["user"] = users.get(quota["username"]) if quota["username"] else None

    ordered = _parents_first(checked, paths, problems)
    if problems.items:
        raise PlanImportError(problems.items)
    return _Checked(plan=plan, territories=ordered)


def _check_primaries(reps: list[dict[str, Any]], problems: Problems) -> None:
    """One primary at a time (end dates inclusive), as the assignment rules hold."""
    primaries = sorted((r for r in reps if r["slot"] == RepAssignment.Slot.PRIMARY and r["start_date"]),
                       key=lambda r: r["start_date"])
    for before, after in zip(primaries, primaries[1:], strict=False):
        if before["end_date"] is None or before["end_date"] >= after["start_date"]:
            problems.add(after["path"], "Overlaps another primary of this territory.")


def _parents_first(items: list[_Territory], paths: dict[str, str], problems: Problems) -> list[_Territory]:
    by_code = {t.code: t for t in items if t.code}
    ordered: list[_Territory] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    for start in items:
        chain: list[_Territory] = []
        node: _Territory | None = start
        while node is not None and state.get(node.code) is None:
            state[node.code] = 1
            chain.append(node)
            node = by_code.get(node.parent) if node.parent else None
        if node is not None and state.get(node.code) == 1:
            problems.add(f"{paths.get(node.code.lower(), 'territories')}.parent",
                         f"{node.code} is its own ancestor (the parents loop).")
        for done in reversed(chain):
            state[done.code] = 2
            ordered.append(done)
    return ordered


def _free_name(base: str) -> str:
    taken = {n.lower() for n in TerritoryPlan.objects.filter(name__istartswith=base).values_list("name", flat=True)}
    if base.lower() not in taken:
        return base
    n = 1
    while True:
        candidate = f"{base} (imported {n})" if n > 1 else f"{base} (imported)"
        if candidate.lower() not in taken:
            return candidate
        n += 1


def plan_import_check(*, document: Any, name: str | None = None) -> None:
    """Raises ``PlanImportError`` with every problem, or returns: the document can be imported."""
    _check(document, name=name)


@transaction.atomic
def plan_import(*, document: Any, name: str | None = None, by: Any = None) -> TerritoryPlan:
    """Imports a plan export as a new draft plan (its name from the file, made unique with
    "(imported)", or ``name``). Raises ``PlanImportError`` listing every problem, having written
    nothing."""
    checked = _check(document, name=name)
    plan = TerritoryPlan.objects.create(
        name=checked.plan["name"],
        description=checked.plan["description"],
        kind=checked.plan["kind"],
        status=TerritoryPlan.Status.DRAFT,
        fiscal_year=checked.plan["fiscal_year"],
        effective_date=checked.plan["effective_date"],
        created_by_id=getattr(by, "pk", None),
    )
    made: dict[str, Territory] = {}
    for item in checked.territories:
        territory = Territory.objects.create(
            plan=plan, code=item.code, parent=made.get(item.parent) if item.parent else None, **item.fields
        )
        made[item.code] = territory
    through = Territory.named_accounts.through
    through.objects.bulk_create([
        through(territory_id=made[item.code].pk, account_id=account_id)
        for item in checked.territories
        for account_id in item.named
    ])
    bulk_create_with_history([
        RepAssignment(territory=made[item.code], user=rep["user"], slot=rep["slot"],
                      split_percent=rep["split_percent"], start_date=rep["start_date"], end_date=rep["end_date"])
        for item in checked.territories
        for rep in item.reps
    ], RepAssignment, default_user=by, default_change_reason="Imported")
    bulk_create_with_history([
        Quota(territory=made[item.code], period_id=quota["period_id"], user=quota["user"], amount=quota["amount"],
              ramp_factor=quota["ramp_factor"])
        for item in checked.territories
        for quota in item.quotas
    ], Quota, default_user=by, default_change_reason="Imported")
    grants_sync(territories=list(made.values()))
    return plan
