"""What every territory write shares: the history stamp (who and why), the plan's version
stamp, the re-route and grant refresh after a change, and the input checks (rule, parent, code,
retired)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils.text import slugify

from routing import engine
from territories import hooks
from territories.grants import grants_sync
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()
Slot = RepAssignment.Slot

# Fields a territory form may set directly; the rest go through their own service.
EDITABLE_FIELDS = ("code", "name", "description", "type", "status", "priority", "is_overlay", "credit_percent",
                   "lead_assignment")
# Changing one of these can move accounts.
ROUTING_FIELDS = frozenset({"type", "status", "priority", "is_overlay", "credit_percent", "rule", "parent_id"})
REASON_MAX = 100  # simple-history's change_reason column


# --- helpers -----------------------------------------------------------------------------------


def plan_touch(*, plan: TerritoryPlan) -> None:
    """Marks every process's compiled copy of the plan stale (its version stamp, which the
    routing index is keyed on). Call after any change to the plan's territories, rules, named
    lists or tree."""
    TerritoryPlan.objects.filter(pk=plan.pk).update(version=F("version") + 1)
    plan.refresh_from_db(fields=["version"])
    plan_changed(plan_id=plan.pk)


def plan_changed(*, plan_id: int) -> None:
    """Tells the layers above that the plan's routing or staffing changed
    (``hooks.plan_changed``: planning marks its simulations stale)."""
    hooks.plan_changed.send(sender=None, plan_id=plan_id)


def stamp(instance: Territory | RepAssignment, *, by: AbstractBaseUser | None, reason: str) -> None:
    """Tags the next save of ``instance`` in history with who and why."""
    instance._history_user = by  # type: ignore[union-attr]
    instance._change_reason = reason[:REASON_MAX]  # type: ignore[union-attr]



def reroute(
    *,
    plan: TerritoryPlan,
    by: AbstractBaseUser | None,
    territory_ids: Iterable[int] = (),
    account_ids: Iterable[int] = (),
) -> list[Any]:
    """Starts the batch re-route for what a change touched, in the active plan only. The job
    itself waits for the commit. Returns the jobs started."""
    if not plan.is_active:
        return []
    territory_ids, account_ids = sorted(set(territory_ids)), sorted(set(account_ids))
    if not territory_ids and not account_ids:
        return []
    # ``routing`` connects the batch re-route (``hooks.routing_changed``); each receiver answers
    # the jobs it started.
    answered = hooks.answers(
        hooks.routing_changed, plan=plan, by=by, territory_ids=territory_ids, account_ids=account_ids
    )
    return [job for jobs in answered for job in jobs]


def grants_refresh(*, territories: Iterable[Territory] | None = None, users: Iterable[Any] | None = None) -> None:
    """Resynchronises object permissions after tree or assignment changes (when the grants
    materialise the role rules of DESIGN "Permissions")."""
    grants_sync(
        territories=list(territories) if territories is not None else None,
        users=list(users) if users is not None else None,
    )


def routing_changed(*, territory: Territory, territory_ids: Iterable[int], by: AbstractBaseUser | None) -> None:
    plan = territory.plan
    plan_touch(plan=plan)
    reroute(plan=plan, by=by, territory_ids=territory_ids)


def subtree_ids(territory: Territory) -> list[int]:
    return list(territory.descendants(include_self=True).values_list("pk", flat=True))


def code_suggest(*, plan: TerritoryPlan, name: str) -> str:
    """A readable code unique in the plan, from the name: "West Coast Health" -> WEST-COAST-HEALTH."""
    base = (slugify(name).upper() or "T")[:34].strip("-") or "T"
    taken = set(Territory.objects.filter(plan=plan, code__startswith=base).values_list("code", flat=True))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


def validated_rule(rule: Any) -> dict:
    return engine.validate(rule)  # raises engine.RuleError with each problem's path


def check_parent(*, territory: Territory | None, plan: TerritoryPlan, parent: Territory | None) -> None:
    if parent is None:
        return
    if parent.plan_id != plan.pk:
        raise ValidationError({"parent": "The parent must belong to the same plan."})
    if territory is not None and territory.pk is not None:
        if parent.pk == territory.pk:
            raise ValidationError({"parent": "A territory cannot be its own parent."})
        if parent.ancestors(include_self=True).filter(pk=territory.pk).exists():
            raise ValidationError({"parent": f"{parent} is inside {territory.code}: moving there would make a loop."})


_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def check_code(*, plan: TerritoryPlan, code: str, territory: Territory | None = None) -> None:
    if not _CODE_RE.match(code):
        raise ValidationError({"code": "Use letters, digits, '-', '_' or '.' (no spaces)."})
    clash = Territory.objects.filter(plan=plan, code__iexact=code)
    if territory is not None and territory.pk:
        clash = clash.exclude(pk=territory.pk)
    if clash.exists():
        raise ValidationError({"code": f"{code} is already used in {plan}."})


def refuse_retired(territory: Territory) -> None:
    """Retired territories are read-only: no edit, delete or new assignment (``ValidationError``)."""
    if territory.is_retired:
        raise ValidationError(retired_message(territory))


def refuse_locked(plan: TerritoryPlan | int) -> None:
    """A plan under review or staged is locked: what its approvers saw is what activates. Every
    territory, rule, named-list and rep-slot write refuses with ``ValidationError``.

    The status is read under the plan's row lock (``FOR NO KEY UPDATE``, which the edit holds until
    it commits; the edit's version stamp takes the same lock anyway): a submission (``FOR UPDATE``
    on the same row) either waits for the edit to commit, and sends the plan for review with it,
    or commits first, and the edit then reads "in review" and is refused. Without the lock an edit
    that read "draft" just before a submission could commit after it. Callers are atomic."""
    plan_id = plan.pk if isinstance(plan, TerritoryPlan) else plan
    row = TerritoryPlan.objects.select_for_update(no_key=True).filter(pk=plan_id).values_list("name", "status")
    locked = next(((name, status) for name, status in row if status in LOCKED_STATUSES), None)
    if locked is not None:
        name, status = locked
        raise ValidationError(
            f"{name} is {TerritoryPlan.Status(status).label.lower()}: it is locked against edits. "
            "Send it back to draft on its plan page to change it.",
            code="plan_locked",
        )


LOCKED_STATUSES = (TerritoryPlan.Status.REVIEW, TerritoryPlan.Status.STAGED)


def retired_message(territory: Territory) -> str:
    return (f"{territory.code} {territory.name} is retired: it is kept for its ownership history and can no "
            "longer be edited, deleted or given reps.")


def person_name(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else "nobody"
