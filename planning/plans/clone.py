"""Copy a plan into a new draft: every territory (code, name, type, status, priority, rule,
overlay credit, lead assignment), the hierarchy, the named-account lists and the rep slots in
force today or later. Set-based: four ``INSERT ... SELECT``/``UPDATE ... FROM`` statements that
match a copy to its source by territory code (unique in a plan, and kept by the copy), so the
database does the work and the cost does not grow with queries per row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from territories.grants import grants_rebuild
from territories.models import RepAssignment, Territory, TerritoryPlan, TerritoryUserObjectPermission

# The territory fields a copy carries over as they are (plan, parent and the timestamps are new).
COPIED_FIELDS = ("code", "name", "description", "type", "status", "priority", "rule", "is_overlay",
                 "credit_percent", "lead_assignment")
SLOT_FIELDS = ("user", "slot", "split_percent", "start_date", "end_date")
NAME_MAX: int = TerritoryPlan._meta.get_field("name").max_length or 120


def copy_name_suggest(source: TerritoryPlan) -> str:
    """A free name for a copy: "<source> (draft)", then "(draft 2)", ..."""
    taken = set(TerritoryPlan.objects.filter(name__startswith=source.name[:100]).values_list("name", flat=True))
    base = f"{source.name[:100]} (draft"
    name, n = f"{base})", 2
    while name in taken:
        name, n = f"{base} {n})", n + 1
    return name


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A plan needs a name."})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": f"A plan's name has at most {NAME_MAX} characters."})
    if TerritoryPlan.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"There is already a plan named {name}."})
    return name


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: Any, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _run(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _copy_territories(source: TerritoryPlan, plan: TerritoryPlan, now: dt.datetime) -> int:
    """Two statements: the territories (``INSERT ... SELECT``), then their parents, matched by code
    (unique in a plan, so the copy's parent is the territory with the source parent's code)."""
    t = _table(Territory)
    copied = ", ".join(_column(Territory, name) for name in COPIED_FIELDS)
    fresh = ", ".join(_column(Territory, name) for name in ("plan", "created_at", "updated_at", "version",
                                                            "lead_cursor"))
    made = _run(f"INSERT INTO {t} ({copied}, {fresh}) "  # noqa: S608 - names from the model
                f"SELECT {copied}, %s, %s, %s, 1, 0 FROM {t} WHERE {_column(Territory, 'plan')} = %s",
                [plan.pk, now, now, source.pk])
    plan_col, code, parent = _column(Territory, "plan"), _column(Territory, "code"), _column(Territory, "parent")
    _run(f"UPDATE {t} AS n SET {parent} = np.id FROM {t} AS o "  # noqa: S608
         f"JOIN {t} AS op ON op.id = o.{parent} JOIN {t} AS np ON np.{plan_col} = %s AND np.{code} = op.{code} "
         f"WHERE n.{plan_col} = %s AND o.{plan_col} = %s AND o.{code} = n.{code}",
         [plan.pk, plan.pk, source.pk])
    return made


def _copy_named_lists(source: TerritoryPlan, plan: TerritoryPlan) -> int:
    through = Territory.named_accounts.through
    t, nt = _table(Territory), _table(through)
    plan_col, code = _column(Territory, "plan"), _column(Territory, "code")
    territory, account = _column(through, "territory"), _column(through, "account")
    return _run(f"INSERT INTO {nt} ({territory}, {account}) SELECT n.id, x.{account} FROM {nt} AS x "  # noqa: S608
                f"JOIN {t} AS o ON o.id = x.{territory} JOIN {t} AS n ON n.{plan_col} = %s AND n.{code} = o.{code} "
                f"WHERE o.{plan_col} = %s", [plan.pk, source.pk])


def _copy_slots(source: TerritoryPlan, plan: TerritoryPlan, today: dt.date) -> int:
    """The rep slots in force today or starting later; ended ones stay the source's history."""
    t, rt = _table(Territory), _table(RepAssignment)
    plan_col, code = _column(Territory, "plan"), _column(Territory, "code")
    territory, end = _column(RepAssignment, "territory"), _column(RepAssignment, "end_date")
    kept = ", ".join(_column(RepAssignment, name) for name in SLOT_FIELDS)
    picked = ", ".join(f"r.{_column(RepAssignment, name)}" for name in SLOT_FIELDS)
    return _run(f"INSERT INTO {rt} ({territory}, {kept}) SELECT n.id, {picked} FROM {rt} AS r "  # noqa: S608
                f"JOIN {t} AS o ON o.id = r.{territory} JOIN {t} AS n ON n.{plan_col} = %s AND n.{code} = o.{code} "
                f"WHERE o.{plan_col} = %s AND (r.{end} IS NULL OR r.{end} >= %s)", [plan.pk, source.pk, today])


def _copy_grants(source: TerritoryPlan, plan: TerritoryPlan) -> int:
    """The copy's object permissions are its source's, territory by territory: grants are a function
    of the tree, the slots in force today and the org chart, and the copy has the same tree and the
    same slots (``grants_rebuild(plan=...)`` gives the same rows; a test holds the two together)."""
    t, gt = _table(Territory), _table(TerritoryUserObjectPermission)
    plan_col, code = _column(Territory, "plan"), _column(Territory, "code")
    obj, user, perm = (_column(TerritoryUserObjectPermission, name)
                       for name in ("content_object", "user", "permission"))
    return _run(f"INSERT INTO {gt} ({obj}, {user}, {perm}) SELECT n.id, g.{user}, g.{perm} FROM {gt} AS g "  # noqa: S608
                f"JOIN {t} AS o ON o.id = g.{obj} JOIN {t} AS n ON n.{plan_col} = %s AND n.{code} = o.{code} "
                f"WHERE o.{plan_col} = %s", [plan.pk, source.pk])


@transaction.atomic
def plan_copy(*, source: TerritoryPlan, name: str, by, today: dt.date | None = None) -> TerritoryPlan:
    """A new draft plan, a deep copy of ``source`` (any status) named ``name`` (unique; refused
    with ``ValidationError`` otherwise), for the same fiscal year. The grants for the copy's
    territories are materialised at once, so the people who cover a territory see it in the
    draft as they would in the source (who may open a draft at all is ``may_see_plan``)."""
    name = _check_name(name)
    now = timezone.now()
    today = today or timezone.localdate()
    plan = TerritoryPlan(name=name, description=f"Copied from {source.name}.", fiscal_year=source.fiscal_year,
                         kind=TerritoryPlan.Kind.ANNUAL, source_plan=source, created_by=by, created_at=now)
    plan._history_user = by  # type: ignore[attr-defined]
    plan._change_reason = f"Copied from {source.name}"[:100]  # type: ignore[attr-defined]
    plan.save()
    _copy_territories(source, plan, now)
    _copy_named_lists(source, plan)
    _copy_slots(source, plan, today)
    if source.is_active or source.is_staged or source.is_draft:
        _copy_grants(source, plan)
    else:  # an archived plan's slots may have ended since: its grants are not today's
        grants_rebuild(plan=plan)
    return plan


def territory_id_map(*, source: TerritoryPlan | int, target: TerritoryPlan | int) -> dict[int, int]:
    """Source territory id -> the target plan's territory with the same code (codes are unique in a
    plan and a copy keeps them): how a lock or a reference follows an account into another plan."""
    source_id = source.pk if isinstance(source, TerritoryPlan) else source
    target_id = target.pk if isinstance(target, TerritoryPlan) else target
    theirs = dict(Territory.objects.filter(plan_id=target_id).values_list("code", "pk"))
    return {pk: theirs[code] for pk, code in Territory.objects.filter(plan_id=source_id).values_list("pk", "code")
            if code in theirs}
